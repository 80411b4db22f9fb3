"""Overhead of the eBPF sampler on a veth link: throughput without sampling, at 1-in-1000 and at 1-in-1.

    sudo .venv/bin/python benchmarks/sampler_overhead.py [--udp] [--cycles 60] [--span 1]

Two namespaces (nct-bench-a/b) joined by a veth pair with default offloads (TCP goes as GSO super-packets,
which the sampler counts by gso_segs).  iperf3 (client and server pinned to CPUs 0 and 1) runs without a
break for the whole benchmark; throughput is read from the veth's own counters.

On this shared 2-core VM throughput drifts by ±10-20% from one second to the next, also within one iperf3
run (the host, not the guest: no steal time shows), far more than the effect to measure.  So the settings
alternate every second and are compared within each cycle: the agent (`pipeline.telemetry.agent.Agent`,
the code behind `netchange agent`, exporting sFlow to a sink on loopback) runs in this process the whole
time, and each cycle measures one span with its programs detached ("no sampler"), one attached at
1-in-1000 and one at 1-in-1, in rotating order.  Overhead = mean over cycles of (span / the cycle's
no-sampler span) - 1, with a bootstrap 95% interval.  `kernel.bpf_stats_enabled` slows every BPF program
(by ~70 ns a run here), so it is off during the cycles; one extra span per rate then reads the kernel's own
accounting of the sampler program.  Everything is torn down at exit.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
A, B = "nct-bench-a", "nct-bench-b"
SETTINGS = ("no sampler", "1-in-1000", "1-in-1")
CLONE_NEWNET = 0x40000000


def sh(*cmd: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def counters() -> tuple[float, int, int]:
    """(monotonic time, tx packets, tx bytes) of the sender's veth end."""
    t = time.monotonic()
    stats = json.loads(sh("ip", "-n", A, "-s", "-j", "link", "show", "dev", "nctBa").stdout)[0]["stats64"]["tx"]
    return t, stats["packets"], stats["bytes"]


def span(seconds: float, udp: bool) -> tuple[float, float]:
    """(throughput, this process's CPU seconds per second: the agent thread) over one span."""
    t0, p0, b0 = counters()
    c0 = sum(os.times()[:2])
    time.sleep(seconds)
    t1, p1, b1 = counters()
    cpu = sum(os.times()[:2]) - c0
    value = (p1 - p0) / (t1 - t0) if udp else (b1 - b0) * 8 / (t1 - t0) / 1e9
    return value, cpu / (t1 - t0)


def bpf_stats() -> tuple[int, int]:
    """(run_time_ns, run_cnt) summed over the sampler's programs (kernel.bpf_stats_enabled must be 1)."""
    out = sh("bpftool", "prog", "show", "-j", check=False).stdout
    progs = [p for p in json.loads(out or "[]") if p.get("name", "").startswith("sample_")]
    return sum(p.get("run_time_ns", 0) for p in progs), sum(p.get("run_cnt", 0) for p in progs)


def mean_ci(values: list[float], n: int = 5000) -> tuple[float, float, float]:
    """Mean and a bootstrap 95% interval."""
    rnd = random.Random(1)
    means = sorted(statistics.fmean(rnd.choices(values, k=len(values))) for _ in range(n))
    return statistics.fmean(values), means[int(0.025 * n)], means[int(0.975 * n)]


def discard(sock) -> None:
    while True:
        sock.recv(65535)


class Toggle:
    """One running agent on nctBa whose programs are attached at a rate or detached."""

    def __init__(self, agent):
        self.agent = agent
        self.sampler = agent.sampler
        self.ifindex = agent.interfaces[0].ifindex

    def set(self, setting: str) -> None:
        for a in list(self.sampler.attachments):
            self.sampler.detach(a)
        self.idle()
        if setting != "no sampler":
            self.sampler.set_rate(self.ifindex, int(setting.split("-")[-1]), self.agent.snaplen)
            for d in self.agent.directions:
                self.sampler.attach(self.ifindex, d, "tcx")

    def idle(self) -> None:
        """Wait until the agent has worked off the ring buffer (after 1-in-1 it holds seconds of samples):
        that backlog is the previous setting's cost, not the next one's."""
        last = -1
        while self.agent.stats.samples != last:
            last = self.agent.stats.samples
            time.sleep(0.3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=60)
    ap.add_argument("--span", type=float, default=1.0, help="seconds per measured span")
    ap.add_argument("--udp", action="store_true", help="64-byte UDP packets (packets/s) instead of TCP (Gbit/s)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    sys.path.insert(0, str(REPO))
    from pipeline.telemetry.agent import Agent, Interface

    stats_path = Path("/proc/sys/kernel/bpf_stats_enabled")
    stats_was = stats_path.read_text().strip()
    unit = "pps" if args.udp else "Gbit/s"
    procs: list[subprocess.Popen] = []
    root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    agent = thread = None
    try:
        for ns in (A, B):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "nctBa", "netns", A, "type", "veth", "peer", "name", "nctBb", "netns", B)
        sh("ip", "addr", "add", "198.18.40.1/24", "dev", "nctBa", ns=A)
        sh("ip", "addr", "add", "198.18.40.2/24", "dev", "nctBb", ns=B)
        sh("ip", "link", "set", "nctBa", "up", ns=A)
        sh("ip", "link", "set", "nctBb", "up", ns=B)
        procs.append(subprocess.Popen(["ip", "netns", "exec", B, "iperf3", "-s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        traffic = ["-u", "-b", "0", "-l", "64"] if args.udp else []
        pin = ["-A", "0,1"] if (os.cpu_count() or 1) >= 2 else []  # client on CPU 0, server on CPU 1
        procs.append(subprocess.Popen(["ip", "netns", "exec", A, "iperf3", "-c", "198.18.40.2", "-t", "86400", *traffic, *pin],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # the agent lives in the sender's namespace, as `ip netns exec A netchange agent` would
        ns_fd = os.open(f"/run/netns/{A}", os.O_RDONLY)
        if libc.setns(ns_fd, CLONE_NEWNET) != 0:
            sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")
        os.close(ns_fd)
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a sink that discards what the agent sends
        sink.bind(("127.0.0.1", 16343))
        agent = Agent([Interface("nctBa", 1000)], [("127.0.0.1", 16343)], counter_interval=5)
        agent.start()
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        threading.Thread(target=discard, args=(sink,), daemon=True).start()
        toggle = Toggle(agent)
        stats_path.write_text("0")
        time.sleep(1.0)
        results: dict[str, list[tuple[float, float]]] = {s: [] for s in SETTINGS}
        for i in range(args.cycles):
            order = SETTINGS[i % 3:] + SETTINGS[:i % 3]  # rotate so that no setting always follows another
            for setting in order:
                toggle.set(setting)
                time.sleep(0.1)
                results[setting].append(span(args.span, args.udp))
            if (i + 1) % 10 == 0:
                print(f"  cycle {i + 1}/{args.cycles}: " + "  ".join(f"{s} {results[s][-1][0]:,.2f}" for s in SETTINGS),
                      file=sys.stderr)
        stats_path.write_text("1")  # the kernel's own accounting, in separate spans (it costs time per run)
        kernel = {}
        for setting in SETTINGS[1:]:
            toggle.set(setting)
            k0, t0 = bpf_stats(), time.monotonic()
            time.sleep(args.span * 2)
            k1, took = bpf_stats(), time.monotonic() - t0
            runs = k1[1] - k0[1]
            kernel[setting] = ((k1[0] - k0[0]) / runs if runs else 0.0, (k1[0] - k0[0]) / 1e9 / took)
        stats_path.write_text("0")
        base = [v for v, _ in results["no sampler"]]
        print(f"iperf3 {'UDP 64 B' if args.udp else 'TCP'} over veth, {args.cycles} cycles of three {args.span:g} s spans "
              f"(settings rotating), one agent attached / detached:")
        for setting in SETTINGS:
            values = [v for v, _ in results[setting]]
            line = (f"  {setting:<12} {statistics.median(values):>12,.2f} {unit} median [{min(values):,.2f}-{max(values):,.2f}]"
                    f", agent thread {100 * statistics.median(c for _, c in results[setting]):.1f}% of a core")
            if setting != "no sampler":
                rel = [100 * (v / b - 1) for v, b in zip(values, base)]
                mean, lo, hi = mean_ci(rel)
                ns_run, share = kernel[setting]
                line += (f"\n{'':16}throughput vs. the same cycle without sampling: mean {mean:+.1f}% (95% CI {lo:+.1f}%..{hi:+.1f}%),"
                         f" median {statistics.median(rel):+.1f}%\n"
                         f"{'':16}kernel program {ns_run:.0f} ns per run incl. bpf_stats' own cost = {100 * share:.2f}% of a core")
            print(line)
        pool, samples, drops = (sum(x) for x in zip(*(agent.sampler.stats(toggle.ifindex, d) for d in agent.directions)))
        print(f"  agent: {agent.stats.samples:,} samples exported in {agent.stats.datagrams:,} datagrams, "
              f"{drops:,} ring-buffer drops counted, peak RSS of this process "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        stats_path.write_text(stats_was)
        if agent is not None:
            agent.stop()
            if thread is not None:
                thread.join(5)
        libc.setns(root_ns, CLONE_NEWNET)
        for p in reversed(procs):
            p.terminate()
            p.wait()
        for ns in (A, B):
            sh("ip", "netns", "del", ns, check=False)


if __name__ == "__main__":
    main()
