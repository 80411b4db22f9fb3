"""Traffic-verification tests on the real lab (session fixture `lab`): each test leaves every device as it
found it (also on failure) and no agent or generator of ours behind."""

from __future__ import annotations

import contextlib
import subprocess
import textwrap
from pathlib import Path

import pytest

from pipeline.connect import connect
from pipeline.deploy.deployer import Deployer, Options
from pipeline.deploy.device import DeviceSession
from pipeline.deploy.restore import restore
from pipeline.project import Project, load_change

REPO = Path(__file__).resolve().parents[2]
DEVICES = ("r1", "r2", "r3", "fw1")


class Env:
    def __init__(self, lab, tmp: Path):
        self.lab = lab
        self.tmp = tmp
        self.project = Project(REPO)
        self.inventory = lab.inventory

    def change(self, text: str) -> Path:
        text = textwrap.dedent(text)
        cid = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("id:"))
        path = self.tmp / f"{cid}.yaml"
        path.write_text(text)
        return path

    def load(self, path: Path):
        return load_change(path)[0]

    def deployer(self, change: Path, **opts) -> Deployer:
        opts.setdefault("state_dir", self.tmp / "state")
        return Deployer(change, self.project, Options(**opts), None, self.inventory)

    @contextlib.contextmanager
    def session(self, name: str):
        host = self.inventory.hosts[name]
        with connect(host) as conn:
            yield DeviceSession(host, conn)

    def policy(self, name: str):
        with self.session(name) as s:
            return s.driver.parse(s.fetch())


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
    e = Env(lab, tmp_path)
    baseline = {n: e.policy(n) for n in DEVICES}
    yield e
    # Put every device back, whatever the test did (also after a failure).
    for name, policy in baseline.items():
        with e.session(name) as s:
            if s.driver.parse(s.fetch()) != policy:
                host = e.inventory.hosts[name]
                every = set()
                if host.data.bgp:
                    every = {(str(n.address), afi.split("_")[0], d) for n in host.data.bgp.neighbors for afi in n.afis for d in ("in", "out")}
                restore(s, policy, refresh=True, extra_refresh=every)
    for name, policy in baseline.items():
        assert e.policy(name) == policy, f"{name} was not restored"
    lab.lab.wait_converged(30)
    assert agent_processes(lab.prefix) == [], "agents left running"
