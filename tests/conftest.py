"""Shared fixtures. `lab`: the default lab, brought up once per session under its own prefix."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
from labsupport import TEST_LAB_PREFIX, _exclusive, lab_unavailable_reason  # noqa: E402, F401 (re-exported to fixtures)


class LabHandle:
    """What tests need from a running lab: the Lab, its inventory, and small helpers."""

    def __init__(self, lab):
        self.lab = lab
        self.prefix = lab.prefix
        self.inventory_path: Path = lab.inventory_path
        self.topology = lab.topology

    @property
    def inventory(self):
        from pipeline.inventory import Inventory

        return Inventory(self.inventory_path)

    def exec(self, node: str, argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
        return self.lab.exec(node, argv, timeout=timeout)

    def vtysh_json(self, node: str, command: str) -> dict:
        p = self.exec(node, ["vtysh", "-c", command])
        return json.loads(p.stdout)

    def vtysh(self, node: str, *commands: str) -> str:
        argv = ["vtysh"]
        for c in commands:
            argv += ["-c", c]
        return self.exec(node, argv).stdout

    def address(self, node: str, version: int = 4) -> str:
        """A host's service address: its loopback if it has one, else its first link address."""
        n = self.topology.nodes[node]
        for a in n.loopback:
            if a.version == version:
                return str(a.ip)
        for ln in self.topology.links_of(node):
            a = ln.address(node, version)
            if a is not None:
                return str(a.ip)
        raise KeyError(node)

    def ping(self, src: str, dst: str, count: int = 10) -> bool:
        v = ipaddress.ip_address(dst).version
        p = self.exec(src, ["ping", f"-{v}", "-q", "-c", str(count), "-i", "0.01", "-W", "1", dst])
        return p.returncode == 0

    def tx_packets(self, node: str, ifname: str) -> int:
        p = self.exec(node, ["ip", "-j", "-s", "link", "show", "dev", ifname])
        return json.loads(p.stdout)[0]["stats64"]["tx"]["packets"]

    def tcp_connect(self, src: str, dst: str, port: int, timeout: float = 1.5) -> bool:
        code = f"import socket; socket.create_connection(({dst!r}, {port}), timeout={timeout}).close()"
        return self.exec(src, [sys.executable, "-c", code], timeout=timeout + 10).returncode == 0

    def background(self, node: str, argv: list[str]) -> subprocess.Popen:
        """A long-running process in *node*'s namespace (killed by the test, and by `lab down` anyway)."""
        d = self.lab.device(node)
        return subprocess.Popen(["ip", "netns", "exec", d.namespace, *argv],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def lab():
    reason = lab_unavailable_reason()
    if reason:
        print(f"\nlab tests skipped: {reason}")
        pytest.skip(reason)
    from pipeline.errors import LabError
    from pipeline.lab import Lab

    lab = Lab(REPO / "inventory" / "topology.yaml", prefix=TEST_LAB_PREFIX)
    with _exclusive(TEST_LAB_PREFIX):  # another pytest session (another engineer) may want the same lab
        t0 = time.monotonic()
        try:
            lab.up(fresh=True, converge_timeout=60)
        except LabError as e:
            lab.down()
            pytest.fail(f"lab up failed: {e}")
        except BaseException:
            lab.down()
            raise
        print(f"\nlab {lab.prefix} up in {time.monotonic() - t0:.1f}s")
        try:
            yield LabHandle(lab)
        finally:
            lab.down()


@pytest.fixture
def lab_lock():
    """`with lab_lock(prefix):` serializes test sessions that build a lab under the same prefix."""
    return _exclusive
