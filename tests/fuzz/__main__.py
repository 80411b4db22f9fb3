"""The fuzz suite on demand: `python -m tests.fuzz [--long] ...` from the repository root (or `scripts/fuzz`).

Without options it runs what CI runs (the issue-11 inputs, 60 change requests, 25 mutated configs per
platform); `--long` runs 10,000 generated change requests and 10,000 mutated configs per platform.
Findings are counted by signature (not stopped at), the first cases of each are saved under --out with
the command that replays them, and a JSON report and a short summary are written there.

Cases come from the same builders as the short run, seeded per case from --seed (case i of target t in
shard k uses the seed derived from (seed, t, k, i)), so a run is reproducible and shards never overlap.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

LONG_CHANGES = 10_000
LONG_CONFIGS = 10_000


def _targets(args) -> list[tuple[str, int]]:
    from .configs import PLATFORMS

    platforms = args.platforms.split(",") if args.platforms else list(PLATFORMS)
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise SystemExit(f"unknown platform(s): {', '.join(unknown)} (known: {', '.join(PLATFORMS)})")
    out = [("seeds", 0)] if not args.no_seeds else []
    if args.changes:
        out.append(("changes", args.changes))
    out += [(p, args.configs) for p in platforms if args.configs]
    return out


def _case_seed(seed: int, target: str, shard: int, i: int) -> int:
    return random.Random(f"{seed}/{target}/{shard}/{i}").getrandbits(64)


def run_shard(args, shard: int, shards: int, out: Path) -> dict:
    from .seeds import seed_cases
    from .suite import Session, build_change_case, build_config_case

    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last_report = started
    per_target: dict[str, int] = {}
    generator_errors: list[dict] = []  # a bug of the fuzzer, not of netchange: logged, the case skipped

    def write(session) -> dict:  # after every target, so an interrupted run keeps what it found
        report = {"shard": shard, "seed": args.seed, "targets": per_target, "seconds": round(time.monotonic() - started, 1),
                  "generator_errors": generator_errors, **session.tally.as_dict()}
        (out / "report.json").write_text(json.dumps(report, indent=1))
        return report

    with Session(out_dir=out / "cases", budget=args.budget) as session:
        for target, total in _targets(args):
            if target == "seeds":
                if shard == 0:
                    for case in seed_cases().values():
                        session.execute(case)
                    per_target["seeds"] = len(seed_cases())
                continue
            mine = range(shard, total, shards)
            for n, i in enumerate(mine, 1):
                case_seed = f"{args.seed}/{target}/{shard}/{i}"
                rnd = random.Random(_case_seed(args.seed, target, shard, i))
                try:
                    case = build_change_case(rnd) if target == "changes" else build_config_case(target, rnd)
                except Exception as e:  # noqa: BLE001
                    generator_errors.append({"case_seed": case_seed, "error": f"{type(e).__name__}: {e}"})
                    print(f"[shard {shard}] generator error in case {case_seed}: {type(e).__name__}: {e}", file=sys.stderr)
                    continue
                case.data["case_seed"] = case_seed
                session.execute(case)
                if time.monotonic() - last_report > args.progress_every or n == len(mine):
                    last_report = time.monotonic()
                    t = session.tally
                    print(f"[shard {shard}] {target}: {n}/{len(mine)} cases, {t.failed_cases} failing so far, "
                          f"{len(t.counts)} signatures, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
            per_target[target] = len(mine)
            write(session)
        return write(session)


def merge(reports: list[dict]) -> dict:
    sigs: dict[str, dict] = {}
    kinds: dict[str, int] = {}
    steps: dict[str, dict] = {}
    targets: dict[str, int] = {}
    for r in reports:
        for t, n in r["targets"].items():
            targets[t] = targets.get(t, 0) + n
        for k, n in r["by_kind"].items():
            kinds[k] = kinds.get(k, 0) + n
        for s in r["by_signature"]:
            m = sigs.setdefault(s["signature"], {"signature": s["signature"], "cases": 0, "examples": []})
            m["cases"] += s["cases"]
            m["examples"] += s["examples"][: max(0, 3 - len(m["examples"]))]
        for name, st in r["steps"].items():
            m = steps.setdefault(name, {"count": 0, "total_s": 0.0, "max_s": 0.0})
            m["count"] += st["count"]
            m["total_s"] += st["mean_ms"] * st["count"] / 1000
            m["max_s"] = max(m["max_s"], st["max_s"])
    return {"targets": targets, "cases": sum(r["cases"] for r in reports), "failed_cases": sum(r["failed_cases"] for r in reports),
            "seconds": max((r["seconds"] for r in reports), default=0), "by_kind": kinds,
            "by_signature": sorted(sigs.values(), key=lambda s: -s["cases"]),
            "steps": {k: {"count": v["count"], "mean_ms": round(1000 * v["total_s"] / v["count"], 1), "max_s": v["max_s"]}
                      for k, v in sorted(steps.items())},
            "slow_steps": [s for r in reports for s in r.get("slow_steps", [])][:50],
            "generator_errors": [e for r in reports for e in r.get("generator_errors", [])]}


def summary(report: dict) -> str:
    lines = [f"netchange fuzz: {report['cases']} cases ({', '.join(f'{t} {n}' for t, n in report['targets'].items())}) "
             f"in {report['seconds']:.0f} s; {report['failed_cases']} with findings",
             "findings by kind: " + (", ".join(f"{k} {n}" for k, n in sorted(report["by_kind"].items())) or "none"),
             *([f"fuzzer's own generator errors (cases skipped): {len(report['generator_errors'])}"] if report.get("generator_errors") else []),
             ""]
    if report["by_signature"]:
        # One row per root cause: the same reason on several platforms (`render[frr]`, `render[cisco_ios]`) is one row.
        groups: dict[str, dict] = {}
        for s in report["by_signature"]:
            where = re.findall(r"\[([^\]]+)\]", s["signature"])
            root = re.sub(r" ?\[[^\]]+\]", "", s["signature"])
            g = groups.setdefault(root, {"cases": 0, "where": [], "ref": ""})
            g["cases"] = max(g["cases"], s["cases"])
            g["where"] += [w for w in where if w not in g["where"]]
            g["ref"] = g["ref"] or next((e["case"] for e in s["examples"] if e.get("case")), "")
        lines += ["| cases (max per platform) | finding | platforms / configs | first reproducer |", "|---:|---|---|---|"]
        for root, g in sorted(groups.items(), key=lambda kv: -kv[1]["cases"]):
            lines.append(f"| {g['cases']} | `{root}` | {', '.join(g['where'])} | {g['ref']} |")
        lines.append("")
    lines += ["| step | runs | mean ms | max s |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {v['count']} | {v['mean_ms']} | {v['max_s']} |" for k, v in report["steps"].items()]
    return "\n".join(lines) + "\n"


def replay(directory: Path, budget: float) -> int:
    from .suite import Case, Session, describe

    data = json.loads((directory / "case.json").read_text())
    with Session(budget=budget) as session:
        findings = session.execute(Case(data["kind"], data["data"]))
    print(describe(findings) if findings else "no findings: the case passes now")
    return 1 if findings else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--long", action="store_true", help=f"{LONG_CHANGES} change requests and {LONG_CONFIGS} configs per platform")
    ap.add_argument("--changes", type=int, default=None, help="generated change requests (default 60; --long 10000)")
    ap.add_argument("--configs", type=int, default=None, help="mutated configs per platform (default 25; --long 10000)")
    ap.add_argument("--platforms", default="", help="comma-separated subset of: frr,cisco_ios,arista_eos,aruba_aoscx,"
                                                    "juniper_junos,cisco_nxos,nftables")
    ap.add_argument("--no-seeds", action="store_true", help="skip the hand-written issue-11 inputs")
    ap.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel worker processes (shards)")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds one operation may take before it counts as a hang")
    ap.add_argument("--out", type=Path, default=Path("fuzz-out"), help="report and reproducers (default ./fuzz-out)")
    ap.add_argument("--replay", type=Path, help="run one saved case (a folder with case.json) again and print its findings")
    ap.add_argument("--merge", action="store_true", help="only merge the shard reports already under --out")
    ap.add_argument("--progress-every", type=float, default=30.0, help=argparse.SUPPRESS)
    ap.add_argument("--shard", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    if args.replay:
        return replay(args.replay, args.budget)
    args.changes = args.changes if args.changes is not None else (LONG_CHANGES if args.long else 60)
    args.configs = args.configs if args.configs is not None else (LONG_CONFIGS if args.long else 25)
    if args.shard is not None:  # one of --jobs worker processes
        run_shard(args, args.shard, args.jobs, args.out / f"shard-{args.shard}")
        return 0
    started = time.monotonic()
    if args.merge:
        reports = [json.loads(p.read_text()) for p in sorted(args.out.glob("shard-*/report.json"))]
    elif args.jobs <= 1:
        reports = [run_shard(args, 0, 1, args.out / "shard-0")]
    else:
        child = ["--changes", str(args.changes), "--configs", str(args.configs), "--seed", str(args.seed), "--jobs", str(args.jobs),
                 "--budget", str(args.budget), "--out", str(args.out), "--progress-every", str(args.progress_every)]
        child += (["--platforms", args.platforms] if args.platforms else []) + (["--no-seeds"] if args.no_seeds else [])
        procs = [subprocess.Popen([sys.executable, "-m", "tests.fuzz", *child, "--shard", str(k)],
                                  cwd=Path(__file__).resolve().parents[2], env={**os.environ}) for k in range(args.jobs)]
        codes = [p.wait() for p in procs]
        if any(codes):
            print(f"a shard failed (exit codes {codes})", file=sys.stderr)
            return 2
        reports = [json.loads((args.out / f"shard-{k}" / "report.json").read_text()) for k in range(args.jobs)]
    report = merge(reports)
    report["seconds"] = max((r["seconds"] for r in reports), default=0) if args.merge else round(time.monotonic() - started, 1)
    report["command"] = "python -m tests.fuzz " + " ".join(argv if argv is not None else sys.argv[1:])
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    text = summary(report)
    (args.out / "summary.md").write_text(text)
    print(text)
    return 1 if report["failed_cases"] else 0


if __name__ == "__main__":
    sys.exit(main())
