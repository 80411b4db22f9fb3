"""Plan one change across a synthetic fleet: naive ciscoconfparse2 baseline vs netchange's plan_snapshots.

    .venv/bin/python benchmarks/plan_fleet.py --devices 1000 --lines 20000   # full run (a few minutes)
    .venv/bin/python benchmarks/plan_fleet.py --quick                        # 50 devices x 5,000 lines

Writes the fleet (benchmarks/fleetgen.py: seeded, every device different) as `<host>.cfg` snapshot files into
a temp dir one device at a time, with a nornir inventory (hosts.yaml) and the change CHG-4004 (a prefix-list,
a route-map entry and a neighbor binding on every device). Then, in one run:

- naive: for a sample of devices, ciscoconfparse2 parses of the running and the intended config text plus
  `ciscoconfparse2.Diff(...).get_diff()`, one core; the fleet figure is the per-device mean x devices
  (extrapolated, never run on the whole fleet);
- netchange: `pipeline.plan.run.plan_snapshots` over the whole fleet with a process pool, in a fresh
  subprocess per fleet size (so peak RSS is that run's): wall and CPU time, peak RSS of the parent
  (RUSAGE_SELF) and of the largest worker (RUSAGE_CHILDREN after the pool is joined). Run at two fleet
  sizes (--bounded-check, default a quarter of the fleet) to show memory does not grow with the fleet.
  Every plan is checked as it streams in (ops equal fleetgen.EXPECTED_OPS, commands present) and then
  dropped; one device's commands are printed for a spot check.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleetgen  # noqa: E402

SPOT_CHECK = [  # lines the cisco_ios plan of every device must contain, in this order
    "ip prefix-list PL-CUSTOMER-V4 seq 40 permit 198.18.252.0/24 le 26",
    "ip prefix-list PL-CUSTOMER-V4 seq 20 permit 203.0.113.128/25 le 27",
    "route-map RM-TRANSIT-OUT-V2 permit 10",
    "route-map RM-TRANSIT-IN permit 20",
    " set local-preference 250",
    "  neighbor 203.0.113.1 route-map RM-TRANSIT-OUT-V2 out",
]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def in_order(lines: list[str], wanted: list[str]) -> bool:
    it = iter(lines)
    return all(any(line == w for line in it) for w in wanted)


# --------------------------------------------------------------------------------------------------
# netchange (runs in a fresh subprocess per fleet size)
# --------------------------------------------------------------------------------------------------

def run_netchange(directory: Path, inventory_dir: Path, change_path: Path, workers: int, spot: str) -> dict:
    from pipeline.inventory import Inventory
    from pipeline.model import ObjectStore
    from pipeline.plan.run import plan_snapshots
    from pipeline.project import load_change

    load0 = loadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    inventory = Inventory(inventory_dir)
    change, _ = load_change(change_path)
    store = ObjectStore.load(ROOT / "policies" / "objects")
    setup_wall, setup_cpu = time.perf_counter() - w0, time.process_time() - c0

    ok = bad = errors = 0
    first_problem = None
    spot_plan = None
    w0 = time.perf_counter()
    for r in plan_snapshots(change, inventory, store, directory, workers=workers):
        if isinstance(r, str):
            errors += 1
            first_problem = first_problem or r
            continue
        good = r.ops == fleetgen.EXPECTED_OPS and in_order(r.commands, SPOT_CHECK) and len(r.refresh) == 2 and r.diff
        ok += bool(good)
        bad += not good
        if not good and first_problem is None:
            first_problem = f"{r.host}: ops {r.ops}"
        if r.host == spot:
            spot_plan = {"ops": r.ops, "commands": r.commands, "rollback": r.rollback_commands,
                         "refresh": [x["commands"] for x in r.refresh], "skipped": len(r.skipped)}
    wall = time.perf_counter() - w0
    self_ru = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "devices": len(inventory.hosts), "workers": workers, "ok": ok, "bad": bad, "errors": errors,
        "first_problem": first_problem, "setup_wall": setup_wall, "setup_cpu": setup_cpu, "wall": wall,
        "parent_cpu": self_ru.ru_utime + self_ru.ru_stime - setup_cpu, "workers_cpu": kids.ru_utime + kids.ru_stime,
        "parent_peak_rss_mb": self_ru.ru_maxrss / 1024, "worker_peak_rss_mb": kids.ru_maxrss / 1024,
        "load_before": load0, "load_after": loadavg(), "spot": spot_plan,
    }


def netchange_subprocess(directory: Path, inventory_dir: Path, change_path: Path, workers: int) -> dict:
    cmd = [sys.executable, __file__, "--_netchange", str(directory), "--_inventory", str(inventory_dir),
           "--_change", str(change_path), "--workers", str(workers)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"netchange run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------------
# naive baseline (in this process, one core)
# --------------------------------------------------------------------------------------------------

def run_naive(directory: Path, sample: list[int], lines: int, seed: int) -> list[dict]:
    from ciscoconfparse2 import CiscoConfParse, Diff

    out = []
    for i in sample:
        running = (directory / f"{fleetgen.host_name(i)}.cfg").read_text()
        intended = fleetgen.device_text(i, lines, seed, intended=True)  # not timed: the naive tool's input
        w0, c0 = time.perf_counter(), time.process_time()
        CiscoConfParse(running.splitlines(), syntax="ios")
        CiscoConfParse(intended.splitlines(), syntax="ios")
        p_wall, p_cpu = time.perf_counter() - w0, time.process_time() - c0
        diff = Diff(running, intended, syntax="ios").get_diff()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        out.append({"host": fleetgen.host_name(i), "wall": wall, "cpu": cpu, "parse_cpu": p_cpu,
                    "parse_wall": p_wall, "diff_lines": len(diff)})
        print(f"  naive {fleetgen.host_name(i)}: parse x2 {p_cpu:5.2f} s cpu, + Diff {cpu - p_cpu:5.2f} s cpu "
              f"(wall {wall:5.2f} s), {len(diff)} diff lines", flush=True)
    return out


# --------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive-sample", type=int, default=10, help="devices timed with the naive baseline")
    ap.add_argument("--bounded-check", type=int, default=None,
                    help="also plan the first N devices to compare memory (default devices/4; 0 = skip)")
    ap.add_argument("--quick", action="store_true", help="50 devices x 5,000 lines, 5 naive samples")
    ap.add_argument("--keep", type=Path, default=None,
                    help="write the fleet here and keep it (an existing fleet of the same shape there is reused)")
    ap.add_argument("--inventory-neighbors", choices=("transit", "all"), default="transit",
                    help="BGP neighbors listed per host in hosts.yaml (all: every peer; over 2 MB at ~1,000 hosts)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--_netchange", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_inventory", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_change", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._netchange:
        print(json.dumps(run_netchange(args._netchange, args._inventory, args._change, args.workers,
                                       fleetgen.host_name(0))))
        return
    if args.quick:
        args.devices, args.lines, args.naive_sample = 50, 5000, min(args.naive_sample, 5)
    sizes = [args.devices]
    small = args.devices // 4 if args.bounded_check is None else args.bounded_check
    if 0 < small < args.devices:
        sizes.insert(0, small)

    base = args.keep or Path(tempfile.mkdtemp(prefix="netchange-fleet-"))
    try:
        print(f"machine: {os.cpu_count()} cores, load {loadavg()}; fleet in {base}", flush=True)
        shape = {"devices": args.devices, "lines": args.lines, "seed": args.seed,
                 "generator": Path(fleetgen.__file__).read_text()}
        marker = base / "fleet.json"
        if marker.exists() and json.loads(marker.read_text()) == shape:
            print(f"reusing the fleet in {base}", flush=True)
        else:
            marker.unlink(missing_ok=True)
            w0 = time.perf_counter()
            nbytes = fleetgen.write_fleet(base / "snapshots", args.devices, args.lines, args.seed)
            marker.write_text(json.dumps(shape))
            print(f"wrote {args.devices} configs x {args.lines} lines ({nbytes / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - w0:.1f} s", flush=True)
        for n in sizes:
            fleetgen.write_inventory(base / f"inventory-{n}", n, args.seed, args.inventory_neighbors)
        change_path = fleetgen.write_change(base / "changes")

        results: dict = {"devices": args.devices, "lines": args.lines, "seed": args.seed, "workers": args.workers,
                         "cores": os.cpu_count(), "load_start": loadavg(), "netchange": {}}
        for n in sizes:
            print(f"netchange: plan_snapshots over {n} devices, {args.workers} workers ...", flush=True)
            r = netchange_subprocess(base / "snapshots", base / f"inventory-{n}", change_path, args.workers)
            results["netchange"][n] = r
            print(f"  {r['ok']}/{r['devices']} plans as expected ({r['bad']} wrong, {r['errors']} errors)"
                  f"{'; first problem: ' + r['first_problem'] if r['first_problem'] else ''}")
            print(f"  plan wall {r['wall']:.1f} s (+ inventory/change load {r['setup_wall']:.1f} s); CPU: workers "
                  f"{r['workers_cpu']:.1f} s, parent {r['parent_cpu']:.1f} s; peak RSS parent "
                  f"{r['parent_peak_rss_mb']:.0f} MB, largest worker {r['worker_peak_rss_mb']:.0f} MB; "
                  f"load {r['load_before']} -> {r['load_after']}", flush=True)

        step = max(1, args.devices // max(1, args.naive_sample))
        sample = list(range(0, args.devices, step))[:args.naive_sample]
        print(f"naive: ciscoconfparse2 parse x2 + Diff on {len(sample)} sampled devices (one core) ...", flush=True)
        naive = run_naive(base / "snapshots", sample, args.lines, args.seed)
        per_cpu = statistics.mean(x["cpu"] for x in naive)
        per_wall = statistics.mean(x["wall"] for x in naive)
        results["naive"] = {"sample": len(naive), "per_device_cpu": per_cpu, "per_device_wall": per_wall,
                            "fleet_cpu_extrapolated": per_cpu * args.devices,
                            "fleet_wall_extrapolated": per_wall * args.devices, "runs": naive}
        results["load_end"] = loadavg()

        full = results["netchange"][args.devices]
        print("\n=== summary ===")
        print(f"fleet: {args.devices} cisco_ios devices x {args.lines} lines, change {fleetgen.CHANGE_ID}; "
              f"{os.cpu_count()} cores, load {results['load_start']} -> {results['load_end']}")
        print(f"naive (ciscoconfparse2 x2 + Diff), mean of {len(naive)}: {per_cpu:.2f} s CPU ({per_wall:.2f} s wall) per "
              f"device -> x{args.devices} = {per_cpu * args.devices / 60:.1f} min CPU on one core "
              f"({per_wall * args.devices / 60:.1f} min wall) [extrapolated]")
        print(f"netchange plan_snapshots, {args.workers} workers: {full['wall']:.1f} s wall, "
              f"{full['workers_cpu'] + full['parent_cpu']:.1f} s CPU ({full['ok']}/{full['devices']} plans correct)")
        print(f"ratio (naive one-core extrapolated wall / netchange wall): {per_wall * args.devices / full['wall']:.0f}x; "
              f"CPU per device: naive {per_cpu * 1000:.0f} ms vs netchange "
              f"{(full['workers_cpu'] + full['parent_cpu']) / full['devices'] * 1000:.0f} ms "
              f"({per_cpu * full['devices'] / (full['workers_cpu'] + full['parent_cpu']):.0f}x)")
        for n, r in results["netchange"].items():
            print(f"memory at {n} devices: parent peak RSS {r['parent_peak_rss_mb']:.0f} MB, largest worker "
                  f"{r['worker_peak_rss_mb']:.0f} MB")
        spot = full["spot"]
        if spot:
            print(f"\nspot check {fleetgen.host_name(0)}: ops {spot['ops']}\n  " + "\n  ".join(spot["commands"]))
            print("  refresh: " + "; ".join(c for cs in spot["refresh"] for c in cs))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        if full["ok"] != full["devices"]:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
