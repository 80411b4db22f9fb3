"""Deploying against the session lab in tests: change files, deployers, device sessions, and putting every
device back as it was (also after a failure). Shared by tests/deploy and tests/verify_lab."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path
from typing import Iterator

from pipeline.connect import connect
from pipeline.deploy.deployer import Deployer, Options
from pipeline.deploy.device import DeviceSession
from pipeline.deploy.restore import restore
from pipeline.project import Project, load_change

REPO = Path(__file__).resolve().parents[1]
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

    def deployer(self, change: Path, plan: Path | None = None, **opts) -> Deployer:
        opts.setdefault("state_dir", self.tmp / "state")
        return Deployer(change, self.project, Options(**opts), plan, self.inventory)

    @contextlib.contextmanager
    def session(self, name: str) -> Iterator[DeviceSession]:
        host = self.inventory.hosts[name]
        with connect(host) as conn:
            yield DeviceSession(host, conn)

    def policy(self, name: str):
        with self.session(name) as s:
            return s.driver.parse(s.fetch())


@contextlib.contextmanager
def restored(lab, tmp: Path) -> Iterator[Env]:
    """An Env; afterwards every lab device is put back to its policy from before (refreshing every session)."""
    env = Env(lab, tmp)
    baseline = {n: env.policy(n) for n in DEVICES}
    try:
        yield env
    finally:
        for name, policy in baseline.items():
            with env.session(name) as s:
                if s.driver.parse(s.fetch()) != policy:
                    host = env.inventory.hosts[name]
                    every = set()
                    if host.data.bgp:
                        every = {(str(n.address), afi.split("_")[0], d)
                                 for n in host.data.bgp.neighbors for afi in n.afis for d in ("in", "out")}
                    restore(s, policy, refresh=True, extra_refresh=every)
    for name, policy in baseline.items():
        assert env.policy(name) == policy, f"{name} was not restored"
    lab.lab.wait_converged(30)
