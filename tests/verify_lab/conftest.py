"""Traffic-verification tests on the real lab (session fixture `lab`): each test leaves every device as it
found it (also on failure) and no agent or generator of ours behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lab_env import DEVICES, REPO, Env, restored  # noqa: F401  (Env, REPO re-exported for the tests)


def agent_processes(prefix: str) -> list[str]:
    """`netchange agent` processes running in this lab's namespaces (ours must all be gone after a test)."""
    out = []
    for ns in (f"{prefix}-{n}" for n in DEVICES):
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "pipeline.cli agent" in cmd:
                out.append(f"{ns}:{pid}")
    return out


@pytest.fixture
def env(lab, tmp_path):
    with restored(lab, tmp_path) as e:
        yield e
    assert agent_processes(lab.prefix) == [], "agents left running"
