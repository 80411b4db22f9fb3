"""Merged change requests not yet deployed, in merge order, with whether their window is open now.

Merge order is the default branch's first-parent history: each first-parent commit is one merge (or one
squash/direct commit), so the commit that *added* a change request there is where its ledger note lives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import git

from ..errors import InputError
from ..model.change import ChangeRequest
from .gitrepo import CHANGES_DIR, change_id, git_cmd, is_change_path, load_change_text, read_blob, resolve
from .ledger import Entry, Ledger

READY, WAITING, MISSED, INVALID, DONE = "ready", "waiting", "missed", "invalid", "done"


@dataclass(frozen=True)
class Merged:
    """A change request on the default branch and the first-parent commit that added it."""

    change: str
    path: str
    commit: str
    merged_at: dt.datetime


@dataclass(frozen=True)
class Candidate:
    merged: Merged
    status: str  # READY | WAITING | MISSED | INVALID | DONE
    reason: str
    change: ChangeRequest | None = None
    ledger: Entry | None = None

    def as_dict(self) -> dict:
        m = self.merged
        return {"change": m.change, "path": m.path, "commit": m.commit, "merged_at": m.merged_at.isoformat(),
                "status": self.status, "reason": self.reason,
                "ledger_state": self.ledger.state if self.ledger else None}


def merged_changes(repo: git.Repo, ref: str = "HEAD") -> list[Merged]:
    """Change requests present at *ref*, in the order their adding commit joined its first-parent line."""
    head = resolve(repo, ref)
    _, out, _ = git_cmd(repo, "log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--no-renames",
                        "--diff-filter=A", "--name-only", "--format=%x00%H %ct", head, "--", str(CHANGES_DIR))
    added: dict[str, Merged] = {}
    commit, when = "", dt.datetime.fromtimestamp(0, dt.timezone.utc)
    for line in out.splitlines():
        if line.startswith("\x00"):
            sha, ts = line[1:].split()
            commit, when = sha, dt.datetime.fromtimestamp(int(ts), dt.timezone.utc)
        elif line and is_change_path(line):
            added.pop(line, None)  # re-added later: the latest addition is the one that counts
            added[line] = Merged(change_id(line), line, commit, when)
    tree = repo.commit(head).tree
    present = []
    for path, m in added.items():
        try:
            tree / path
        except KeyError:
            continue  # deleted again before it was deployed
        present.append(m)
    return present


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def candidates(repo: git.Repo, ledger: Ledger, now: dt.datetime, ref: str = "HEAD") -> list[Candidate]:
    """Every merged change request with its status; READY ones are deployable now, in this order."""
    entries = ledger.entries()
    out = []
    for m in merged_changes(repo, ref):
        entry = entries.get(m.change)
        if entry is not None and entry.blocks_deploy:
            out.append(Candidate(m, DONE, f"ledger: {entry.state}", ledger=entry))
            continue
        try:
            change = load_change_text(m.path, read_blob(repo, ref, m.path) or "")
        except InputError as e:
            out.append(Candidate(m, INVALID, str(e).splitlines()[0], ledger=entry))
            continue
        w = change.window
        if w is None or w.contains(now):
            out.append(Candidate(m, READY, "no change window" if w is None else "inside its change window", change, entry))
        elif _aware(now) < _aware(w.not_before):
            out.append(Candidate(m, WAITING, f"window opens {w.not_before.isoformat()}", change, entry))
        else:
            out.append(Candidate(m, MISSED, f"window closed {w.not_after.isoformat()}; edit the window in a new MR",
                                 change, entry))
    return out


def pending(repo: git.Repo, ledger: Ledger, now: dt.datetime, ref: str = "HEAD") -> list[Candidate]:
    """Merged, not deployed, inside their window: what a scheduled pipeline deploys, in merge order."""
    return [c for c in candidates(repo, ledger, now, ref) if c.status == READY]
