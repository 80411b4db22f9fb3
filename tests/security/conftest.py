"""A throw-away project (the repository's shared objects, the fixture fleet as inventory) and CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.inventory import Inventory

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "tests" / "fixtures" / "fleet"
# One host per platform in the fixture fleet.
PLATFORM_HOSTS = {"r1": "frr", "ios1": "cisco_ios", "eos1": "arista_eos", "cx1": "aruba_aoscx", "junos1": "juniper_junos",
                  "fw1": "nftables"}


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
