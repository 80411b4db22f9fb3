"""sFlow v5 decoder throughput: netchange's decoder (+ collector) vs pmacct's sfacctd on the same stream.

    .venv/bin/python benchmarks/sflow_decode.py [--samples 300000]

The stream: datagrams of 7 flow samples (128-byte raw headers of UDP/TCP over IPv4 from 1,000 flows) and a
counter sample every 10 datagrams, as an agent would send.  Both decoders read it from a pcap file on one
core; sfacctd's fixed start-up cost is measured with a one-datagram file and subtracted.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.telemetry import sflow_encode as enc  # noqa: E402
from pipeline.telemetry.collector import Collector  # noqa: E402
from pipeline.telemetry.sflow_codec import decode_datagram  # noqa: E402

AGENT = "198.51.100.10"
PER_DATAGRAM = 7


def header(rng: random.Random) -> bytes:
    src = bytes([198, 18, rng.randrange(4), rng.randrange(250)])
    dst = bytes([203, 0, 113, rng.randrange(4)])
    proto = rng.choice((6, 17))
    l4 = struct.pack("!HHIIBBHHH", rng.randrange(1024, 65535), 443, 1, 0, 0x50, 0x10, 512, 0, 0) if proto == 6 \
        else struct.pack("!HHHH", rng.randrange(1024, 65535), 53, 100, 0)
    ip = bytes([0x45, 0, 5, 220, 0, 0, 0x40, 0, 64, proto, 0, 0]) + src + dst
    frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + ip + l4
    return (frame + bytes(128))[:128]


def stream(samples: int) -> list[bytes]:
    rng = random.Random(1)
    heads = [header(rng) for _ in range(1000)]
    out, seq = [], 0
    while seq * PER_DATAGRAM < samples:
        seq += 1
        recs = [enc.flow_sample(seq * PER_DATAGRAM + i, 3, 1000, seq * 7000, 0, 3, 0,
                                [enc.raw_header_record(rng.choice(heads), 1504), enc.extended_switch_record()])
                for i in range(PER_DATAGRAM)]
        if seq % 10 == 0:
            recs.append(enc.counter_sample(seq, 3, [enc.generic_counters_record(enc.IfCounters(3, in_octets=seq))]))
        out.append(enc.datagram(AGENT, 0, seq, seq, recs))
    return out


def write_pcap(path: Path, datagrams: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, d in enumerate(datagrams):
            udp = struct.pack("!HHHH", 40000, 6343, 8 + len(d), 0) + d
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([198, 51, 100, 10]), bytes([198, 51, 100, 1]))
            frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", i // 1000, i % 1000, len(frame), len(frame)) + frame)


def bench_python(datagrams: list[bytes], samples: int) -> dict:
    t = time.process_time()
    for d in datagrams:
        decode_datagram(d)
    decode_s = time.process_time() - t
    c = Collector(agents=[AGENT], max_flows=10_000)
    t = time.process_time()
    for d in datagrams:
        c.ingest(d, AGENT)
    ingest_s = time.process_time() - t
    assert c.snapshot()["flow_samples"] == samples and c.malformed == 0
    tracemalloc.start()
    c2 = Collector(agents=[AGENT])
    for d in datagrams[:20000]:
        c2.ingest(d, AGENT)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"decode": samples / decode_s, "collector": samples / ingest_s, "peak_mb": peak / 1e6}


def bench_sfacctd(pcap: Path, small: Path, tmp: Path) -> dict | None:
    if not shutil.which("sfacctd"):
        return None

    def run(path: Path) -> tuple[float, float, Path]:
        out = tmp / f"out-{path.stem}.csv"
        conf = tmp / "sfacctd.conf"
        conf.write_text(f"daemonize: false\npcap_savefile: {path}\nplugins: print\n"
                        "aggregate: src_host, dst_host, proto, src_port, dst_port\n"
                        f"print_output: csv\nprint_output_file: {out}\nprint_refresh_time: 3600\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(["sfacctd", "-f", str(conf)], capture_output=True, timeout=600)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, after.ru_maxrss / 1024

    w1, c1, rss = run(pcap)
    w0, c0, _ = run(small)
    return {"wall": w1 - w0, "cpu": c1 - c0, "peak_rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=300_000)
    args = ap.parse_args()
    datagrams = stream(args.samples)
    samples = len(datagrams) * PER_DATAGRAM
    py = bench_python(datagrams, samples)
    print(f"stream: {len(datagrams)} datagrams, {samples} flow samples, {sum(map(len, datagrams)) / len(datagrams):.0f} B/datagram")
    print(f"netchange decode_datagram:   {py['decode']:>10,.0f} flow samples/s/core")
    print(f"netchange Collector.ingest:  {py['collector']:>10,.0f} flow samples/s/core (decode + accept + flow table + metrics)")
    print(f"netchange collector peak traced memory (20k datagrams): {py['peak_mb']:.1f} MB")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        write_pcap(tmp / "stream.pcap", datagrams)
        write_pcap(tmp / "one.pcap", datagrams[:1])
        sf = bench_sfacctd(tmp / "stream.pcap", tmp / "one.pcap", tmp)
    if sf is None:
        print("sfacctd: not installed (apt-get install pmacct)")
        return
    rate = samples / sf["wall"]
    print(f"pmacct sfacctd (pcap, print plugin): {rate:>10,.0f} flow samples/s wall, "
          f"{samples / max(sf['cpu'], 1e-9):,.0f} per CPU-second; peak RSS {sf['peak_rss_mb']:.0f} MB")
    per_cpu = samples / max(sf["cpu"], 1e-9)
    # sfacctd's wall time is mostly waiting (pcap replay, plugin pipe), so compare CPU time
    print(f"sfacctd per CPU-second / netchange decode: {per_cpu / py['decode']:.2f}x; / netchange collector: {per_cpu / py['collector']:.2f}x")


if __name__ == "__main__":
    main()
