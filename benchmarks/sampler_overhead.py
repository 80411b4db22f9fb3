"""Overhead of the eBPF sampler on a veth link: iperf3 throughput without the agent, at 1-in-1000 and 1-in-1.

    sudo .venv/bin/python benchmarks/sampler_overhead.py [--udp] [--seconds 2] [--repeat 15]

Two namespaces (nct-bench-a/b) joined by a veth pair with default offloads (TCP goes as GSO super-packets,
which the sampler counts by gso_segs); the agent samples both directions of the sender's end and exports to
a UDP sink on loopback.

Throughput on a shared 2-core VM drifts by ±10% between runs, so each repeat measures the three settings
back to back (no agent, 1-in-1000, 1-in-1; a fresh agent each time) with iperf3's client and server pinned to
their own CPUs, and the overhead is the median of the per-repeat ratios (paired, so drift cancels).
`kernel.bpf_stats_enabled` slows every BPF program, so it is off during those runs; one extra run per rate
then reads the kernel's own accounting of the sampler program (run time and count).  Also reports the
agent's peak RSS and CPU and the samples and drops it reported.  Everything is torn down at exit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
A, B = "nct-bench-a", "nct-bench-b"


def sh(*cmd: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def iperf(seconds: int, udp: bool) -> float:
    extra = ["-u", "-b", "0", "-l", "64"] if udp else []
    if (os.cpu_count() or 1) >= 2:
        extra += ["-A", "0,1"]  # client on CPU 0, server on CPU 1: the scheduler moving them is most of the noise
    out = sh("iperf3", "-c", "198.18.40.2", "-t", str(seconds), "-J", *extra, ns=A).stdout
    end = json.loads(out)["end"]
    if udp:
        return end["sum"]["packets"] / end["sum"]["seconds"]
    return end["sum_received"]["bits_per_second"] / 1e9


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run_agent(rate: int, seconds: int, repeat: int, udp: bool) -> dict:
    # `ip netns exec` execs the command, so the Popen pid is the agent's own
    agent = subprocess.Popen(["ip", "netns", "exec", A, sys.executable, "-m", "pipeline.cli", "agent", "-i", f"nctBa={rate}", "-c", "127.0.0.1:16343",
                              "--counter-interval", "5"], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        line = agent.stderr.readline()
        if "sampling" not in line:
            raise RuntimeError(line + agent.stderr.read())
        before = bpf_stats()
        cpu0 = proc_cpu(agent.pid)  # start-up (imports, attach) is not sampling cost
        t0 = time.monotonic()
        results = [iperf(seconds, udp) for _ in range(repeat)]
        traffic_s = time.monotonic() - t0
        after = bpf_stats()
        runs = after[1] - before[1]
        kernel_ns = after[0] - before[0]
        hwm = proc_status(agent.pid, "VmHWM") / 1024
        cpu = proc_cpu(agent.pid) - cpu0
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=10)
    summary = err.strip().splitlines()[-1]
    return {"results": results, "rss_mb": hwm, "cpu_s": cpu, "summary": summary, "bpf_runs": runs,
            "bpf_ns_per_packet": kernel_ns / runs if runs else 0.0, "bpf_core_share": kernel_ns / 1e9 / traffic_s,
            "agent_core_share": cpu / traffic_s}


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bpf_stats() -> tuple[int, int]:
    """(run_time_ns, run_cnt) summed over the sampler's programs (kernel.bpf_stats_enabled must be 1).
    This is the sampler's own kernel cost, measured by the kernel: far steadier than throughput."""
    out = sh("bpftool", "prog", "show", "-j", check=False).stdout
    progs = [p for p in json.loads(out or "[]") if p.get("name", "").startswith("sample_")]
    return sum(p.get("run_time_ns", 0) for p in progs), sum(p.get("run_cnt", 0) for p in progs)


def set_bpf_stats(on: bool) -> None:
    Path("/proc/sys/kernel/bpf_stats_enabled").write_text("1" if on else "0")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--udp", action="store_true", help="64-byte UDP packets (packets/s) instead of TCP (Gbit/s)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    sys.path.insert(0, str(REPO))
    from pipeline.telemetry.bpf_build import build_object

    build_object()
    stats_was = Path("/proc/sys/kernel/bpf_stats_enabled").read_text().strip()
    unit = "pps" if args.udp else "Gbit/s"
    server = None
    try:
        for ns in (A, B):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "nctBa", "netns", A, "type", "veth", "peer", "name", "nctBb", "netns", B)
        sh("ip", "addr", "add", "198.18.40.1/24", "dev", "nctBa", ns=A)
        sh("ip", "addr", "add", "198.18.40.2/24", "dev", "nctBb", ns=B)
        sh("ip", "link", "set", "nctBa", "up", ns=A)
        sh("ip", "link", "set", "nctBb", "up", ns=B)
        server = subprocess.Popen(["ip", "netns", "exec", B, "iperf3", "-s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        set_bpf_stats(False)
        names = ("no agent", "agent 1-in-1000", "agent 1-in-1")
        runs: dict[str, list] = {n: [] for n in names}
        for i in range(args.repeat):
            runs["no agent"].append((iperf(args.seconds, args.udp), None))
            for rate in (1000, 1):
                r = run_agent(rate, args.seconds, 1, args.udp)
                runs[f"agent 1-in-{rate}"].append((r["results"][0], r))
            print(f"  repeat {i + 1}/{args.repeat}: " + "  ".join(f"{runs[n][-1][0]:,.2f}" for n in names), file=sys.stderr)
        set_bpf_stats(True)  # the kernel's own accounting, in separate runs (it costs time per program run)
        kernel = {rate: run_agent(rate, args.seconds, 1, args.udp) for rate in (1000, 1)}
        b = [v for v, _ in runs["no agent"]]
        print(f"iperf3 {'UDP 64 B' if args.udp else 'TCP'} over veth, {args.seconds} s x {args.repeat} repeats "
              f"(settings back to back), median [min-max]:")
        for name in names:
            values = [v for v, _ in runs[name]]
            line = f"  {name:<16} {statistics.median(values):>12,.2f} {unit} [{min(values):,.2f}-{max(values):,.2f}]"
            if name != "no agent":
                rel = sorted(100 * (v - base) / base for v, base in zip(values, b))
                q1, _, q3 = statistics.quantiles(rel, n=4)
                k = kernel[int(name.rsplit("-", 1)[1])]
                rs = [x for _, x in runs[name]]
                line += (f"\n{'':20}throughput {statistics.median(rel):+.1f}% (paired median; quartiles {q1:+.1f}%..{q3:+.1f}%)"
                         f" | kernel program {k['bpf_ns_per_packet']:.0f} ns/packet = {100 * k['bpf_core_share']:.2f}% of a core"
                         f" | agent {100 * statistics.median(x['agent_core_share'] for x in rs):.1f}% of a core, peak RSS "
                         f"{max(x['rss_mb'] for x in rs):.0f} MB | last run: {rs[-1]['summary'].removeprefix('netchange agent: ')}")
            print(line)
    finally:
        Path("/proc/sys/kernel/bpf_stats_enabled").write_text(stats_was)
        if server is not None:
            server.terminate()
            server.wait()
        for ns in (A, B):
            sh("ip", "netns", "del", ns, check=False)


if __name__ == "__main__":
    main()
