"""netchange deploy against a hand-written nornir + netmiko script (benchmarks/nornir_push.py), same run, same lab.

    sudo .venv/bin/python benchmarks/deploy_vs_script.py --edges 50 --rounds 5

Brings up the scale lab (pipeline/lab/scale.py: N edge routers, two upstreams), then, for 50 edges and for
one edge, alternates (order swapped every round) between:
- `netchange deploy CHANGE` as a user runs it (a fresh process: start-up, validation, guard, commit, barrier,
  refresh, post-checks), editing RM-U2-IN's local preference on every target;
- the script (a fresh process): the same edit pushed with netmiko_send_config, then `clear bgp ipv4 unicast *
  soft in`, no checks.
Each run changes the value (so every run is a real edit). Reports the median wall time of each, their ratio,
and the peak RSS of each process (from wait4). The lab is torn down at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.lab import Lab  # noqa: E402
from pipeline.lab.scale import generate  # noqa: E402

CHANGE = """id: {cid}
title: Move the edges to upstream u2 (benchmark)
requested_by: benchmark
targets: {targets}
routing:
  prefix_lists:  # as the edges have it: the change names what its route-map matches (validate's NC103)
    - name: PL-U2-IN
      afi: ipv4
      entries:
        - {{seq: 10, action: permit, prefix: 203.0.113.0/24}}
        - {{seq: 20, action: permit, prefix: 198.18.3.0/24}}
  route_maps:
    - name: RM-U2-IN
      entries:
        - {{seq: 10, action: permit, match: {{prefix_list: PL-U2-IN}}, set: {{local_preference: {lp}}}}}
"""


# Both run as a user's Python does: byte-compiled modules cached (PYTHONDONTWRITEBYTECODE, set on some CI
# machines, would make netchange compile its own modules from source on every run; the script is one file).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, output) of one child process."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env or ENV, cwd=cwd)
    out = p.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({p.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--prefix", default="ncb")
    ap.add_argument("--keep", action="store_true", help="leave the lab up")
    ap.add_argument("--reuse", action="store_true", help="use the lab already up under --prefix")
    ap.add_argument("--only", choices=("all", "one"), help="only the fleet-wide or only the one-router runs")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="netchange-bench-"))
    topo = tmp / "scale.yaml"
    from pipeline.lab.lab import _dump_topology

    topo.write_text(_dump_topology(generate(args.edges)))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "pipeline"), str(REPO / "benchmarks")],
                   env=ENV, check=False)
    lab = Lab(topo, prefix=args.prefix)
    if not (args.reuse and lab.is_up()):
        t0 = time.monotonic()
        lab.up(fresh=True, converge_timeout=300)
        print(f"lab of {args.edges} edges up in {time.monotonic() - t0:.1f} s", flush=True)
    try:
        # A project as a user has one: policies/ (the repository's objects) and the lab's inventory.
        proj = tmp / "proj"
        (proj / "policies" / "changes").mkdir(parents=True)
        shutil.copytree(REPO / "policies" / "objects", proj / "policies" / "objects")
        shutil.copytree(lab.inventory_path, proj / "inventory")
        ssh = Path("/run/netchange") / args.prefix / "ssh"
        netchange = [str(REPO / ".venv" / "bin" / "netchange")]
        script = [sys.executable, str(REPO / "benchmarks" / "nornir_push.py"), "--inventory", str(proj / "inventory"),
                  "--key", str(ssh / "id_ed25519"), "--known-hosts", str(ssh / "known_hosts")]
        first = sorted(n for n, node in lab.topology.nodes.items() if node.role == "edge")[0]
        scenarios = [("all", "{roles: [edge]}", []), ("one", f"{{hosts: [{first}]}}", ["--hosts", first])]
        lp = 300
        results = {}
        for name, targets, script_args in scenarios:
            if args.only and args.only != name:
                continue
            nc, sc = [], []
            for r in range(args.rounds + 1):  # round 0 warms the page cache and the routers' sshd; not counted
                runs = []
                for who in (("netchange", "script") if r % 2 == 0 else ("script", "netchange")):
                    lp += 1
                    if who == "netchange":
                        cid = f"BEN-{lp}"
                        f = proj / "policies" / "changes" / f"{cid}.yaml"
                        f.write_text(CHANGE.format(cid=cid, targets=targets, lp=lp))
                        wall, rss, out = timed(netchange + ["-q", "deploy", str(f), "--report", str(tmp / f"{cid}.json")],
                                               cwd=proj)
                        if r:
                            nc.append((wall, rss))
                    else:
                        wall, rss, out = timed(script + ["--lp", str(lp), *script_args])
                        if r:
                            sc.append((wall, rss))
                    runs.append(f"{who} {wall:.2f} s")
                    lab.wait_converged(120)
                print(f"{name} round {r}{' (warm-up)' if r == 0 else ''}: {', '.join(runs)}", flush=True)
            results[name] = (nc, sc)
        print()
        print(f"{'targets':<12}{'netchange':>12}{'script':>10}{'ratio':>8}{'RSS netchange':>16}{'RSS script':>12}")
        for name, (nc, sc) in results.items():
            n = statistics.median(w for w, _ in nc)
            s = statistics.median(w for w, _ in sc)
            label = f"{args.edges} routers" if name == "all" else "1 router"
            print(f"{label:<12}{n:>11.2f}s{s:>9.2f}s{n / s:>7.2f}x{max(m for _, m in nc):>13.0f} MB"
                  f"{max(m for _, m in sc):>9.0f} MB")
        print(f"(median of {args.rounds}; each run a fresh process; peak RSS is the largest of the runs)")
    finally:
        if not args.keep:
            lab.down()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
