"""Namespaces (prefix nct-), veth pairs (nct...) and the eBPF gate for the telemetry tests.

Everything a fixture creates is removed in `finally`, also when the test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NETCHANGE = [sys.executable, "-m", "pipeline.cli"]


def sh(*cmd: str, check: bool = True, ns: str | None = None) -> subprocess.CompletedProcess:
    if ns is not None:
        cmd = ("ip", "netns", "exec", ns) + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return proc


class NetLab:
    """Creates namespaces and veth pairs and forgets nothing on teardown."""

    def __init__(self, tag: str):
        self.tag = tag
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def ns(self, suffix: str) -> str:
        name = f"nct-{self.tag}-{suffix}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "link", "set", "lo", "up", ns=name)
        return name

    def veth(self, a: str, ns_a: str, addr_a: str, b: str, ns_b: str, addr_b: str, offloads: bool = False) -> None:
        """A veth pair between two namespaces with addresses; offloads off so one skb is one wire packet."""
        assert len(a) <= 15 and len(b) <= 15 and a.startswith("nct") and b.startswith("nct")
        sh("ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b)
        for name, ns, addr in ((a, ns_a, addr_a), (b, ns_b, addr_b)):
            sh("ip", "addr", "add", addr, "dev", name, ns=ns)
            sh("ip", "link", "set", name, "up", ns=ns)
            if not offloads and shutil.which("ethtool"):
                sh("ethtool", "-K", name, "tso", "off", "gso", "off", "gro", "off", check=False, ns=ns)

    def spawn(self, cmd: list[str], ns: str | None = None, **kw) -> subprocess.Popen:
        if ns is not None:
            cmd = ["ip", "netns", "exec", ns] + cmd
        p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        return p

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for name in reversed(self.namespaces):
            sh("ip", "netns", "del", name, check=False)


@pytest.fixture
def netlab(request):
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    if not shutil.which("ip"):
        pytest.skip("needs iproute2")
    lab = NetLab(f"{os.getpid() % 10000}{request.node.name[-3:].replace('_', '')}"[:8])
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="session")
def bpf_object():
    """The built sampler object, or a skip naming why the kernel refuses eBPF here."""
    from pipeline.telemetry.bpf_build import build_object
    from pipeline.telemetry.bpf_loader import Sampler
    from pipeline.telemetry.errors import BpfUnavailable

    if os.geteuid() != 0:
        pytest.skip("eBPF tests need root (CAP_BPF, CAP_NET_ADMIN)")
    path = build_object()
    try:
        Sampler(path).close()
    except BpfUnavailable as e:
        print(f"skipping eBPF tests: {e}")
        pytest.skip(str(e))
    return path


def stop(proc: subprocess.Popen, timeout: float = 10) -> tuple[str, str]:
    """SIGTERM, then the process's output (the agent must exit cleanly on it)."""
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout)
    return out, err


def bpf_programs_loaded() -> list[str]:
    proc = sh("bpftool", "prog", "show", check=False)
    return [line for line in proc.stdout.splitlines() if "sample_ingress" in line or "sample_egress" in line]
