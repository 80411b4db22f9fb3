"""Git access for the GitLab workflow: change-request paths, blobs at a revision, and one `git()` runner
that masks secrets and turns failures into NetchangeError (never a traceback)."""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import git

from .. import yamlio
from ..errors import InputError, Location, NetchangeError
from ..model.change import ChangeRequest
from .secrets import gitlab_token, mask

CHANGES_DIR = PurePosixPath("policies/changes")
REMOTE_ENV = "NETCHANGE_GIT_REMOTE"


class GitError(NetchangeError):
    """A git command failed (message already masked)."""


def open_repo(path: Path | str = ".") -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError("not inside a git repository", Location(str(Path(path).resolve()))) from None


def root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or repo.git_dir)


def is_change_path(path: str) -> bool:
    """Deployable change requests are policies/changes/<ID>.yaml; subfolders (examples/) are not."""
    p = PurePosixPath(path)
    return p.parent == CHANGES_DIR and p.suffix == ".yaml"


def change_id(path: str) -> str:
    return PurePosixPath(path).stem


def git_cmd(repo: git.Repo, *args: str, env: dict[str, str] | None = None, check: bool = True) -> tuple[int, str, str]:
    """Run git in *repo*. Returns (status, stdout, stderr); with *check*, a non-zero status raises GitError."""
    full_env = {**os.environ, **_identity_env(repo), **(env or {})}
    status, out, err = repo.git.execute(["git", *args], with_extended_output=True, with_exceptions=False,
                                        env=full_env, strip_newline_in_stdout=False)
    if check and status != 0:
        raise GitError(f"git {args[0]} failed: {mask(err.strip() or out.strip())}")
    return status, out, err


def _identity_env(repo: git.Repo) -> dict[str, str]:
    """Ledger notes are commits; CI checkouts often have no git identity configured."""
    with repo.config_reader() as cfg:
        if cfg.get_value("user", "email", default="") and cfg.get_value("user", "name", default=""):
            return {}
    name = os.environ.get("GITLAB_USER_NAME") or "netchange"
    email = os.environ.get("GITLAB_USER_EMAIL") or "netchange@localhost"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def read_blob(repo: git.Repo, rev: str, path: str, max_bytes: int = yamlio.MAX_BYTES) -> str | None:
    """A file's text at *rev* (None if absent). Only regular files, size-capped like files on disk: a
    symbolic link committed as a change request is its target's path, never the target."""
    try:
        blob = repo.commit(rev).tree / path
    except KeyError:
        return None
    if blob.type != "blob" or blob.mode & 0o170000 != 0o100000:
        raise InputError("is not a regular file in git (a symbolic link or submodule?)", Location(path))
    if blob.size > max_bytes:
        raise InputError(f"file is {blob.size} bytes, larger than the {max_bytes} byte limit", Location(path))
    return blob.data_stream.read().decode("utf-8", errors="replace")


def resolve(repo: git.Repo, rev: str) -> str:
    try:
        return repo.commit(rev).hexsha
    except (git.BadName, ValueError, git.GitCommandError):
        raise InputError(f"unknown git revision '{rev}'", Location(rev)) from None


def load_change_text(path: str, text: str) -> ChangeRequest:
    """A change request from text (a git blob or an API file), checked like `project.load_change`."""
    node = yamlio.load(Path(path), text)
    if not isinstance(node, dict):
        raise InputError("a change request is a YAML mapping (id, title, targets, ...)", Location(path, 1, 1))
    change = yamlio.validate_model(ChangeRequest, node, path)
    if change.id != change_id(path):
        raise InputError(f"id '{change.id}' must equal the file name '{change_id(path)}'", Location(path, field="id"))
    return change


@dataclass(frozen=True)
class Remote:
    """Where the ledger is fetched from and pushed to, with the environment git needs to authenticate."""

    name: str
    env: dict[str, str] = field(default_factory=dict)


def remote(name: str | None = None) -> Remote:
    """`--remote`, else $NETCHANGE_GIT_REMOTE, else — in GitLab CI with a token — the project's HTTPS URL
    (the checkout's origin carries CI_JOB_TOKEN, which may not push), else origin. With a token, git asks
    GIT_ASKPASS for it, so the token is never part of a URL or a command line (both end up in messages)."""
    name = name or os.environ.get(REMOTE_ENV) or _ci_project_url() or "origin"
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if gitlab_token():
        env["GIT_ASKPASS"] = str(_askpass_script())
    return Remote(name, env)


def _ci_project_url() -> str | None:
    server, project = os.environ.get("CI_SERVER_URL"), os.environ.get("CI_PROJECT_PATH")
    if gitlab_token() and server and project:
        return f"{server.rstrip('/')}/{project}.git"
    return None


_ASKPASS: Path | None = None


def _askpass_script() -> Path:
    global _ASKPASS
    if _ASKPASS is None:
        d = Path(tempfile.mkdtemp(prefix="netchange-askpass-"))
        atexit.register(shutil.rmtree, d, True)
        script = d / "askpass"
        # The script holds no secret: it reads the token from the environment git passes down.
        script.write_text('#!/bin/sh\ncase "$1" in\n  Username*) echo oauth2 ;;\n  *) printf \'%s\\n\' "$NETCHANGE_GITLAB_TOKEN" ;;\nesac\n')
        script.chmod(stat.S_IRWXU)
        _ASKPASS = script
    return _ASKPASS
