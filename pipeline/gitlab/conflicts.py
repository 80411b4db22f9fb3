"""Two authors must never silently overwrite each other: a change conflicts with another change request —
an open MR's, or one merged but not yet deployed — when both touch the same object (kind + name, or the
same neighbor binding) on the same device."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import git

from ..errors import InputError, NetchangeError
from ..inventory import Inventory
from ..model.change import ChangeRequest
from ..model.resolve import binding_applies, host_bindings, placed_objects
from ..plan.run import targets
from .api import GitLabContext, api_errors
from .gitrepo import is_change_path, load_change_text
from .ledger import Ledger
from .pending import DONE, candidates

Touch = tuple[str, str, str]  # (device, kind, name)


def touched(change: ChangeRequest, inventory: Inventory) -> set[Touch]:
    """Every (device, kind, name) the change writes: the objects that go to each target (their scope, or
    where something of the change uses them) and its bindings as they resolve there (a neighbor named by host
    or description is that device's address, per family), so `neighbor: r2` and r2's address collide."""
    out: set[Touch] = set()
    for h in targets(change, inventory):
        try:
            bindings = host_bindings(change, h, inventory.hosts)
            here = placed_objects(change, h, bindings)
        except InputError:  # a name that does not resolve here (validation reports it): the binding as written
            bindings = []
            here = {(kind, obj.name) for kind, obj in change.objects()}
            out |= {(h.name, "binding", " ".join(b.key)) for b in change.routing.bindings if binding_applies(b, h)}
        out |= {(h.name, kind, name) for kind, name in here}
        out |= {(h.name, "binding", " ".join(b.key)) for b in bindings}
    return out


@dataclass(frozen=True)
class Other:
    """Another change request in flight, and where it comes from (for the message)."""

    change: ChangeRequest
    source: str
    url: str | None = None


@dataclass(frozen=True)
class Conflict:
    other: str
    source: str
    url: str | None
    overlaps: tuple[Touch, ...]

    def as_dict(self) -> dict:
        return {"change": self.other, "source": self.source, "url": self.url,
                "overlaps": [{"device": d, "kind": k, "name": n} for d, k, n in self.overlaps]}


@dataclass
class ConflictReport:
    change: str
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"change": self.change, "conflicts": [c.as_dict() for c in self.conflicts], "warnings": self.warnings}


def find_conflicts(mine: ChangeRequest, others: list[Other], inventory: Inventory) -> ConflictReport:
    report = ConflictReport(mine.id)
    my_touch = touched(mine, inventory)
    for o in others:
        if o.change.id == mine.id:
            continue
        try:
            theirs = touched(o.change, inventory)
        except NetchangeError as e:
            report.warnings.append(f"{o.change.id} ({o.source}): cannot resolve its targets: {e}")
            continue
        both = sorted(my_touch & theirs)
        if both:
            report.conflicts.append(Conflict(o.change.id, o.source, o.url, tuple(both)))
    return report


def merged_undeployed(repo: git.Repo, ledger: Ledger, ref: str, now: dt.datetime) -> tuple[list[Other], list[str]]:
    """Changes merged on *ref* the ledger has not seen deployed (ready, waiting or missed their window)."""
    others, warnings = [], []
    for c in candidates(repo, ledger, now, ref):
        if c.status == DONE:
            continue
        if c.change is None:
            warnings.append(f"{c.merged.path} on {ref}: {c.reason}")
            continue
        others.append(Other(c.change, f"merged in {c.merged.commit[:12]}, not deployed ({c.status})"))
    return others, warnings


def open_merge_requests(ctx: GitLabContext, exclude_iid: int | None) -> tuple[list[Other], list[str]]:
    """Change requests proposed by the project's other open MRs (their version at the MR's head)."""
    others, warnings = [], []
    project = ctx.project
    with api_errors("listing open merge requests"):
        mrs = list(project.mergerequests.list(state="opened", iterator=True))
    for mr in mrs:
        if exclude_iid is not None and mr.iid == exclude_iid:
            continue
        with api_errors(f"reading the diffs of MR !{mr.iid}"):
            diffs = ctx.gl.http_list(f"/projects/{mr.project_id}/merge_requests/{mr.iid}/diffs", get_all=True)
        for d in diffs:
            path = d.get("new_path", "")
            if d.get("deleted_file") or not is_change_path(path):
                continue
            with api_errors(f"reading {path} of MR !{mr.iid}"):
                raw = project.files.raw(file_path=path, ref=mr.sha)
            text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
            try:
                change = load_change_text(path, text)
            except InputError as e:
                warnings.append(f"MR !{mr.iid} {PurePosixPath(path).name}: not a valid change request ({str(e).splitlines()[0]})")
                continue
            author = (mr.author or {}).get("username", "?")
            others.append(Other(change, f"open MR !{mr.iid} by @{author}: {mr.title}", getattr(mr, "web_url", None)))
    return others, warnings


def to_markdown(report: ConflictReport) -> str:
    if not report.conflicts:
        lines = [f"No other change request in flight touches what {report.change} touches."]
    else:
        lines = [f":warning: **{len(report.conflicts)} change request(s) in flight touch the same objects as "
                 f"{report.change}** — coordinate with their authors; whichever deploys second overwrites the first.", ""]
        for c in report.conflicts:
            src = f"[{c.source}]({c.url})" if c.url else c.source
            lines.append(f"- **{c.other}** ({src}):")
            lines += [f"  - `{k} {n}` on {d}" for d, k, n in c.overlaps]
    lines += [f"- note: {w}" for w in report.warnings]
    return "\n".join(lines)


def to_text(report: ConflictReport) -> str:
    if not report.conflicts:
        out = [f"{report.change}: no conflicts"]
    else:
        out = [f"{report.change}: conflicts with {len(report.conflicts)} change request(s)"]
        for c in report.conflicts:
            out.append(f"  {c.other} ({c.source})")
            out += [f"    {d}: {k} {n}" for d, k, n in c.overlaps]
    out += [f"warning: {w}" for w in report.warnings]
    return "\n".join(out)
