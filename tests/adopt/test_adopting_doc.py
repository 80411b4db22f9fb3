"""docs/ADOPTING.md works as written: its blocks marked `<!-- tested -->` run in order in a fresh folder,
with the snapshots a `netchange backup` would have written put in place where the doc says so."""

from __future__ import annotations

import json
import re
import subprocess
from importlib.metadata import version

from .conftest import NETCHANGE, REPO, clean_env
from .test_inventory_adoption import PLAIN

DOC = REPO / "docs" / "ADOPTING.md"
BLOCK = re.compile(r"<!-- (tested[^>]*) -->\n```sh\n(.*?)```", re.S)


def test_tested_blocks_are_there():
    marks = [m.group(1) for m in BLOCK.finditer(DOC.read_text())]
    assert len(marks) >= 6 and "tested, with snapshots" in marks


def test_adopting_walkthrough_runs_as_written(tmp_path):
    script = ["set -euo pipefail"]
    for m in BLOCK.finditer(DOC.read_text()):
        if "with snapshots" in m.group(1):
            # what `netchange backup -o snapshots` writes for these four devices
            script.append(f"cp -r {PLAIN / 'snapshots'} snapshots")
        script.append(m.group(2))
    env = clean_env(HOME=str(tmp_path), PATH=f"{NETCHANGE.parent}:{clean_env()['PATH']}")
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert "Traceback" not in out and not re.search(r"^error ", p.stderr, re.M), out[-4000:]
    net = tmp_path / "mynet"
    assert f"netchange {version('netchange')}" in p.stdout
    assert "1 file(s): 0 error(s)" in p.stdout  # validate after step 5
    plan = json.loads((net / "out" / "CHG-0310.plan.json").read_text())
    assert {d["host"]: d["platform"] for d in plan["devices"]} == {
        "edge-ios-1": "cisco_ios", "edge-eos-1": "arista_eos", "edge-junos-1": "juniper_junos", "fw-1": "nftables"}
    assert "exit 2" in p.stdout  # --detailed-exitcode: changes
    assert (net / "changed.txt").read_text().split() == ["policies/changes/CHG-0311.yaml"]
    assert json.loads((net / "policies" / "change-request.schema.json").read_text())["$id"] == "change-request.schema.json"
