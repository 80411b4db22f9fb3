"""Start time and peak memory of a lab: `up` (fresh) until BGP has converged, then `down`.

    sudo .venv/bin/python benchmarks/lab_scale.py --edges 50          # scale topology (N edges, 2 upstreams)
    sudo .venv/bin/python benchmarks/lab_scale.py --default --runs 3  # the demo lab of inventory/topology.yaml

Memory: peak of the summed RSS of every lab process (shared pages counted per process, so an upper
bound) and peak drop of the machine's MemAvailable (what the lab really costs), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.lab import Lab  # noqa: E402
from pipeline.lab.scale import generate  # noqa: E402


def mem_available_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    def __init__(self, lab: Lab, baseline_avail: int):
        super().__init__(daemon=True)
        self.lab, self.base, self.stop_flag = lab, baseline_avail, threading.Event()
        self.peak_rss = self.peak_drop = 0
        self.procs = 0

    def run(self) -> None:
        while not self.stop_flag.is_set():
            pids = self.lab._our_pids()
            self.procs = max(self.procs, len(pids))
            self.peak_rss = max(self.peak_rss, rss_kb(pids))
            self.peak_drop = max(self.peak_drop, self.base - mem_available_kb())
            time.sleep(0.2)


def one_run(lab: Lab, timeout: float) -> dict:
    lab.down()
    base = mem_available_kb()
    s = Sampler(lab, base)
    s.start()
    t0 = time.monotonic()
    timings = lab.up(fresh=True, converge_timeout=timeout)
    wall = time.monotonic() - t0
    time.sleep(1.0)  # one more second of samples at steady state
    s.stop_flag.set()
    s.join()
    t1 = time.monotonic()
    lab.down()
    return {"up_converged_s": round(wall, 2), "timings": timings, "down_s": round(time.monotonic() - t1, 2),
            "peak_rss_mb": round(s.peak_rss / 1024), "peak_memavailable_drop_mb": round(s.peak_drop / 1024),
            "processes": s.procs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", type=int, default=50)
    ap.add_argument("--default", action="store_true", help="benchmark the demo lab instead of the scale topology")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--prefix", default="ncb")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if args.default:
        lab = Lab(Path(__file__).resolve().parents[1] / "inventory" / "topology.yaml", prefix=args.prefix)
    else:
        lab = Lab(topology=generate(args.edges), prefix=args.prefix)
    routers = sum(1 for n in lab.topology.nodes.values() if n.kind == "frr")
    sessions = sum(len(lab.topology.bgp_sessions(n)) for n, d in lab.topology.nodes.items() if d.kind == "frr") // 2
    runs = []
    try:
        for _ in range(args.runs):
            runs.append(one_run(lab, args.timeout))
            print(json.dumps(runs[-1]), flush=True)
    finally:
        lab.down()
    ups = [r["up_converged_s"] for r in runs]
    print(json.dumps({"topology": lab.topology.name, "nodes": len(lab.topology.nodes), "routers": routers,
                      "bgp_sessions": sessions, "runs": len(runs), "up_converged_s_median": statistics.median(ups),
                      "up_converged_s_max": max(ups), "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
                      "peak_memavailable_drop_mb_max": max(r["peak_memavailable_drop_mb"] for r in runs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
