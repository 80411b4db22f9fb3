"""`lab down` leaves nothing behind, also after a crashed run, and never touches other labs' names.
Uses its own prefix so it runs independently of the session lab."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pipeline.lab import Lab, namespaces_available
from pipeline.lab import netns

pytestmark = [pytest.mark.lab, pytest.mark.timeout(180)]
REPO = Path(__file__).resolve().parents[2]
PREFIX = "ncld"


@pytest.fixture
def root_only():
    ok, reason = namespaces_available()
    if not ok:
        print(f"\nskipped: {reason}")
        pytest.skip(reason)


def snapshot() -> dict[str, set[str]]:
    procs = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                procs.add((p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                pass
    links = set(netns.list_root_links())
    mounts = {ln.split()[1] for ln in Path("/proc/self/mounts").read_text().splitlines()}
    return {"namespaces": set(netns.list_namespaces()), "links": links,
            "processes": {c for c in procs if f"/run/netchange/{PREFIX}/" in c}, "mounts": mounts}


def test_down_leaves_nothing_behind_even_after_a_crash(root_only, lab_lock):
    decoy = f"{PREFIX}x-r1"  # looks similar, belongs to someone else: must survive
    with lab_lock(PREFIX):
        _down_leaves_nothing(decoy)


def _down_leaves_nothing(decoy: str) -> None:
    subprocess.run(["ip", "netns", "add", decoy], check=True)
    try:
        before = snapshot()
        lab = Lab(REPO / "inventory" / "topology.yaml", prefix=PREFIX)
        lab.up(fresh=True)
        during = snapshot()
        assert {f"{PREFIX}-{n}" for n in lab.topology.nodes} <= during["namespaces"]
        assert f"{PREFIX}-mgmt" in during["links"] and during["processes"]
        # crash: the state record is lost, the daemons keep running
        os.remove(lab.state_dir / "state.json")
        Lab.attach(PREFIX).down()
        after = snapshot()

        def ours(names: set[str]) -> set[str]:  # others run concurrently
            return {n for n in names if n.startswith(PREFIX + "-")}

        assert ours(after["namespaces"]) == ours(before["namespaces"]) == set()
        assert not {ln for ln in after["links"] - before["links"] if ln.startswith(PREFIX + "-")}
        assert after["processes"] == set()
        assert not [m for m in after["mounts"] - before["mounts"] if f"/{PREFIX}-" in m]
        assert not lab.state_dir.exists()
        assert all(not v for v in lab.leftovers().values()), lab.leftovers()
        assert decoy in after["namespaces"]
    finally:
        subprocess.run(["ip", "netns", "del", decoy], check=False)
