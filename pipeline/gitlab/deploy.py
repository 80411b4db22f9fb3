"""Scheduled deploys: claim each ready change in the ledger, run `netchange deploy`, record the outcome.

The first change that does not end deployed (or no-op) stops the run: later changes were merged after it
and may build on it, so they wait for a human.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import git

from .. import safefiles
from ..errors import InputError, Location
from .gitrepo import Remote, root
from .ledger import BUSY, CLAIMED, TAKEN, Ledger, record
from .pending import Candidate, pending
from .secrets import mask

BIN_ENV = "NETCHANGE_BIN"
# `netchange deploy` exit codes -> ledger outcome when there is no report to read the verdict from.
_EXIT_OUTCOME = {0: "deployed", 1: "rolled_back", 2: "failed", 3: "refused"}
SUCCESS = ("deployed", "no_op")


def netchange_command() -> list[str]:
    """How to call netchange: $NETCHANGE_BIN (CI uses the venv bootstrap made), else this interpreter."""
    configured = os.environ.get(BIN_ENV, "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("netchange")
    return [found] if found else [sys.executable, "-m", "pipeline.cli"]


@dataclass(frozen=True)
class Outcome:
    change: str
    path: str
    commit: str
    state: str  # a ledger outcome; "skipped": someone else has it; "waiting": another deploy is in flight
    exit_code: int | None = None
    report: str | None = None

    def as_dict(self) -> dict:
        return {"change": self.change, "path": self.path, "commit": self.commit, "state": self.state,
                "exit_code": self.exit_code, "report": self.report}


def run_deploy(repo_root: Path, path: str, report: Path, extra: list[str]) -> tuple[int, str]:
    """Run `netchange deploy` (output streams to the job log). Returns (exit code, outcome)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    cmd = [*netchange_command(), "deploy", path, "--report", str(report), *extra]
    try:
        rc = subprocess.run(cmd, cwd=repo_root).returncode
    except OSError as e:
        raise InputError(f"cannot run netchange deploy: {mask(str(e))}", Location(BIN_ENV)) from None
    return rc, outcome_of(rc, report)


def outcome_of(rc: int, report: Path) -> str:
    """The report's verdict when it has one, else what the exit code means."""
    try:
        verdict = safefiles.read_json(report, safefiles.JSON_MAX, expect=dict).get("verdict")
    except InputError:
        verdict = None
    if verdict in ("deployed", "rolled_back", "no_op", "refused"):
        if rc != 0 and verdict in SUCCESS:
            return "failed"  # never trust a success verdict from a failing process
        return verdict
    return _EXIT_OUTCOME.get(rc, "failed")


def deploy_pending(repo: git.Repo, ledger: Ledger, remote: Remote | None, now: dt.datetime, report_dir: Path,
                   extra: list[str] | None = None, ref: str = "HEAD") -> list[Outcome]:
    if remote is not None:
        ledger.fetch(remote)
    outcomes: list[Outcome] = []
    for c in pending(repo, ledger, now, ref):
        m = c.merged
        got = ledger.claim(remote, m.commit, m.change, m.path)
        if got == TAKEN:
            outcomes.append(Outcome(m.change, m.path, m.commit, "skipped"))
            continue
        if got == BUSY:
            outcomes.append(Outcome(m.change, m.path, m.commit, "waiting"))
            break
        report = report_dir / f"{m.change}.deploy.json"
        rc, state = run_deploy(root(repo), m.path, report, extra or [])
        ledger.add_record(remote, m.commit, m.change, m.path,
                          record(state, exit_code=rc, report=_report_summary(report)))
        outcomes.append(Outcome(m.change, m.path, m.commit, state, rc, str(report) if report.exists() else None))
        if state not in SUCCESS:
            break
    return outcomes


def claim_next(repo: git.Repo, ledger: Ledger, remote: Remote | None, now: dt.datetime, ref: str = "HEAD") -> Candidate | None:
    """Claim the first ready change (for the sharded pipeline, which deploys one change per run)."""
    if remote is not None:
        ledger.fetch(remote)
    for c in pending(repo, ledger, now, ref):
        m = c.merged
        got = ledger.claim(remote, m.commit, m.change, m.path)
        if got == CLAIMED:
            return c
        if got == BUSY:
            return None
    return None


def _report_summary(report: Path) -> dict | None:
    """What of the deploy report goes into the ledger: verdict and device names, not the whole report."""
    try:
        doc = safefiles.read_json(report, safefiles.JSON_MAX, expect=dict)
    except InputError:
        return None
    devices = doc.get("devices") or []
    names = [d.get("host") or d.get("name") for d in devices if isinstance(d, dict)]
    return {"verdict": doc.get("verdict"), "devices": [n for n in names if n] or len(devices)}
