"""A throw-away project (the repository's shared objects, the fixture fleet as inventory) and CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.inventory import Inventory

from fleetdata import FLEET, PLATFORM_HOST, ROOT

# One host per platform in the fixture fleet: host -> platform.
PLATFORM_HOSTS = {host: platform for platform, host in PLATFORM_HOST.items()}


@pytest.fixture(scope="session")
def fleet() -> Inventory:
    return Inventory(FLEET)


@pytest.fixture
def project(tmp_path: Path):
    """write(name, text) -> path of a change request inside a project whose inventory is the fixture fleet."""
    (tmp_path / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", tmp_path / "policies" / "objects")
    shutil.copytree(FLEET, tmp_path / "inventory")

    def write(change_id: str, text: str) -> Path:
        f = tmp_path / "policies" / "changes" / f"{change_id}.yaml"
        f.write_text(text, encoding="utf-8")
        return f

    return write


@pytest.fixture
def cli(capsys):
    """run(*args) -> (exit code, stdout, stderr) of `netchange ARGS`."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
