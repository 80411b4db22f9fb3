"""Expired firewall terms are never dropped silently: `netchange ci expiry` proposes their removal as a
new change request, naming the owner (`requested_by` of the change that added the term).

A filter is a whole object in a change request, so the terms on the devices are those of the latest
merged change defining the filter (merge order). A term's owner is the author of the change where it
first appeared and from which it stayed continuously present.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import git
import gitlab
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from .. import yamlio
from ..errors import InputError
from ..model.change import ChangeRequest
from ..model.firewall import Filter
from .api import GitLabContext, api_errors
from .gitrepo import CHANGES_DIR, git_cmd, load_change_text, read_blob, resolve
from .pending import Merged, merged_changes

BRANCH_PREFIX = "netchange/expiry/"


@dataclass(frozen=True)
class ExpiredTerm:
    filter: str
    term: str
    expires: dt.date
    owner: str
    added_in: str  # change id


@dataclass
class Proposal:
    filter: str
    source: Merged  # the latest change defining the filter
    expired: list[ExpiredTerm]
    change_id: str = ""
    text: str = ""
    problem: str | None = None  # set when no file can be proposed (a human decides)
    created: dict = field(default_factory=dict)  # where it went: path, branch, MR url

    @property
    def path(self) -> str:
        return f"{CHANGES_DIR}/{self.change_id}.yaml"

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.filter

    @property
    def owners(self) -> list[str]:
        return sorted({t.owner for t in self.expired})

    def as_dict(self) -> dict:
        return {"filter": self.filter, "source_change": self.source.change, "proposed_change": self.change_id or None,
                "path": self.path if self.text else None, "owners": self.owners, "problem": self.problem,
                "expired": [{"term": t.term, "expires": t.expires.isoformat(), "owner": t.owner, "added_in": t.added_in}
                            for t in self.expired], **self.created}


def _history(repo: git.Repo, ref: str) -> list[tuple[Merged, ChangeRequest]]:
    out = []
    for m in merged_changes(repo, ref):
        try:
            out.append((m, load_change_text(m.path, read_blob(repo, ref, m.path) or "")))
        except InputError:
            continue  # an invalid file defines nothing; validate reports it
    return out


def find_expired(repo: git.Repo, today: dt.date, ref: str = "HEAD") -> list[Proposal]:
    owners: dict[str, dict[str, tuple[str, str]]] = {}  # filter -> term -> (owner, change id)
    latest: dict[str, tuple[Merged, Filter]] = {}
    for m, change in _history(repo, ref):
        for f in change.firewall.filters:
            before = owners.get(f.name, {})
            owners[f.name] = {t.name: before.get(t.name, (change.requested_by, change.id)) for t in f.terms}
            latest[f.name] = (m, f)
    proposals = []
    for name, (m, f) in sorted(latest.items()):
        if f.state == "absent":
            continue
        expired = [ExpiredTerm(name, t.name, t.expires, *owners[name][t.name])
                   for t in f.terms if t.expires is not None and t.expires < today]
        if expired:
            p = Proposal(name, m, expired)
            if len(expired) == len(f.terms):
                p.problem = f"every term of {name} has expired; removing them all would leave an empty filter — decide by hand"
            proposals.append(p)
    return proposals


def next_ids(repo: git.Repo, ref: str, prefix: str, count: int) -> list[str]:
    """Fresh change ids after the highest existing one with *prefix*, same zero-padded width."""
    _, out, _ = git_cmd(repo, "ls-tree", "-r", "--name-only", resolve(repo, ref), "--", str(CHANGES_DIR))
    pat = re.compile(rf"^{re.escape(prefix)}-(\d+)\.yaml$")
    nums = [m.group(1) for m in (pat.match(line.rsplit("/", 1)[-1]) for line in out.splitlines()) if m]
    width = max((len(n) for n in nums), default=4)
    top = max((int(n) for n in nums), default=0)
    return [f"{prefix}-{top + i + 1:0{width}d}" for i in range(count)]


def render(p: Proposal, repo: git.Repo, ref: str, today: dt.date) -> str:
    """The proposed change request: the source change's targets and filter, minus the expired terms."""
    node = yamlio.load(p.source.path, read_blob(repo, ref, p.source.path) or "")
    src_filter = next(f for f in node["firewall"]["filters"] if f["name"] == p.filter)
    gone = {t.term for t in p.expired}
    new_filter = CommentedMap((k, v) for k, v in src_filter.items() if k != "terms")
    new_filter["terms"] = [t for t in src_filter["terms"] if t["name"] not in gone]
    doc = CommentedMap()
    doc["id"] = p.change_id
    doc["title"] = f"Remove expired terms from {p.filter}"
    lines = [f"Proposed by netchange ci expiry on {today.isoformat()}: these terms of {p.filter} (latest "
             f"definition in {p.source.change}) are past their expiry date.", ""]
    lines += [f"- {t.term}: expired {t.expires.isoformat()}, added in {t.added_in}, owner {t.owner}" for t in p.expired]
    lines += ["", "Merge to remove them. If a term is still needed, close this MR and extend its expires date "
              "in a new change request."]
    doc["description"] = "\n".join(lines) + "\n"
    doc["requested_by"] = ", ".join(p.owners)
    for key in ("risk", "strategy"):
        if key in node:
            doc[key] = node[key]
    doc["targets"] = node["targets"]
    doc["firewall"] = CommentedMap([("filters", [new_filter])])
    y = YAML(typ="rt", pure=True)
    y.width = 4096
    buf = io.StringIO()
    buf.write(f"# Proposed by `netchange ci expiry`: remove expired terms of {p.filter}; owner(s): {', '.join(p.owners)}\n")
    y.dump(doc, buf)
    text = buf.getvalue()
    load_change_text(p.path, text)  # never propose a file that would not validate
    return text


def prepare(repo: git.Repo, proposals: list[Proposal], today: dt.date, ref: str = "HEAD") -> None:
    """Give every proposable proposal a fresh id and its YAML text."""
    ready = [p for p in proposals if p.problem is None]
    for prefix in sorted({p.source.change.rsplit("-", 1)[0] for p in ready}):
        group = [p for p in ready if p.source.change.rsplit("-", 1)[0] == prefix]
        for p, cid in zip(group, next_ids(repo, ref, prefix, len(group))):
            p.change_id = cid
            p.text = render(p, repo, ref, today)


def open_merge_request(ctx: GitLabContext, p: Proposal, target_branch: str) -> None:
    """Branch + commit + MR through the API; an existing branch means it was proposed already."""
    project = ctx.project
    with api_errors(f"checking branch {p.branch}"):
        try:
            project.branches.get(p.branch)
            p.created = {"skipped": f"branch {p.branch} exists: proposed already"}
            return
        except gitlab.exceptions.GitlabGetError as e:
            if e.response_code != 404:
                raise
    title = f"{p.change_id}: remove expired terms from {p.filter}"
    with api_errors(f"committing {p.path} to {p.branch}"):
        project.commits.create({"branch": p.branch, "start_branch": target_branch, "commit_message": title,
                                "actions": [{"action": "create", "file_path": p.path, "content": p.text}]})
    owners = ", ".join(p.owners)
    desc = (f"Firewall terms past their expiry date in **{p.filter}** (owner: {owners}).\n\n"
            + "\n".join(f"- `{t.term}` expired {t.expires.isoformat()}, added in {t.added_in} by {t.owner}" for t in p.expired)
            + "\n\nProposed by `netchange ci expiry`. Merge to remove them, or close and extend `expires` in a new change.")
    with api_errors(f"opening an MR for {p.branch}"):
        mr = project.mergerequests.create({"source_branch": p.branch, "target_branch": target_branch, "title": title,
                                           "description": desc, "remove_source_branch": True})
    p.created = {"branch": p.branch, "merge_request": getattr(mr, "web_url", None) or f"!{mr.iid}"}


def to_markdown(proposals: list[Proposal], today: dt.date) -> str:
    if not proposals:
        return f"No firewall term is past its expiry date ({today.isoformat()})."
    out = [f"### Expired firewall terms ({today.isoformat()})", ""]
    for p in proposals:
        out.append(f"**{p.filter}** (latest definition {p.source.change}), owner(s): {', '.join(p.owners)}")
        out += [f"- `{t.term}` expired {t.expires.isoformat()}, added in {t.added_in} by {t.owner}" for t in p.expired]
        if p.problem:
            out.append(f"- :warning: {p.problem}")
        elif p.created.get("merge_request"):
            out.append(f"- proposed as {p.change_id}: {p.created['merge_request']}")
        elif p.created.get("skipped"):
            out.append(f"- {p.created['skipped']}")
        else:
            out.append(f"- proposed as `{p.created.get('written', p.path)}` (commit it as `{p.path}` in a new MR)")
        out.append("")
    return "\n".join(out)
