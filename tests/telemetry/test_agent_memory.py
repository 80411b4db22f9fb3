"""The agent stays small when it cannot keep up.  The overload is forced, not hoped for: the export rate
is capped (`--max-rate`) and the kernel ring buffer is tiny (`--ring-kb`), so any flood faster than a few
hundred packets a second overruns it on any machine, idle or loaded; the backlog waits in the kernel's
fixed-size ring (the overflow is counted as drops), not in the agent's memory."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from .conftest import NETCHANGE, bpf_programs_loaded, sh, stop

pytestmark = [pytest.mark.lab, pytest.mark.slow]

MAX_RATE = 500     # samples exported per second
RING_KB = 64       # about 210 samples of 312 bytes


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not shutil.which("iperf3"), reason="needs iperf3")
def test_agent_memory_is_bounded_under_a_flood_at_1_in_1(netlab, bpf_object):
    a, b = netlab.ns("a"), netlab.ns("b")
    netlab.veth("nctMa", a, "198.18.11.1/24", "nctMb", b, "198.18.11.2/24")
    server = netlab.spawn(["iperf3", "-s", "-1"], ns=b)
    agent = netlab.spawn(NETCHANGE + ["agent", "-i", "nctMa=1", "-c", "127.0.0.1:16344", "--max-rate", str(MAX_RATE),
                                      "--ring-kb", str(RING_KB), "--counter-interval", "0"], ns=a)
    deadline = time.time() + 15
    while "sampling" not in agent.stderr.readline() and time.time() < deadline:
        assert agent.poll() is None, agent.stderr.read()
    time.sleep(0.3)
    base = _peak_rss_mb(agent.pid)
    t0 = time.monotonic()
    # 3 s of 64-byte UDP at full speed: thousands of packets a second even on a loaded machine, far more
    # than MAX_RATE plus what the ring holds
    sh("iperf3", "-c", "198.18.11.2", "-u", "-b", "0", "-l", "64", "-t", "3", ns=a)
    peak = _peak_rss_mb(agent.pid)
    _, err = stop(agent)
    took = time.monotonic() - t0
    server.wait(5)
    assert agent.returncode == 0, err
    summary = err.strip().splitlines()[-1]
    m = re.search(r"(\d+) samples in (\d+) datagrams, (\d+) drops; kernel: (\d+) packets seen, (\d+) samples taken", summary)
    assert m, summary
    exported, drops, pool, taken = int(m.group(1)), int(m.group(3)), int(m.group(4)), int(m.group(5))
    print(f"peak {peak:.0f} MB, base {base:.0f} MB; {summary}")
    assert drops > 0, f"the forced overload must overrun the ring and be counted: {summary}"
    assert taken + drops == pool, f"at 1-in-1 every packet is either a sample or a counted drop: {summary}"
    assert exported == taken, f"every sample the kernel took was exported, none lost in the agent: {summary}"
    ring_samples = RING_KB * 1024 // 312
    assert exported <= MAX_RATE * (took + 1) + 256 + ring_samples, f"the export rate cap held: {summary}"
    assert peak - base < 8, f"agent grew from {base:.0f} MB to {peak:.0f} MB under the flood"
    assert bpf_programs_loaded() == []


def test_two_interfaces_sharing_a_sampler_slot_are_refused_before_anything_attaches(netlab, bpf_object):
    from pipeline.telemetry.bpf_loader import SLOTS

    a, b = netlab.ns("a"), netlab.ns("b")
    # ifindexes that are equal modulo the sampler's slot count collide in its per-CPU array
    sh("ip", "link", "add", "nctSa", "index", "7", "netns", a, "type", "veth", "peer", "name", "nctSb", "netns", b)
    sh("ip", "link", "add", "nctTa", "index", str(7 + SLOTS), "netns", a, "type", "veth", "peer", "name", "nctTb", "netns", b)
    for name in ("nctSa", "nctTa"):
        sh("ip", "link", "set", name, "up", ns=a)
    proc = sh(*NETCHANGE, "agent", "-i", "nctSa=10", "-i", "nctTa=10", "-c", "127.0.0.1:16345", check=False, ns=a)
    assert proc.returncode != 0
    assert "ifindex 7 and 1031 cannot both be sampled" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert bpf_programs_loaded() == []
