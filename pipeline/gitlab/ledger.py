"""The deploy ledger, kept in git itself: one git note per commit that added a change request, under
refs/notes/netchange-ledger, pushed to the remote.

Plain git reads it (`git fetch origin refs/notes/netchange-ledger:refs/notes/netchange-ledger`, then
`git notes --ref netchange-ledger show <sha>`). Each note is JSON: for every change the commit added, the
list of records (claimed, then an outcome). Because it lives on the remote, it survives the loss of a runner.

Concurrency: every update is a compare-and-swap. It takes the ledger as it is (fetched from the remote
first, the remote being the truth), edits a private copy, and publishes it only if nobody wrote
meanwhile: a push *without* force to the remote, or `git update-ref <ref> <new> <old>` with `--local`.
If someone wrote first, it reads again and re-decides. A change is claimed before it is deployed, so two
overlapping schedules (or two `ci claim --local` in one checkout) never deploy it twice.

Trust: a change's records count only in the note on the commit that added its change request, and each
record names that commit and change. Records anywhere else, malformed notes, and records copied from
another commit are reported (Ledger.problems), never obeyed and never a crash; when the note on the
adding commit itself cannot be trusted, the change is in doubt and nothing deploys until a human looks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import git

from .gitrepo import CHANGES_DIR, GitError, Remote, change_id, git_cmd, is_change_path

NOTES_REF = "refs/notes/netchange-ledger"
ZERO_OID = "0" * 40  # update-ref's "must not exist yet"
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
    out: dict[str, object] = {"state": state, "at": now_iso(), "by": actor(), "id": uuid.uuid4().hex}
    if os.environ.get("CI_PIPELINE_ID"):
        out["pipeline"] = os.environ["CI_PIPELINE_ID"]
    out.update({k: v for k, v in detail.items() if v is not None})
    return out


IN_DOUBT = "unreadable"  # Entry.state when the note on the change's commit cannot be trusted
MAX_NOTE_BYTES = 4 * 1024 * 1024  # a real note is a few KB; a forged giant one is not read


@dataclass(frozen=True)
class Problem:
    """A note (or part of one) the ledger refused to obey, and why."""

    commit: str
    reason: str
    change: str | None = None

    def __str__(self) -> str:
        return f"ledger note on {self.commit[:12]}" + (f" ({self.change})" if self.change else "") + f": {self.reason}"

    def as_dict(self) -> dict:
        return {"commit": self.commit, "change": self.change, "reason": self.reason}


@dataclass(frozen=True)
class Entry:
    """One change's history in the ledger: the note on the commit that added the change request."""

    change: str
    commit: str
    path: str
    records: tuple[dict, ...]
    problem: str | None = None  # set when that note cannot be trusted: the change is in doubt

    @property
    def state(self) -> str | None:
        if self.problem:
            return IN_DOUBT
        return self.records[-1]["state"] if self.records else None

    @property
    def blocks_deploy(self) -> bool:
        """Anything but 'released' means: never deploy this change (again) automatically. A claim without
        an outcome is a deploy in doubt (runner lost mid-way), and so is a note netchange cannot read: a
        human looks at it and releases (or repairs) it."""
        return self.state not in (None, RELEASED)

    @property
    def in_flight(self) -> bool:
        """Claimed without an outcome (or unreadable, so possibly that): other changes wait for it."""
        return self.state in (CLAIMED, IN_DOUBT)


def parse_note(commit: str, text: str) -> tuple[dict | None, str | None]:
    """(document, None) for a well-formed note on *commit*, else (None, why not)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None, "is not JSON"
    if not isinstance(doc, dict):
        return None, f"is JSON {type(doc).__name__}, not an object"
    if doc.get("format", FORMAT) != FORMAT:
        return None, f"has format {doc.get('format')!r}, not {FORMAT}"
    if doc.get("commit", commit) != commit:
        return None, f"names commit {str(doc.get('commit'))[:12]}: it was written for another commit"
    if not isinstance(doc.get("changes", {}), dict):
        return None, "has 'changes' that is not an object"
    doc.setdefault("changes", {})
    doc.setdefault("format", FORMAT)
    doc.setdefault("commit", commit)
    return doc, None


def parse_entry(commit: str, change: str, path: str, e: object) -> tuple[tuple[dict, ...], str | None]:
    """The records of *change* in the note on *commit* (which added *path*), and the first thing wrong."""
    if not isinstance(e, dict) or not isinstance(e.get("records"), list):
        return (), "is not an object with a list of records"
    if e.get("path", path) != path:
        return (), f"names path {e.get('path')!r}, but this commit added {path}"
    good, problem = [], None
    for i, r in enumerate(e["records"]):
        if not isinstance(r, dict):
            problem = problem or f"record {i + 1} is {type(r).__name__}, not an object"
        elif r.get("state") not in STATES:
            problem = problem or f"record {i + 1} has no known state ({r.get('state')!r})"
        elif r.get("commit", commit) != commit:
            problem = problem or f"record {i + 1} names commit {str(r.get('commit'))[:12]}: copied from another commit"
        elif r.get("change", change) != change:
            problem = problem or f"record {i + 1} names change {r.get('change')!r}"
        else:
            good.append(r)
    return tuple(good), problem


# commit -> {change id: path} of the change requests it added; a commit never changes, so this is kept.
_ADDED: dict[tuple[str, str], dict[str, str]] = {}


def added_changes(repo: git.Repo, commits: list[str]) -> dict[str, dict[str, str]]:
    """For each commit, the change requests it added relative to its first parent (the same rule that
    places a change's note when it is merged): only there may records of that change live."""
    key = str(repo.git_dir)
    todo = sorted({c for c in commits if (key, c) not in _ADDED})
    for i in range(0, len(todo), 2000):
        chunk = todo[i:i + 2000]
        found: dict[str, dict[str, str]] = {c: {} for c in chunk}
        status, out, _ = git_cmd(repo, "log", "--no-walk=unsorted", "--diff-merges=first-parent", "--no-renames",
                                 "--diff-filter=A", "--name-only", "--format=%x00%H", *chunk, "--",
                                 str(CHANGES_DIR), check=False)
        if status != 0:  # an object git cannot read: none of these commits vouches for anything
            continue
        commit = ""
        for line in out.splitlines():
            if line.startswith("\x00"):
                commit = line[1:].strip()
            elif line and commit in found and is_change_path(line):
                found[commit][change_id(line)] = line
        for c, changes in found.items():
            _ADDED[(key, c)] = changes
    return {c: _ADDED.get((key, c), {}) for c in commits}


class Ledger:
    def __init__(self, repo: git.Repo, ref: str = NOTES_REF):
        self.repo = repo
        self.ref = ref
        self.problems: list[Problem] = []  # what the last read refused to obey

    # -- reading ---------------------------------------------------------------------------------
    def _notes(self) -> list[tuple[str, str]]:
        """(note blob, annotated commit) of every note under our ref."""
        status, out, _ = git_cmd(self.repo, "notes", f"--ref={self.ref}", "list", check=False)
        if status != 0:
            return []
        pairs = [line.split() for line in out.splitlines()]
        return [(p[0], p[1]) for p in pairs if len(p) == 2]

    def _text(self, blob: str) -> str | None:
        """A note's text, or None when it is too large to be one of ours."""
        binsha = bytes.fromhex(blob)
        if self.repo.odb.info(binsha).size > MAX_NOTE_BYTES:
            return None
        return self.repo.odb.stream(binsha).read().decode("utf-8", errors="replace")

    def note(self, commit: str) -> dict:
        """The note on *commit* to add a record to: empty if there is none; a note that is not ours to
        read is an error (never overwritten: a human repairs it)."""
        status, out, _ = git_cmd(self.repo, "notes", f"--ref={self.ref}", "list", commit, check=False)
        if status != 0:
            return {"format": FORMAT, "commit": commit, "changes": {}}
        text = self._text(out.strip())
        doc, problem = parse_note(commit, text) if text is not None else (None, "is too large")
        if problem:
            raise GitError(f"ledger note on {commit[:12]} {problem}; nothing was written. Look at it with "
                           f"`git notes --ref {NOTES_REF} show {commit}` and repair or remove it")
        assert doc is not None  # parse_note gives a document or a problem
        return doc

    def read(self) -> tuple[dict[str, Entry], list[Problem]]:
        """Every change the ledger knows (by change id), and every note or record it refused to obey.

        A change's records count only in the note on the commit that added its change request; records
        elsewhere (a forged `released` on another commit) are reported and ignored. A note on that commit
        which cannot be read, or a record in it that is malformed or names another commit or change, puts
        the change in doubt: it is not deployed automatically and other changes wait, until a human looks."""
        notes = self._notes()
        added = added_changes(self.repo, [c for _, c in notes])
        problems: list[Problem] = []
        found: dict[str, list[Entry]] = {}
        for blob, commit in notes:
            mine = added[commit]
            text = self._text(blob)
            doc, bad = parse_note(commit, text) if text is not None else (None, "is too large")
            if bad:
                problems.append(Problem(commit, bad + (f"; in doubt: {', '.join(sorted(mine))}" if mine else "; ignored")))
                for cid, path in mine.items():
                    found.setdefault(cid, []).append(Entry(cid, commit, path, (), f"its ledger note {bad}"))
                continue
            assert doc is not None  # parse_note gives a document or a problem
            for cid, e in doc["changes"].items():
                if cid not in mine:
                    problems.append(Problem(commit, f"holds records of {cid!r}, but this commit did not add "
                                                    f"{CHANGES_DIR}/{cid}.yaml; ignored", str(cid)))
                    continue
                records, bad = parse_entry(commit, cid, mine[cid], e)
                if bad:
                    problems.append(Problem(commit, f"{bad}; {cid} is in doubt", cid))
                found.setdefault(cid, []).append(Entry(cid, commit, mine[cid], records, bad))
        return {cid: _authoritative(es) for cid, es in found.items()}, problems

    def entries(self) -> dict[str, Entry]:
        """Every change the ledger knows, by change id (see read; the refusals land in self.problems)."""
        entries, self.problems[:] = self.read()
        return entries

    def entry(self, change: str) -> Entry | None:
        return self.entries().get(change)

    # -- writing (local) -------------------------------------------------------------------------
    def append(self, commit: str, change: str, path: str, rec: dict) -> None:
        """Add *rec* to the note on *commit* (under this Ledger's ref). The record names its commit and
        change, so a copy of it anywhere else is recognised as one."""
        doc = self.note(commit)
        e = doc["changes"].setdefault(change, {"path": path, "records": []})
        e["records"].append({**rec, "commit": commit, "change": change})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(json.dumps(doc, indent=2) + "\n")
        try:
            git_cmd(self.repo, "notes", f"--ref={self.ref}", "add", "-f", "-F", f.name, commit)
        finally:
            Path(f.name).unlink(missing_ok=True)

    # -- syncing with the remote -----------------------------------------------------------------
    def fetch(self, remote: Remote) -> None:
        """Make the local ledger equal the remote's (the remote is the truth; local leftovers are dropped)."""
        status, _, err = git_cmd(self.repo, "fetch", "--quiet", remote.name, f"+{NOTES_REF}:{self.ref}",
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
        """Push this Ledger's ref to the remote's ledger without force. False if rejected because the remote
        moved (someone else wrote first)."""
        status, out, err = git_cmd(self.repo, "push", "--porcelain", remote.name, f"{self.ref}:{NOTES_REF}",
                                   env=remote.env, check=False)
        if status == 0:
            return True
        text = (out + err).lower()
        if any(s in text for s in ("non-fast-forward", "[rejected]", "fetch first", "stale info", "cannot lock ref",
                                   "failed to update ref", "incorrect old value")):
            return False
        from .secrets import mask

        raise GitError(f"cannot push the ledger to '{mask(remote.name)}': {mask(err.strip() or out.strip())}")

    def _value(self, ref: str) -> str | None:
        status, out, _ = git_cmd(self.repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return out.strip() if status == 0 and out.strip() else None

    def update(self, remote: Remote | None, change: Callable[["Ledger"], bool], attempts: int = 12) -> bool:
        """Compare-and-swap, with or without a remote: take the ledger as it is now (fetched first when
        there is a remote), let *change* edit a private copy (it returns False to give up: nothing to
        write), then publish the copy only if the ledger has not moved meanwhile — by a push without force
        to the remote, or by `git update-ref <ref> <new> <old>` locally. If it moved, someone else wrote
        first: start over and let *change* decide again. Returns whether our edit landed."""
        for attempt in range(attempts):
            if remote is not None:
                self.fetch(remote)
            old = self._value(self.ref)
            work = Ledger(self.repo, f"refs/notes/netchange-work/{uuid.uuid4().hex}")
            work.problems = self.problems  # one list: the caller sees what the edit's reads refused
            try:
                if old:
                    git_cmd(self.repo, "update-ref", work.ref, old)
                if not change(work):
                    return False
                new = work._value(work.ref)
                if new is None or new == old:
                    return True  # nothing to publish
                if remote is not None:
                    if work.push(remote):
                        git_cmd(self.repo, "update-ref", self.ref, new, check=False)  # the remote is the truth
                        return True
                else:
                    status, _, _ = git_cmd(self.repo, "update-ref", "-m", "netchange ledger", self.ref, new,
                                           old or ZERO_OID, check=False)
                    if status == 0:
                        return True
            finally:
                git_cmd(self.repo, "update-ref", "-d", work.ref, check=False)
            time.sleep(min(0.05 * 2 ** attempt, 2.0) * (0.5 + random.random()))
        where = f"on '{remote.name}'" if remote is not None else "in this repository"
        raise LedgerConflict(f"the ledger {where} changed {attempts} times while we tried to write; try again")

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
            if any(x.in_flight for x in entries.values()):
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


def _authoritative(entries: list[Entry]) -> Entry:
    """A change id added more than once (deleted, then added again) has notes on each adding commit: the
    one that keeps it from deploying wins, then the most recently written."""
    return max(entries, key=lambda e: (e.problem is not None, e.blocks_deploy,
                                       str(e.records[-1].get("at", "")) if e.records else "", e.commit))
