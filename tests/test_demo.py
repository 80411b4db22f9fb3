"""The README's main job, `netchange demo`, as a user runs it: a fresh process that brings the bundled lab
up, validates, plans against the live devices, deploys the example change with its traffic verdicts and
takes the lab down again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labsupport import TEST_LAB_PREFIX, _exclusive, lab_unavailable_reason

REPO = Path(__file__).resolve().parents[1]
PREFIX = TEST_LAB_PREFIX[:5] + "d"  # its own lab: the session's lab keeps running beside it


def _namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX + "-")]


def test_the_readme_demo_deploys_the_example_change_and_cleans_up():
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(f"network namespaces unavailable here: {reason}")
    netchange = Path(sys.executable).with_name("netchange")
    env = {**os.environ, "NETCHANGE_LAB_PREFIX": PREFIX}
    with _exclusive(PREFIX):
        try:
            p = subprocess.run([str(netchange), "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        finally:
            left = _namespaces()
            if left:
                subprocess.run([str(netchange), "lab", "down"], cwd=REPO, env=env, capture_output=True, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert "netchange deploy CHG-0001: ✅ deployed" in out, out[-4000:]
    for check in ("traffic ext-via-r3", "traffic http-blocked"):
        assert f"✅ {check}" in out, out[-4000:]
    assert "| r1 | deployed |" in out and "| fw1 | deployed |" in out
    assert left == [], f"the demo left namespaces behind: {left}"
