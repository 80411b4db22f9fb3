"""The deploy ledger, kept in git itself: one git note per commit that added a change request, under
refs/notes/netchange-ledger, pushed to the remote.

Plain git reads it (`git fetch origin refs/notes/netchange-ledger:refs/notes/netchange-ledger`, then
`git notes --ref netchange-ledger show <sha>`). Each note is JSON: for every change the commit added, the
list of records (claimed, then an outcome). Because it lives on the remote, it survives the loss of a runner.

Concurrency: every update fetches the remote ref (the remote is the truth), edits the note locally and
pushes *without* force. A push that is not a fast-forward is rejected: someone else updated the ledger
first, so we fetch again and re-decide. A change is claimed before it is deployed, so two overlapping
schedules never deploy it twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import git

from .gitrepo import GitError, Remote, git_cmd

NOTES_REF = "refs/notes/netchange-ledger"
FORMAT = "netchange-ledger/1"

CLAIMED = "claimed"
TAKEN, BUSY = "taken", "busy"  # why a claim did not happen
RELEASED = "released"
ADOPTED = "adopted"
# Outcomes of a deploy attempt, as `netchange deploy` reports them, plus `failed` (no report, crashed, usage).
OUTCOMES = ("deployed", "rolled_back", "no_op", "refused", "failed")
STATES = (CLAIMED, RELEASED, ADOPTED, *OUTCOMES)


class LedgerConflict(GitError):
    """The ledger kept moving under us (too many rejected pushes)."""


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def actor() -> str:
    """Who wrote a record: the CI job if there is one, else user@host."""
    job = os.environ.get("CI_JOB_URL") or (f"job {os.environ['CI_JOB_ID']}" if os.environ.get("CI_JOB_ID") else "")
    if job:
        return job
    return f"{os.environ.get('USER', 'unknown')}@{socket.gethostname()} pid {os.getpid()}"


def record(state: str, **detail: object) -> dict:
    if state not in STATES:
        raise ValueError(state)
    # A unique id: two deployers writing the same record in the same second would otherwise create the
    # identical notes commit, and the second "push" would succeed as a no-op — two winners of one claim.
    out = {"state": state, "at": now_iso(), "by": actor(), "id": uuid.uuid4().hex}
    if os.environ.get("CI_PIPELINE_ID"):
        out["pipeline"] = os.environ["CI_PIPELINE_ID"]
    out.update({k: v for k, v in detail.items() if v is not None})
    return out


@dataclass(frozen=True)
class Entry:
    """One change's history in the ledger."""

    change: str
    commit: str
    path: str
    records: tuple[dict, ...]

    @property
    def state(self) -> str | None:
        return self.records[-1]["state"] if self.records else None

    @property
    def blocks_deploy(self) -> bool:
        """Anything but 'released' means: never deploy this change (again) automatically. A claim without
        an outcome is a deploy in doubt (runner lost mid-way): a human looks at it and releases it."""
        return self.state not in (None, RELEASED)


class Ledger:
    def __init__(self, repo: git.Repo, ref: str = NOTES_REF):
        self.repo = repo
        self.ref = ref

    # -- reading ---------------------------------------------------------------------------------
    def note(self, commit: str) -> dict:
        status, out, _ = git_cmd(self.repo, "notes", f"--ref={self.ref}", "show", commit, check=False)
        if status != 0:
            return {"format": FORMAT, "commit": commit, "changes": {}}
        try:
            doc = json.loads(out)
        except json.JSONDecodeError:
            raise GitError(f"ledger note on {commit[:12]} is not netchange JSON; fix it with "
                           f"`git notes --ref {self.ref} edit {commit}`") from None
        doc.setdefault("changes", {})
        return doc

    def entries(self) -> dict[str, Entry]:
        """Every change the ledger knows, by change id."""
        status, out, _ = git_cmd(self.repo, "notes", f"--ref={self.ref}", "list", check=False)
        found: dict[str, Entry] = {}
        if status != 0:
            return found
        for line in out.splitlines():
            parts = line.split()
            if len(parts) != 2:
                continue
            commit = parts[1]
            for cid, e in self.note(commit)["changes"].items():
                found[cid] = Entry(cid, commit, e.get("path", ""), tuple(e.get("records", ())))
        return found

    def entry(self, change: str) -> Entry | None:
        return self.entries().get(change)

    # -- writing (local) -------------------------------------------------------------------------
    def append(self, commit: str, change: str, path: str, rec: dict) -> None:
        doc = self.note(commit)
        e = doc["changes"].setdefault(change, {"path": path, "records": []})
        e["records"].append(rec)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(json.dumps(doc, indent=2) + "\n")
        try:
            git_cmd(self.repo, "notes", f"--ref={self.ref}", "add", "-f", "-F", f.name, commit)
        finally:
            Path(f.name).unlink(missing_ok=True)

    # -- syncing with the remote -----------------------------------------------------------------
    def fetch(self, remote: Remote) -> None:
        """Make the local ledger equal the remote's (the remote is the truth; local leftovers are dropped)."""
        status, _, err = git_cmd(self.repo, "fetch", "--quiet", remote.name, f"+{self.ref}:{self.ref}",
                                 env=remote.env, check=False)
        if status == 0:
            return
        if "couldn't find remote ref" in err.lower() or "could not find remote ref" in err.lower():
            # No ledger on the remote yet: start from nothing, never from a stale local one.
            git_cmd(self.repo, "update-ref", "-d", self.ref, check=False)
            return
        from .secrets import mask

        raise GitError(f"cannot fetch the ledger from '{mask(remote.name)}': {mask(err.strip())}")

    def push(self, remote: Remote) -> bool:
        """Push without force. False if rejected because the remote moved (someone else wrote first)."""
        status, out, err = git_cmd(self.repo, "push", "--porcelain", remote.name, f"{self.ref}:{self.ref}",
                                   env=remote.env, check=False)
        if status == 0:
            return True
        text = (out + err).lower()
        if any(s in text for s in ("non-fast-forward", "[rejected]", "fetch first", "stale info", "cannot lock ref",
                                   "failed to update ref", "incorrect old value")):
            return False
        from .secrets import mask

        raise GitError(f"cannot push the ledger to '{mask(remote.name)}': {mask(err.strip() or out.strip())}")

    def update(self, remote: Remote | None, change: Callable[["Ledger"], bool], attempts: int = 12) -> bool:
        """Fetch, let *change* edit the local ledger (it returns False to give up: nothing to write),
        push; on rejection start over. Returns whether our edit landed. Without a remote, edit locally."""
        if remote is None:
            return change(self)
        for attempt in range(attempts):
            self.fetch(remote)
            if not change(self):
                return False
            if self.push(remote):
                return True
            time.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise LedgerConflict(f"the ledger on '{remote.name}' changed {attempts} times while we tried to write; try again")

    # -- the two operations deploys need ----------------------------------------------------------
    def claim(self, remote: Remote | None, commit: str, change: str, path: str) -> str:
        """Claim *change* for deployment. Returns CLAIMED, or why not: TAKEN (the ledger already has it:
        someone claimed or deployed it, possibly a moment ago) or BUSY (another change is claimed and has no
        outcome yet: deploys go one at a time, in merge order, and a deploy in doubt stops the line)."""
        result = TAKEN

        def edit(ledger: Ledger) -> bool:
            nonlocal result
            entries = ledger.entries()
            e = entries.get(change)
            if e is not None and e.blocks_deploy:
                result = TAKEN
                return False
            if any(x.state == CLAIMED for x in entries.values()):
                result = BUSY
                return False
            ledger.append(commit, change, path, record(CLAIMED))
            result = CLAIMED
            return True

        self.update(remote, edit)
        return result

    def add_record(self, remote: Remote | None, commit: str, change: str, path: str, rec: dict) -> None:
        def edit(ledger: Ledger) -> bool:
            ledger.append(commit, change, path, rec)
            return True

        self.update(remote, edit)
