"""Helpers of the adoption tests: running the installed `netchange` as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NETCHANGE = Path(sys.executable).with_name("netchange")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any NETCHANGE_/SSH_ variable of the developer or CI, plus *extra*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NETCHANGE_", "SSH_", "CI_", "GITLAB_")) and k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(extra)
    return env


@pytest.fixture
def run_cli():
    """run_cli(*args, cwd=..., env=...) -> CompletedProcess of the `netchange` console script."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run([str(NETCHANGE), *args], cwd=cwd, env=env if env is not None else clean_env(),
                              capture_output=True, text=True, timeout=timeout)

    return run
