"""Deploy benchmark on the 50-router scale lab: one policy change to every edge router.

    sudo .venv/bin/python benchmarks/deploy_scale.py --edges 50

Runs, in the same lab and the same process, netchange's deploy (all edges concurrently: guard, commit,
barrier, refresh, post-checks) and a sequential baseline (the same steps one device at a time:
workers=1, waves of one): a first concurrent deploy (cold: the process's one-time costs), the measured
concurrent deploy that reverts it, then the sequential one. Prints wall time per
phase, peak RSS and the ratio; the lab is torn down at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.deploy.deployer import Deployer, Options  # noqa: E402
from pipeline.inventory import Inventory  # noqa: E402
from pipeline.lab import Lab  # noqa: E402
from pipeline.lab.scale import generate  # noqa: E402
from pipeline.project import Project  # noqa: E402

CHANGE = """id: {cid}
title: Move the edges to upstream u2 (benchmark)
requested_by: benchmark
targets: {{roles: [edge]}}
routing:
  route_maps:
    - name: RM-U2-IN
      entries:
        - {{seq: 10, action: permit, match: {{prefix_list: PL-U2-IN}}, set: {{local_preference: {lp}}}}}
"""


def deploy(tmp: Path, inv: Inventory, cid: str, lp: int, workers: int, batch: int | None) -> dict:
    f = tmp / f"{cid}.yaml"
    f.write_text(CHANGE.format(cid=cid, lp=lp))
    opts = Options(workers=workers, batch=batch, state_dir=tmp / "state")
    t0 = time.monotonic()
    rep = Deployer(f, Project(REPO), opts, None, inv).run()
    rep["wall"] = time.monotonic() - t0
    if rep["verdict"] != "deployed":
        raise SystemExit(f"{cid}: {rep['verdict']}: {rep['summary']}")
    return rep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=50)
    ap.add_argument("--prefix", default="ncs")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        topo = tmp / "scale.yaml"
        from pipeline.lab.lab import _dump_topology

        topo.write_text(_dump_topology(generate(args.edges)))
        lab = Lab(topo, prefix=args.prefix)
        t0 = time.monotonic()
        lab.up(fresh=True, converge_timeout=240)
        print(f"lab of {args.edges} edges up in {time.monotonic() - t0:.1f} s")
        try:
            inv = Inventory(lab.inventory_path)
            # The first deploy of a process also pays one-time costs (imports, template compilation) that a
            # sequential run hardly notices: it is reported, but both measured runs below start warm.
            cold = deploy(tmp, inv, "BEN-1", 300, workers=args.edges, batch=None)
            lab.wait_converged(120)
            fast = deploy(tmp, inv, "BEN-2", 100, workers=args.edges, batch=None)  # and back: the measured run
            lab.wait_converged(120)
            slow = deploy(tmp, inv, "BEN-3", 300, workers=1, batch=1)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"\n{'':28}{'netchange':>12}{'sequential':>12}")
            for k in ("connect+guard", "commit+barrier", "refresh", "postcheck"):
                print(f"{k:28}{fast['timings'].get(k, 0):>11.1f}s{slow['timings'].get(k, 0):>11.1f}s")
            print(f"{'total (wall)':28}{fast['wall']:>11.1f}s{slow['wall']:>11.1f}s")
            print(f"ratio {slow['wall'] / fast['wall']:.1f}x; first (cold) concurrent run {cold['wall']:.1f}s; "
                  f"peak RSS of the benchmark process {rss:.0f} MB; "
                  f"{sum(len(d['events']) > 0 for d in fast['devices'])} devices changed")
        finally:
            if not args.keep:
                lab.down()


if __name__ == "__main__":
    main()
