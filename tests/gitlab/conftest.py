"""Fixtures for the GitLab workflow tests: scratch repositories, the CLI in-process, the GitLab fake."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules next to the tests (no package: `gitlab` is taken)

from fake_gitlab import TOKEN, FakeGitLab, FakeGitLabServer  # noqa: E402
from scratch_repo import Scratch  # noqa: E402

@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def scratch(tmp_path) -> Scratch:
    return Scratch(tmp_path)


@pytest.fixture
def ci(monkeypatch, capsys):
    """Run `netchange …` in-process inside a directory: ci(cwd, "ci", "changed", ...) -> Result."""
    from pipeline.gitlab.cli import main

    monkeypatch.delenv("NETCHANGE_GITLAB_TOKEN", raising=False)
    monkeypatch.delenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", raising=False)
    monkeypatch.delenv("NETCHANGE_GIT_REMOTE", raising=False)

    def run(cwd: Path, *argv: str) -> Result:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(argv))
        c = capsys.readouterr()
        return Result(code, c.out, c.err)

    return run


@pytest.fixture
def gitlab_fake(monkeypatch):
    """A running GitLab fake, with the CI variables pointing netchange at it."""
    fake = FakeGitLab(token=TOKEN)
    with FakeGitLabServer(fake) as url:
        monkeypatch.setenv("NETCHANGE_GITLAB_URL", url)
        monkeypatch.setenv("NETCHANGE_GITLAB_PROJECT", str(fake.project_id))
        fake.url = url
        yield fake
