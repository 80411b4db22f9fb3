"""Plan an edit of one large prefix-list: netchange `plan --snapshots` beside hier_config's remediation.

    .venv/bin/python benchmarks/plan_list_edit.py                       # 20,000 entries, FRR and IOS
    .venv/bin/python benchmarks/plan_list_edit.py --entries 2000,5000 --code /path/to/older/checkout

The running config (snapshot) has PL-BIG with N entries, matched by a route-map bound to a neighbor; the
change request carries the whole list (a list is declared whole) with either ONE entry modified, one added
and one removed (`one`), or EVERY entry modified plus one added (`all`, the worst case for the planner).

Per case, each in a fresh subprocess so its peak RSS is its own (wait4 rusage of that child):
- netchange CLI: `python -m pipeline.cli plan CHANGE --snapshots DIR --format json` (what a user runs),
  wall and CPU time, peak RSS; and, in a second subprocess, the split between loading the change file
  (`load_change`: YAML + model) and planning the device (`plan_device`: parse, diff, order, render,
  expectations, diff text, rollback);
- hier_config 2.3 (the text-remediation tool a user would otherwise run): running and intended config
  text loaded, `remediation_config()` walked. It is given the intended config text (rendering it is
  the user's problem there) and answers no ordering, rollback or refresh questions.

`--code DIR` plans with the `pipeline` package of another checkout (e.g. the commit before a change:
`git archive <rev> pipeline templates | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTS = {"frr": "r1", "cisco_ios": "ios1"}


def prefix(i: int) -> str:
    return str(ipaddress.ip_network((int(ipaddress.ip_address("198.18.0.0")) + i * 4, 30)))


def running_text(n: int, asn: int) -> str:
    lines = [f"ip prefix-list PL-BIG seq {(i + 1) * 3} permit {prefix(i)}" for i in range(n)]  # gaps (seq <= 65535)
    lines += ["route-map RM-BIG permit 10", " match ip address prefix-list PL-BIG",
              f"router bgp {asn}", " neighbor 198.51.100.2 remote-as 65002", " address-family ipv4 unicast",
              "  neighbor 198.51.100.2 route-map RM-BIG in", " exit-address-family"]
    return "\n".join(lines) + "\n"


def desired_entries(n: int, mode: str) -> list[tuple[int, str, str]]:
    entries = [((i + 1) * 3, "permit", prefix(i)) for i in range(n)]
    if mode == "all":
        entries = [(s, "deny", p) for s, _, p in entries]
    else:
        entries[n // 2] = (entries[n // 2][0], "deny", entries[n // 2][2])
        del entries[0]
    entries.append(((n + 1) * 3, "permit", "203.0.113.0/24"))
    return entries


def change_yaml(host: str, entries) -> str:
    rows = "\n".join(f"        - {{seq: {s}, action: {a}, prefix: {p}}}" for s, a, p in entries)
    return (f"id: CHG-9001\ntitle: edit PL-BIG\nrequested_by: benchmark\ntargets: {{hosts: [{host}]}}\n"
            f"routing:\n  prefix_lists:\n    - name: PL-BIG\n      afi: ipv4\n      entries:\n{rows}\n")


def intended_text(n: int, asn: int, entries) -> str:
    """For hier_config: the running config with the list as the change wants it."""
    rest = running_text(0, asn)
    return "".join(f"ip prefix-list PL-BIG seq {s} {a} {p}\n" for s, a, p in entries) + rest


def run_child(cmd: list[str], env: dict, cwd: Path) -> dict:
    """Run cmd: its own wall time, CPU time and peak RSS (os.wait4 on the child we reap ourselves)."""
    w0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - w0
        fo.seek(0)
        fe.seek(0)
        return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "rc": p.returncode,
                "stdout": fo.read(), "stderr": fe.read()}


# Import `pipeline` from --code even though this checkout is installed editable (its finder comes first).
PRELUDE = """
import sys
_code = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, _code)
# templates/ (and the demo lab's inventory/) install as pipeline.templates / pipeline.labdata (pyproject's
# package-dir): map them the same way for a checkout that has them at the top
import importlib.util, os
for _name, _dir in (("pipeline.templates", "templates"), ("pipeline.labdata", "inventory")):
    _init = os.path.join(_code, _dir, "__init__.py")
    if os.path.exists(_init) and not os.path.isdir(os.path.join(_code, *_name.split("."))):
        _spec = importlib.util.spec_from_file_location(_name, _init, submodule_search_locations=[os.path.join(_code, _dir)])
        _mod = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _mod
        _spec.loader.exec_module(_mod)
"""
CLI = PRELUDE + """
import runpy
sys.argv[0] = "netchange"
runpy.run_module("pipeline.cli", run_name="__main__")
"""

PHASES = PRELUDE + """
import json, sys, time
from pathlib import Path
from pipeline.drivers import get_driver
from pipeline.inventory import Inventory
from pipeline.model import ObjectStore
from pipeline.plan.planner import plan_device
from pipeline.project import load_change
change_path, snap, inv_dir, host = sys.argv[1:5]
h = Inventory(inv_dir).hosts[host]
drv = get_driver(h.platform); drv.prepare()
c0 = time.process_time(); change, _ = load_change(Path(change_path)); c1 = time.process_time()
text = Path(snap).read_text()
p = plan_device(h, drv, text, change, ObjectStore()); c2 = time.process_time()
print(json.dumps({"load_change": c1 - c0, "plan_device": c2 - c1, "commands": len(p.commands) + len(p.switch_commands)}))
"""

BASELINE = """
import sys, time
from hier_config import Host
running, intended = open(sys.argv[1]).read(), open(sys.argv[2]).read()
c0 = time.process_time()
h = Host("r1", "ios")
h.load_running_config(running)
h.load_generated_config(intended)
lines = [c.cisco_style_text() for c in h.remediation_config().all_children_sorted()]
print(len(lines), time.process_time() - c0)
"""


def case(work: Path, code: Path, platform: str, n: int, mode: str, baseline: bool) -> dict:
    host = HOSTS[platform]
    asn = 65001 if platform == "frr" else 65101
    proj = work / f"{platform}-{n}-{mode}"
    shutil.rmtree(proj, ignore_errors=True)
    (proj / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", proj / "policies" / "objects")
    shutil.copytree(ROOT / "tests" / "fixtures" / "fleet", proj / "inventory")
    (proj / "snaps").mkdir()
    entries = desired_entries(n, mode)
    (proj / "snaps" / f"{host}.cfg").write_text(running_text(n, asn))
    change = proj / "policies" / "changes" / "CHG-9001.yaml"
    change.write_text(change_yaml(host, entries))
    env = dict(os.environ)
    r = {"platform": platform, "entries": n, "mode": mode, "change_kb": change.stat().st_size / 1024}
    cli = run_child([sys.executable, "-c", CLI, str(code), "plan", str(change), "--snapshots", str(proj / "snaps"),
                     "--format", "json", "-o", str(proj / "plan.json")], env, code)
    if cli["rc"] != 0:
        sys.exit(f"netchange plan failed ({cli['rc']}):\n{cli['stderr'][-2000:]}")
    json.loads((proj / "plan.json").read_text())  # a complete plan document was written
    r["cli"] = {k: cli[k] for k in ("wall", "cpu", "rss_mb")}
    phases = run_child([sys.executable, "-c", PHASES, str(code), str(change), str(proj / "snaps" / f"{host}.cfg"),
                        str(proj / "inventory"), host], env, code)
    if phases["rc"] != 0:
        sys.exit(f"phase split failed:\n{phases['stderr'][-2000:]}")
    r["phases"] = json.loads(phases["stdout"].strip().splitlines()[-1])
    # FRR overwrites an entry by its seq; IOS stages each modified entry through a free seq beside it (new entry
    # at the free seq, old one removed, then back at its own seq and the staging entry removed: every line live,
    # no moment where the list matches what neither version matches; model/staging.py).
    per_modified = 1 if platform == "frr" else 4
    expected = n * per_modified + 1 if mode == "all" else 2 + per_modified
    r["commands_ok"] = r["phases"]["commands"] == expected
    if baseline:
        (proj / "running.txt").write_text(running_text(n, asn))
        (proj / "intended.txt").write_text(intended_text(n, asn, entries))
        b = run_child([sys.executable, "-c", BASELINE, str(proj / "running.txt"), str(proj / "intended.txt")], env, ROOT)
        if b["rc"] != 0:
            sys.exit(f"hier_config failed:\n{b['stderr'][-2000:]}")
        lines, cpu = b["stdout"].split()
        r["hier_config"] = {"wall": b["wall"], "cpu": b["cpu"], "remediation_cpu": float(cpu), "rss_mb": b["rss_mb"],
                            "lines": int(lines)}
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", default="20000", help="comma-separated list sizes")
    ap.add_argument("--platforms", default="frr,cisco_ios")
    ap.add_argument("--modes", default="one,all")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose pipeline package plans")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"machine: {os.cpu_count()} cores, load {load}; code: {a.code}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="netchange-listedit-") as tmp:
        for n in (int(x) for x in a.entries.split(",")):
            for platform in a.platforms.split(","):
                for mode in a.modes.split(","):
                    r = case(Path(tmp), a.code.resolve(), platform, n, mode, not a.skip_baseline)
                    results.append(r)
                    c, ph = r["cli"], r["phases"]
                    line = (f"{platform:9} {n:6} entries, {mode:3}: netchange plan {c['wall']:6.2f} s wall "
                            f"{c['cpu']:6.2f} s cpu {c['rss_mb']:5.0f} MB  (load_change {ph['load_change']:5.2f} s, "
                            f"plan_device {ph['plan_device']:5.2f} s cpu; {ph['commands']} commands"
                            f"{'' if r['commands_ok'] else ' UNEXPECTED'})")
                    if "hier_config" in r:
                        h = r["hier_config"]
                        line += (f"\n{'':9} {'':6}          hier_config {h['wall']:6.2f} s wall {h['cpu']:6.2f} s cpu "
                                 f"{h['rss_mb']:5.0f} MB  ({h['lines']} remediation lines)")
                    print(line, flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
