"""Validating 1,000 generated change requests (firewall and routing mixes) in one run.

    .venv/bin/python benchmarks/validate_bulk.py [--changes 1000] [--seed 3]

Builds a throw-away project (the repository's objects and guardrails, the test fleet as inventory),
writes the change requests as YAML, then times Validator.validate over all of them: YAML parsing,
schema, every semantic rule, shadowing and guardrails. Reports time and peak memory.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ruamel.yaml import YAML  # noqa: E402

from pipeline.project import Project  # noqa: E402
from pipeline.validate import Validator  # noqa: E402


def firewall_change(i: int, rnd: random.Random) -> dict:
    terms = []
    for t in range(rnd.randrange(3, 25)):
        term = {"name": f"t{t}", "action": rnd.choice(("accept", "accept", "accept", "deny"))}
        term["destinations"] = [rnd.choice(["SERVERS-V4", "WEB-SERVERS", f"203.0.113.{rnd.randrange(64)}"])]
        if rnd.random() < 0.6:
            term["sources"] = [rnd.choice(["EXTERNAL-CLIENTS-V4", "MONITORING", f"198.51.100.{rnd.randrange(256)}"])]
        if rnd.random() < 0.5:
            term["services"] = [rnd.choice(["HTTPS", "WEB", "SSH", "DNS"])]
        else:
            term["protocols"] = ["tcp"]
            term["destination_ports"] = [rnd.choice([22, 443, 8443, "1024-65535"])]
        terms.append(term)
    terms.append({"name": "default-deny", "action": "deny", "log": True})
    return {"id": f"CHG-{i}", "title": f"generated firewall change {i}", "requested_by": "bench",
            "targets": {"hosts": ["fw1"]},
            "firewall": {"filters": [{"name": f"F{i}", "attach": ["server-edge"], "terms": terms}]}}


def routing_change(i: int, rnd: random.Random) -> dict:
    entries = [{"seq": 10 * (k + 1), "action": "permit", "prefix": f"203.0.{rnd.randrange(256)}.0/24"}
               for k in range(rnd.randrange(2, 12))]
    entries.append({"seq": 1000, "action": "deny", "prefix": "0.0.0.0/0", "le": 32})
    return {"id": f"CHG-{i}", "title": f"generated routing change {i}", "requested_by": "bench",
            "targets": {"hosts": ["r1"]},
            "routing": {"prefix_lists": [{"name": f"PL-{i}", "afi": "ipv4", "entries": entries}],
                        "route_maps": [{"name": f"RM-{i}", "entries": [
                            {"seq": 10, "action": "permit", "match": {"prefix_list": f"PL-{i}"}, "set": {"local_preference": 150}}]}],
                        "bindings": [{"neighbor": "198.51.100.6", "afi": "ipv4", "direction": "in", "route_map": f"RM-{i}"}]}}


def build(root: Path, n: int, seed: int) -> list[Path]:
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    shutil.copytree(REPO / "tests" / "fixtures" / "fleet", root / "inventory")
    rnd = random.Random(seed)
    y = YAML()
    paths = []
    for i in range(1, n + 1):
        doc = firewall_change(i, rnd) if rnd.random() < 0.6 else routing_change(i, rnd)
        buf = io.StringIO()
        y.dump(doc, buf)
        p = root / "policies" / "changes" / f"CHG-{i}.yaml"
        p.write_text(buf.getvalue())
        paths.append(p)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        paths = build(root, a.changes, a.seed)
        v = Validator(Project(root))
        _ = v.inventory, v.store, v.guardrails  # project loading is not per change
        t0 = time.perf_counter()
        findings = [f for p in paths for f in v.validate(p)]
        took = time.perf_counter() - t0
        tracemalloc.start()
        v2 = Validator(Project(root))
        _ = v2.inventory, v2.store, v2.guardrails
        tracemalloc.reset_peak()
        for p in paths[:200]:
            v2.validate(p)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rules = Counter(f.rule for f in findings)
    print(f"{len(paths)} change requests validated in {took:.2f} s ({1000 * took / len(paths):.1f} ms each)")
    print(f"findings by rule: {dict(sorted(rules.items()))}")
    print(f"peak traced memory while validating 200 of them: {peak / 2**20:.1f} MiB; "
          f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
