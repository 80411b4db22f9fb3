"""`netchange ci …`: the commands .gitlab-ci.yml runs (and people run by hand to see what CI sees)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from ..console import Messages

from .. import safefiles
from ..errors import InputError, Location, NetchangeError

ci = typer.Typer(no_args_is_help=True, add_completion=False,
                 help="GitLab workflow: MR checks, the deploy ledger, scheduled deploys, conflicts, expiry.")
err = Messages()

RemoteOpt = typer.Option(None, "--remote", help="git remote (or URL) holding the ledger; default $NETCHANGE_GIT_REMOTE or origin")
LocalOpt = typer.Option(False, "--local", help="use the local ledger only: no fetch, no push")
FormatOpt = typer.Option("text", "--format", help="text | json")
NowOpt = typer.Option(None, "--now", help="evaluate change windows at this ISO time (default: now)")


def register(app: typer.Typer) -> None:
    app.add_typer(ci, name="ci", help="GitLab workflow: MR checks, the deploy ledger, scheduled deploys, conflicts, expiry.")


def _now(value: Optional[str]) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.timezone.utc)
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"'{value}' is not an ISO date-time", Location("--now")) from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _format(fmt: str, allowed: tuple[str, ...] = ("text", "json")) -> str:
    if fmt not in allowed:
        raise InputError(f"unknown format '{fmt}' ({', '.join(allowed)})", Location("--format"))
    return fmt


def _emit(text: str, output: Optional[Path]) -> None:
    if text and not text.endswith("\n"):
        text += "\n"
    if output:
        safefiles.write_text(output, text)
    else:
        sys.stdout.write(text)


def _warn(ledger) -> None:
    """Say what the ledger refused to obey (forged, misplaced or malformed notes): once per problem."""
    for p in dict.fromkeys(ledger.problems):
        err.print(f"[bold yellow]warning[/] {p}", highlight=False, soft_wrap=True)


def _ledger(remote_name: Optional[str], local: bool):
    """The repository, its ledger, and the remote to sync with (None with --local), already fetched."""
    from .gitrepo import open_repo, remote
    from .ledger import Ledger

    repo = open_repo()
    ledger = Ledger(repo)
    rem = None if local else remote(remote_name)
    if rem is not None:
        ledger.fetch(rem)
    return repo, ledger, rem


@ci.command()
def changed(
    base: Optional[str] = typer.Option(None, "--base", help="diff base (default: $CI_MERGE_REQUEST_DIFF_BASE_SHA)"),
    max_changes: int = typer.Option(1, "--max", help="change requests allowed per MR (0: no limit)"),
    fmt: str = FormatOpt,
    output: Optional[Path] = typer.Option(None, "--output", "-o"),
    list_file: Optional[Path] = typer.Option(None, "--list", help="also write the paths, one a line, here"),
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Change requests this MR adds or modifies; fails if it breaks the MR rules."""
    from .changed import changed_files, check_rules, diff_base

    _format(fmt)
    repo, ledger, _ = _ledger(remote_name, local)
    b = diff_base(repo, base)
    files = changed_files(repo, b)
    problems = check_rules(files, ledger, max_changes)
    _warn(ledger)
    paths = "\n".join(f.path for f in files if f.status != "deleted")
    if list_file:
        _emit(paths, list_file)
    if fmt == "json":
        _emit(json.dumps({"base": b, "files": [f.as_dict() for f in files], "problems": problems}, indent=2), output)
    else:
        _emit(paths, output)
    for p in problems:
        err.print(f"[bold red]error[/] {p}", highlight=False, soft_wrap=True)
    raise typer.Exit(1 if problems else 0)


@ci.command()
def pending(
    show_all: bool = typer.Option(False, "--all", help="also merged changes that wait, missed their window, or are done"),
    fmt: str = FormatOpt,
    ref: str = typer.Option("HEAD", "--ref", help="the default branch's commit"),
    now: Optional[str] = NowOpt,
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Merged change requests not yet deployed and inside their window, in merge order."""
    from .pending import READY, candidates

    _format(fmt)
    repo, ledger, _ = _ledger(remote_name, local)
    found = [c for c in candidates(repo, ledger, _now(now), ref) if show_all or c.status == READY]
    _warn(ledger)
    if fmt == "json":
        _emit(json.dumps([c.as_dict() for c in found], indent=2), None)
    elif show_all:
        _emit("\n".join(f"{c.merged.path}\t{c.status}\t{c.reason}" for c in found), None)
    else:
        _emit("\n".join(c.merged.path for c in found), None)


@ci.command()
def deploy(
    report_dir: Path = typer.Option(Path("out/deploy"), "--report-dir", help="deploy reports go here"),
    deploy_args: Optional[list[str]] = typer.Option(None, "--deploy-arg", help="extra argument for `netchange deploy` (repeatable)"),
    ref: str = typer.Option("HEAD", "--ref"),
    now: Optional[str] = NowOpt,
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Deploy every pending change in merge order: claim it in the ledger, deploy, record the outcome."""
    from .deploy import SUCCESS, deploy_pending

    safefiles.make_dir(report_dir, "the report folder")  # before anything is claimed or deployed
    repo, ledger, rem = _ledger(remote_name, local)
    outcomes = deploy_pending(repo, ledger, rem, _now(now), report_dir, list(deploy_args or []), ref)
    _warn(ledger)
    if not outcomes:
        err.print("nothing to deploy")
    for o in outcomes:
        err.print(f"{o.change}: {o.state}" + (f" (exit {o.exit_code})" if o.exit_code is not None else ""))
    safefiles.write_text(report_dir / "outcomes.json", json.dumps([o.as_dict() for o in outcomes], indent=2) + "\n")
    raise typer.Exit(0 if all(o.state in (*SUCCESS, "skipped", "waiting") for o in outcomes) else 1)


@ci.command()
def claim(
    dotenv: Path = typer.Option(Path("claim.env"), "--dotenv", help="write NETCHANGE_CHANGE=... here (artifacts:reports:dotenv)"),
    ref: str = typer.Option("HEAD", "--ref"),
    now: Optional[str] = NowOpt,
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Claim the next pending change for a sharded deploy (one change per pipeline)."""
    from .deploy import claim_next

    if dotenv.is_dir():
        raise InputError("is a folder; name the dotenv file", Location(str(dotenv)))
    safefiles.make_dir(dotenv.parent, "the dotenv folder")  # before the claim: a claim nobody hears of is in doubt
    repo, ledger, rem = _ledger(remote_name, local)
    c = claim_next(repo, ledger, rem, _now(now), ref)
    _warn(ledger)
    values = {"NETCHANGE_CHANGE": "", "NETCHANGE_CHANGE_ID": "", "NETCHANGE_CHANGE_COMMIT": ""}
    if c is not None:
        values = {"NETCHANGE_CHANGE": c.merged.path, "NETCHANGE_CHANGE_ID": c.merged.change,
                  "NETCHANGE_CHANGE_COMMIT": c.merged.commit}
        err.print(f"claimed {c.merged.change} ({c.merged.path})")
    else:
        err.print("nothing to deploy")
    safefiles.write_text(dotenv, "".join(f"{k}={v}\n" for k, v in values.items()), "the dotenv file")


@ci.command("record")
def record_cmd(
    change: str = typer.Argument(..., help="change id (claimed earlier)"),
    outcome: str = typer.Option(..., "--outcome", help="deployed | rolled_back | no_op | refused | failed"),
    reports: Optional[list[Path]] = typer.Option(None, "--report", help="deploy report(s) to summarise"),
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Record the outcome of a (sharded) deploy of a claimed change."""
    from .deploy import _report_summary
    from .ledger import OUTCOMES, record

    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome '{outcome}' ({', '.join(OUTCOMES)})", Location("--outcome"))
    _, ledger, rem = _ledger(remote_name, local)
    e = ledger.entry(change)
    _warn(ledger)
    if e is None or e.state != "claimed":
        raise NetchangeError(f"{change} is not claimed in the ledger (state: {e.state if e else 'none'}); nothing recorded")
    summaries = [s for s in (_report_summary(p) for p in reports or []) if s]
    ledger.add_record(rem, e.commit, change, e.path, record(outcome, reports=summaries or None))
    err.print(f"{change}: {outcome} recorded")


@ci.command()
def release(
    change: str = typer.Argument(..., help="change id"),
    reason: str = typer.Option(..., "--reason", help="why it may be deployed again (kept in the ledger)"),
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Let the next schedule deploy a change again (after a lost runner or a fixed failure)."""
    from .ledger import RELEASED, record

    _, ledger, rem = _ledger(remote_name, local)
    e = ledger.entry(change)
    _warn(ledger)
    if e is None:
        raise NetchangeError(f"{change} is not in the ledger; nothing to release")
    if e.problem:
        raise NetchangeError(f"{change} is in doubt because {e.problem}: nothing released. Check the devices, then "
                             f"repair the note by hand: git notes --ref netchange-ledger edit {e.commit}")
    ledger.add_record(rem, e.commit, change, e.path, record(RELEASED, reason=reason))
    err.print(f"{change}: released")


@ci.command()
def adopt(
    ref: str = typer.Option("HEAD", "--ref"),
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Mark every merged change request as deployed before netchange kept a ledger (run once when adopting)."""
    from .ledger import ADOPTED, record
    from .pending import Merged, merged_changes

    repo, ledger, rem = _ledger(remote_name, local)
    todo: list[Merged] = []

    def edit(led) -> bool:
        known = led.entries()
        todo[:] = [m for m in merged_changes(repo, ref) if m.change not in known]
        for m in todo:
            led.append(m.commit, m.change, m.path, record(ADOPTED))
        return bool(todo)

    ledger.update(rem, edit)
    _warn(ledger)
    err.print(f"{len(todo)} change request(s) adopted" + (f": {', '.join(m.change for m in todo)}" if todo else ""))


@ci.command("ledger")
def ledger_cmd(
    fmt: str = FormatOpt,
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Print the deploy ledger (the git notes under refs/notes/netchange-ledger)."""
    _format(fmt)
    _, ledger, _ = _ledger(remote_name, local)
    entries = sorted(ledger.entries().values(), key=lambda e: (str(e.records[0].get("at", "")) if e.records else "", e.change))
    _warn(ledger)
    if fmt == "json":
        _emit(json.dumps([{"change": e.change, "commit": e.commit, "path": e.path, "state": e.state,
                           "records": list(e.records), "problem": e.problem} for e in entries], indent=2), None)
        return
    lines = []
    for e in entries:
        last = e.records[-1] if e.records else {}
        flag = ("  (in doubt: claimed, no outcome — check the devices, then `netchange ci release`)" if e.state == "claimed"
                else f"  (in doubt: {e.problem} — check the devices, then repair the note)" if e.problem else "")
        lines.append(f"{e.change}\t{e.state}\t{last.get('at', '')}\t{e.commit[:12]}\t{e.path}{flag}")
    _emit("\n".join(lines) if lines else "(empty ledger)", None)


@ci.command()
def conflicts(
    change_file: Path = typer.Argument(..., help="this MR's change request"),
    target: Optional[str] = typer.Option(None, "--target", help="default-branch ref for merged changes (default: fetch the MR's target branch, else HEAD)"),
    fmt: str = typer.Option("text", "--format", help="text | json | markdown"),
    output: Optional[Path] = typer.Option(None, "--output", "-o"),
    mr: Optional[int] = typer.Option(None, "--mr", help="this MR's iid, left out of the open MRs (default: $CI_MERGE_REQUEST_IID)"),
    now: Optional[str] = NowOpt,
    remote_name: Optional[str] = RemoteOpt,
    local: bool = LocalOpt,
) -> None:
    """Other change requests in flight (open MRs, merged but undeployed) touching the same objects on the same devices."""
    from ..project import Project, load_change
    from . import api
    from .conflicts import find_conflicts, merged_undeployed, open_merge_requests, to_markdown, to_text

    _format(fmt, ("text", "json", "markdown"))
    mine, _ = load_change(change_file)
    repo, ledger, rem = _ledger(remote_name, local)
    ref = target or _target_branch(repo, rem)
    others, warnings = merged_undeployed(repo, ledger, ref, _now(now))
    warnings += [str(p) for p in dict.fromkeys(ledger.problems)]
    if api.configured():
        ctx = api.connect()
        more, w = open_merge_requests(ctx, api.current_mr_iid(mr))
        others += more
        warnings += w
    else:
        warnings.append("open MRs not checked: no GitLab token (NETCHANGE_GITLAB_TOKEN)")
    report = find_conflicts(mine, others, Project.find(change_file.parent).inventory)
    report.warnings[:0] = warnings
    text = {"json": lambda: json.dumps(report.as_dict(), indent=2), "markdown": lambda: to_markdown(report),
            "text": lambda: to_text(report)}[fmt]()
    _emit(text, output)
    raise typer.Exit(1 if report.conflicts else 0)


def _target_branch(repo, rem) -> str:
    """In an MR pipeline, the target branch as it is now (changes merged since the MR branched count)."""
    from .gitrepo import git_cmd

    branch = os.environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    if not branch or rem is None:
        return "HEAD"
    local_ref = f"refs/netchange/target/{branch}"
    git_cmd(repo, "fetch", "--quiet", rem.name, f"+refs/heads/{branch}:{local_ref}", env=rem.env)
    return local_ref


@ci.command()
def expiry(
    today: Optional[str] = typer.Option(None, "--today", help="ISO date (default: today, UTC)"),
    ref: str = typer.Option("HEAD", "--ref"),
    write_dir: Optional[Path] = typer.Option(None, "--write-dir", help="without a token: write proposals here (default: the repository's policies/changes)"),
    report: Optional[Path] = typer.Option(None, "--report", help="markdown report here (default: stdout)"),
    json_report: Optional[Path] = typer.Option(None, "--json", help="JSON report here"),
) -> None:
    """Propose the removal of expired firewall terms as new change requests (MRs when a token is set)."""
    from . import api
    from .expiry import find_expired, open_merge_request, prepare, to_markdown
    from .gitrepo import open_repo, root

    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.timezone.utc).date()
    except ValueError:
        raise InputError(f"'{today}' is not an ISO date", Location("--today")) from None
    repo = open_repo()
    proposals = find_expired(repo, day, ref)
    prepare(repo, proposals, day, ref)
    ready = [p for p in proposals if p.text]
    if ready and api.configured():
        ctx = api.connect()
        target = os.environ.get("CI_DEFAULT_BRANCH") or repo.active_branch.name
        for p in ready:
            open_merge_request(ctx, p, target)
    elif ready:
        target_dir = safefiles.make_dir(write_dir or (root(repo) / "policies" / "changes"), "the proposal folder")
        for p in ready:
            path = safefiles.named_path(target_dir, p.change_id, ".yaml", "change id")
            safefiles.write_text(path, p.text, "the proposal")
            p.created = {"written": str(path)}
    _emit(to_markdown(proposals, day), report)
    if json_report:
        _emit(json.dumps([p.as_dict() for p in proposals], indent=2), json_report)


@ci.command()
def note(
    file: Path = typer.Option(..., "--file", help="markdown summary to post"),
    mr: Optional[int] = typer.Option(None, "--mr", help="MR iid (default: $CI_MERGE_REQUEST_IID)"),
) -> None:
    """Create or update the single netchange note on the merge request."""
    from . import api
    from .notes import upsert_note

    iid = api.current_mr_iid(mr)
    if iid is None:
        raise InputError("no merge request: pass --mr or run in a merge request pipeline", Location("--mr"))
    body = safefiles.read_text(file, safefiles.JSON_MAX)
    action, note_id = upsert_note(api.connect(), iid, body)
    err.print(f"note {note_id} on MR !{iid}: {action}")


@ci.command()
def summary(
    report_dir: Path = typer.Option(Path("out"), "--dir", help="the MR pipeline's report folder"),
    output: Optional[Path] = typer.Option(None, "--output", "-o"),
) -> None:
    """Compose the MR summary (markdown) from the MR pipeline's reports."""
    from .summary import compose

    _emit(compose(report_dir), output)


def main(argv: list[str] | None = None) -> int:
    """The whole netchange CLI with `ci` registered (until the root CLI registers it itself)."""
    from .. import cli as root

    if not any(g.name == "ci" for g in root.app.registered_groups):
        register(root.app)
    return root.main(argv)


if __name__ == "__main__":
    sys.exit(main())
