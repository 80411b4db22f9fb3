"""The change requests a merge request adds or modifies, checked against the MR rules: at most `--max`
per MR, and never an edit to a change the ledger says was deployed (a deployed change is history: undo
or amend it with a new change request)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import git

from ..errors import NetchangeError
from .gitrepo import change_id, git_cmd, is_change_path, resolve
from .ledger import Ledger

BASE_ENV = "CI_MERGE_REQUEST_DIFF_BASE_SHA"


class MergeRequestRuleError(NetchangeError):
    """The MR breaks a workflow rule (too many change requests, edits a deployed one)."""


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str  # added | modified | deleted
    change: str
    old_path: str | None = None

    def as_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "change": self.change, "old_path": self.old_path}


_STATUS = {"A": "added", "M": "modified", "T": "modified", "D": "deleted"}


def diff_base(repo: git.Repo, base: str | None, head: str = "HEAD") -> str:
    """The MR's diff base: --base (its merge base with HEAD, so commits on the target branch since the MR
    branched do not count), else GitLab's CI_MERGE_REQUEST_DIFF_BASE_SHA."""
    if base:
        b = resolve(repo, base)
        merge_bases = repo.merge_base(b, resolve(repo, head))
        return merge_bases[0].hexsha if merge_bases else b
    env = os.environ.get(BASE_ENV)
    if env:
        return resolve(repo, env)
    raise MergeRequestRuleError(f"no diff base: pass --base REF or run in a merge request pipeline ({BASE_ENV})")


def changed_files(repo: git.Repo, base: str, head: str = "HEAD") -> list[ChangedFile]:
    """Change requests touched between *base* and *head* (renames count as delete + add)."""
    _, out, _ = git_cmd(repo, "diff", "--name-status", "--no-renames", base, resolve(repo, head), "--", "policies/changes")
    found = []
    for line in out.splitlines():
        code, _, path = line.partition("\t")
        if is_change_path(path) and code[:1] in _STATUS:
            found.append(ChangedFile(path, _STATUS[code[:1]], change_id(path)))
    return found


def check_rules(files: list[ChangedFile], ledger: Ledger, max_changes: int) -> list[str]:
    """Every rule the MR breaks, as a sentence for the author (empty: the MR is fine)."""
    problems = []
    proposed = [f for f in files if f.status != "deleted"]
    if max_changes and len(proposed) > max_changes:
        problems.append(f"this MR adds or modifies {len(proposed)} change requests "
                        f"({', '.join(f.change for f in proposed)}); at most {max_changes} per merge request")
    entries = ledger.entries()
    for f in files:
        e = entries.get(f.change)
        if f.status != "added" and e is not None and e.blocks_deploy:
            problems.append(f"{f.path}: {f.change} is already {e.state} (ledger, commit {e.commit[:12]}); "
                            f"a deployed change is history — {'keep the file' if f.status == 'deleted' else 'revert this edit'} "
                            f"and propose a new change request instead")
        elif f.status == "added" and e is not None and e.blocks_deploy:
            problems.append(f"{f.path}: the id {f.change} was used by an earlier change ({e.state}); pick a new id")
    return problems
