"""Scratch git repositories for the GitLab workflow tests: a bare `origin` and a clone holding a netchange
project (the real inventory and policy objects), plus small change-request builders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import git

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.net",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.net"}


def project_files(full: bool = False) -> list[str]:
    """The project as it stands in the working tree (tracked + untracked, .gitignore respected).
    Without *full*, only what change requests need: inventory and policy objects."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                         check=True, capture_output=True).stdout.decode().split("\0")
    files = [f for f in out if f and (REPO / f).is_file()]
    if full:
        return files
    return [f for f in files if f.startswith(("inventory/", "policies/objects/", "policies/guardrails"))]


class Scratch:
    """origin.git (bare) + work/ (a clone on `main`)."""

    def __init__(self, base: Path, full: bool = False):
        self.base = base
        self.origin = base / "origin.git"
        self.work = base / "work"
        git.Repo.init(self.origin, bare=True, initial_branch="main")
        self.repo = git.Repo.init(self.work, initial_branch="main")
        with self.repo.config_writer() as cw:
            cw.set_value("user", "name", "Test")
            cw.set_value("user", "email", "test@example.net")
        self.repo.create_remote("origin", str(self.origin))
        for f in project_files(full):
            dst = self.work / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, dst)
        (self.work / "policies" / "changes").mkdir(parents=True, exist_ok=True)
        self.commit_all("project skeleton")
        self.git("push", "-q", "origin", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.work, check=True, capture_output=True, text=True,
                              env={**os.environ, **IDENTITY}).stdout

    def write(self, rel: str, text: str) -> Path:
        p = self.work / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    def add_change(self, text: str) -> str:
        cid = text.split("id:", 1)[1].split()[0]
        self.write(f"policies/changes/{cid}.yaml", text)
        return f"policies/changes/{cid}.yaml"

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref).strip()

    def merge(self, branch: str, message: str | None = None) -> str:
        """Merge *branch* into main the GitLab way (a merge commit), push, stay on main."""
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--no-ff", "-m", message or f"Merge branch '{branch}' into 'main'", branch)
        self.git("push", "-q", "origin", "main")
        return self.head()

    def merge_change(self, text: str, branch: str) -> str:
        """An MR that adds one change request, merged: returns the merge commit."""
        self.git("checkout", "-q", "-b", branch, "main")
        self.add_change(text)
        self.commit_all(f"{branch}: add change")
        return self.merge(branch)

    def clone(self, name: str) -> Path:
        dst = self.base / name
        git.Repo.clone_from(self.origin, dst)
        return dst

    def ledger_note(self, commit: str, where: Path | None = None) -> dict | None:
        """The ledger note on *commit*, read with plain git (after fetching the notes ref from origin)."""
        cwd = where or self.work
        subprocess.run(["git", "fetch", "-q", str(self.origin), "+refs/notes/netchange-ledger:refs/notes/netchange-ledger"],
                       cwd=cwd, capture_output=True)
        p = subprocess.run(["git", "notes", "--ref", "netchange-ledger", "show", commit], cwd=cwd,
                           capture_output=True, text=True)
        return json.loads(p.stdout) if p.returncode == 0 else None


def change(cid: str, *, by: str = "alice@example.net", hosts: str = "[r1]", window: str | None = None,
           route_map: str | None = "RM-R3-IN", local_pref: int = 300, filters: str | None = None) -> str:
    """A valid change request; a route-map change on r1 unless told otherwise."""
    out = f"id: {cid}\ntitle: test change {cid}\nrequested_by: {by}\ntargets:\n  hosts: {hosts}\n"
    if window:
        out += f"window: {window}\n"
    if route_map:
        out += textwrap.dedent(f"""\
            routing:
              prefix_lists:
                - name: PL-R3-IN
                  afi: ipv4
                  entries:
                    - {{seq: 10, action: permit, prefix: 203.0.113.0/24}}
              route_maps:
                - name: {route_map}
                  entries:
                    - seq: 10
                      action: permit
                      match: {{prefix_list: PL-R3-IN}}
                      set: {{local_preference: {local_pref}}}
            """)
    if filters:
        out += filters
    return out


def filter_block(name: str, terms: list[tuple[str, str | None]]) -> str:
    """firewall: one filter attached to fw1's forward hook with (term name, expires) terms + final deny."""
    lines = ["firewall:", "  filters:", f"    - name: {name}", "      attach: [forward]", "      terms:"]
    for term, expires in terms:
        lines += [f"        - name: {term}", "          destinations: [198.51.100.128/25]", "          protocols: [tcp]",
                  "          destination_ports: [22]", "          action: accept"]
        if expires:
            lines.append(f"          expires: {expires}")
    lines += ["        - name: default-deny", "          action: deny"]
    return "\n".join(lines) + "\n"


def standin_bin(base: Path, log: Path, fail_shard: int | None = None, exit_code: int = 1,
                fail_changes: tuple[str, ...] = (), fail_phase: str = "commit") -> Path:
    """NETCHANGE_BIN for the pipeline: the real netchange (with `ci`), except `deploy`, which runs the
    stand-in in netchange_standin.py while the real deploy command is not there (see that file)."""
    script = base / "netchange-under-test"
    env = {"NETCHANGE_STANDIN_LOG": str(log), "NETCHANGE_STANDIN_FAIL_SHARD": str(fail_shard or ""),
           "NETCHANGE_STANDIN_EXIT": str(exit_code), "NETCHANGE_STANDIN_FAIL_CHANGES": ",".join(fail_changes),
           "NETCHANGE_STANDIN_FAIL_PHASE": fail_phase}
    exports = "".join(f"export {k}='{v}'\n" for k, v in env.items())
    script.write_text(f"#!/bin/sh\n{exports}exec '{PYTHON}' '{Path(__file__).parent / 'netchange_standin.py'}' \"$@\"\n")
    script.chmod(0o755)
    return script


def real_bin(base: Path) -> Path:
    """NETCHANGE_BIN running the real netchange CLI with `ci` registered (pipeline.gitlab.cli.main)."""
    script = base / "netchange-real"
    script.write_text(f"#!/bin/sh\nexec '{PYTHON}' -m pipeline.gitlab \"$@\"\n")
    script.chmod(0o755)
    return script
