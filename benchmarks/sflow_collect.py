"""`netchange collect --read` vs pmacct `sfacctd` (tuned buffers) on the same ~1 M-sample capture.

    sudo .venv/bin/python benchmarks/sflow_collect.py [--samples 1040000] [--keep DIR]

The capture is third-party sFlow: pmacct's `pmacctd` with the `sfprobe` plugin samples UDP traffic on a
veth in a network namespace (1-in-1, so one flow sample per packet) and exports sFlow v5 to a socket
here; its datagrams are written to a pcap and repeated until the file holds --samples flow samples.
Both collectors then read that pcap as separate processes, one after the other: CPU seconds (user +
system, from the kernel's rusage of the child) and peak RSS.  sfacctd runs with the configuration in
benchmarks/sfacctd-tuned.conf (print plugin, plugin_buffer_size 1048576, plugin_pipe_size 67108864);
its fixed start-up cost is measured on a one-datagram pcap and subtracted, as is netchange's.  netchange
runs with its C hot path (pipeline/telemetry/fastscan.c, built on first use) and, for comparison, without
it (NETCHANGE_NO_CEXT=1).  Both collectors aggregate: sfacctd per 5-tuple in its print plugin, netchange
into its flow history (per agent, data source, direction, 5-tuple and output interface, 1 s buckets).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE, RECEIVER = "198.18.20.2", "198.18.20.1"


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode:
        raise SystemExit(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p


def capture_pmacct(tmp: Path, packets: int) -> list[bytes]:
    """sFlow datagrams from pmacctd's sfprobe for `packets` UDP packets of 200 flows."""
    ns = f"ncbench{os.getpid() % 10000}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", "ncbP0", "type", "veth", "peer", "name", "ncbP1", "netns", ns)
        sh("ip", "addr", "add", f"{RECEIVER}/24", "dev", "ncbP0")
        sh("ip", "link", "set", "ncbP0", "up")
        sh("ip", "-n", ns, "addr", "add", f"{PROBE}/24", "dev", "ncbP1")
        sh("ip", "-n", ns, "link", "set", "ncbP1", "up")
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        sink.bind((RECEIVER, 0))
        conf = tmp / "pmacctd.conf"
        conf.write_text(f"daemonize: false\npcap_interface: ncbP1\nplugins: sfprobe[s]\n"
                        f"sfprobe_receiver[s]: {RECEIVER}:{sink.getsockname()[1]}\nsfprobe_agentip[s]: {PROBE}\n"
                        f"sampling_rate: 1\npidfile: {tmp}/pmacctd.pid\n")
        probe = subprocess.Popen(["ip", "netns", "exec", ns, "pmacctd", "-f", str(conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(2.0)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(packets):
                    s.sendto(b"x" * (64 + i % 900), (PROBE, 5000 + i % 200))
                    if i % 40 == 0:
                        time.sleep(0.002)  # libpcap keeps up
            time.sleep(2.0)
        finally:
            probe.terminate()
            probe.wait(10)
        sink.settimeout(0.5)
        out = []
        while True:
            try:
                out.append(sink.recv(65535))
            except socket.timeout:
                break
        sink.close()
        return out
    finally:
        sh("ip", "link", "del", "ncbP0", check=False)
        sh("ip", "netns", "del", ns, check=False)


def flow_samples(datagram: bytes) -> int:
    from pipeline.telemetry.sflow_codec import decode_datagram

    return len(decode_datagram(datagram).flows)


def write_pcap(path: Path, datagrams: list[bytes], total_samples: int) -> int:
    """Repeats the datagrams until `total_samples` flow samples; returns the samples written."""
    per = [flow_samples(d) for d in datagrams]
    written = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        i = 0
        while written < total_samples:
            d = datagrams[i % len(datagrams)]
            udp = struct.pack("!HHHH", 40000, 6343, 8 + len(d), 0) + d
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             socket.inet_aton(PROBE), socket.inet_aton(RECEIVER))
            frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 1000, (i % 1000) * 1000, len(frame), len(frame)) + frame)
            written += per[i % len(datagrams)]
            i += 1
    return written


def run(cmd: list[str], **kw) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process, from its own rusage (os.wait4)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{cmd[0]} failed: {err[-2000:].decode(errors='replace')}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def netchange(pcap: Path, python_only: bool = False) -> tuple[float, float, float]:
    env = {**os.environ, **({"NETCHANGE_NO_CEXT": "1"} if python_only else {})}
    return run([sys.executable, "-m", "pipeline.cli", "collect", "--read", str(pcap), "--agent", PROBE, "--top", "3"],
               cwd=REPO, env=env)


def sfacctd(pcap: Path, tmp: Path) -> tuple[float, float, float]:
    out = tmp / f"sfacctd-{pcap.stem}.csv"
    conf = tmp / "sfacctd.conf"
    conf.write_text((REPO / "benchmarks" / "sfacctd-tuned.conf").read_text()
                    + f"pcap_savefile: {pcap}\nprint_output_file: {out}\n")
    return run(["sfacctd", "-f", str(conf)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_040_000)
    ap.add_argument("--capture-packets", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, help="keep the pcaps in this folder")
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("pmacctd") or not shutil.which("sfacctd"):
        raise SystemExit("needs root (a network namespace for pmacctd) and pmacct (pmacctd, sfacctd)")
    with tempfile.TemporaryDirectory(prefix="ncbench-") as d:
        tmp = args.keep or Path(d)
        tmp.mkdir(parents=True, exist_ok=True)
        datagrams = capture_pmacct(tmp, args.capture_packets)
        if not datagrams:
            raise SystemExit("pmacctd exported nothing")
        big, one = tmp / "pmacct-repeated.pcap", tmp / "pmacct-one.pcap"
        samples = write_pcap(big, datagrams, args.samples)
        write_pcap(one, datagrams[:1], 1)
        print(f"capture: {len(datagrams)} pmacct sfprobe datagrams ({sum(map(flow_samples, datagrams))} flow samples), "
              f"repeated to {samples:,} flow samples, {big.stat().st_size / 1e6:.0f} MB pcap")
        results = {}
        for name, fn in (("netchange collect --read", netchange),
                         ("  the same, pure Python", lambda p: netchange(p, python_only=True)),
                         ("sfacctd (tuned buffers)", lambda p: sfacctd(p, tmp))):
            w1, c1, rss = fn(big)
            w0, c0, _ = fn(one)
            results[name] = (w1 - w0, c1 - c0, rss)
        print(f"{'':28} {'CPU s':>7} {'samples/CPU-s':>14} {'wall s':>7} {'peak RSS':>9}")
        for name, (wall, cpu, rss) in results.items():
            print(f"{name:28} {cpu:7.2f} {samples / cpu:14,.0f} {wall:7.2f} {rss:7.0f} MB")
        nc, sf = results["netchange collect --read"], results["sfacctd (tuned buffers)"]
        print(f"netchange / sfacctd samples per CPU-second: {sf[1] / nc[1]:.2f}x")


if __name__ == "__main__":
    main()
