"""`netchange undo`: a completed deploy taken back from its journal, in two phases (issue 12, item 8)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.deploy.cli import EXIT

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


def change_text(cid: str, strategy: str, lp: int) -> str:
    return f"""
id: {cid}
title: Prefer r3 inbound and prepend towards r3, with new route-maps
requested_by: tests
strategy: {strategy}
targets: {{hosts: [r1]}}
routing:
  prefix_lists:
    - name: PL-UNDO
      afi: ipv4
      entries: [{{seq: 10, action: permit, prefix: 203.0.113.0/24}}, {{seq: 20, action: permit, prefix: 198.18.3.0/24}}]
  route_maps:
    - name: RM-UNDO
      entries: [{{seq: 10, action: permit, match: {{prefix_list: PL-UNDO}}, set: {{local_preference: {lp}}}}}]
    - name: RM-UNDO-OUT
      entries:
        - {{seq: 10, action: permit, match: {{prefix_list: PL-LOCAL-OUT}}, set: {{as_path_prepend: [65001]}}}}
  bindings:
    - {{neighbor: 198.18.1.3, afi: ipv4, direction: in, route_map: RM-UNDO}}
    - {{neighbor: 198.18.1.3, afi: ipv4, direction: out, route_map: RM-UNDO-OUT}}
verify:
  routes:
    - {{device: r1, prefix: 203.0.113.0/24, attributes: {{local_preference: {lp}}}}}
"""


def tables(lab) -> dict:
    """r1's and r3's BGP tables: (node, prefix) -> sorted (next hop, local-pref, AS path, best)."""
    out = {}
    for node in ("r1", "r3"):
        for afi in ("ipv4", "ipv6"):
            for prefix, paths in lab.vtysh_json(node, f"show bgp {afi} unicast json")["routes"].items():
                out[(node, prefix)] = sorted((p["nexthops"][0]["ip"], p.get("locPrf"), p.get("path", ""),
                                              bool(p.get("bestpath"))) for p in paths)
    return out


def settle(lab, want: dict, timeout: float = 10.0) -> dict:
    """The tables once equal to *want* (or as they are at the deadline): the peer applies an outbound
    refresh on its own time."""
    deadline = time.monotonic() + timeout
    while (now := tables(lab)) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    return now


def configs(lab) -> dict[str, str]:
    return {n: lab.vtysh(n, "show running-config") for n in ("r1", "r2", "r3")}


def strategy_for(profile: str) -> str:
    return "versioned" if profile == "production" else "in_place"  # FRR's default delay timer: versioned only


def test_undo_puts_every_device_and_table_back(env, lab, lab_profile):
    before, before_tables = configs(lab), tables(lab)
    change = env.change(change_text("CHG-9701", strategy_for(lab_profile), 250))
    rep = env.deployer(change).run()
    assert rep["verdict"] == "deployed", rep["summary"]
    assert configs(lab)["r1"] != before["r1"] and settle(lab, {}, 0) != before_tables

    undo = env.deployer(change, phase="undo").run()
    assert undo["verdict"] == "undone" and EXIT[undo["verdict"]] == 0, undo["summary"]
    phases = [e["phase"] for d in undo["devices"] for e in d["events"]]
    assert phases.index("commit") < phases.index("barrier") < phases.index("refresh"), phases
    r1 = next(d for d in undo["devices"] if d["host"] == "r1")
    assert r1["status"] == "undone" and all(c["ok"] for c in r1["checks"]), r1
    assert {c["check"] for c in r1["checks"]} >= {"refresh 198.18.1.3 ipv4 in", "refresh 198.18.1.3 out"}
    assert configs(lab) == before, "every device byte-identical to before the deploy"
    assert settle(lab, before_tables) == before_tables, "the BGP tables are as before the deploy"

    again = env.deployer(change, phase="undo").run()
    assert again["verdict"] == "refused" and "nothing to undo" in again["summary"]
    assert configs(lab) == before


def test_undo_after_a_later_change_on_the_same_objects_is_refused_with_the_drift_named(env, lab, lab_profile):
    first = env.change(change_text("CHG-9702", strategy_for(lab_profile), 250))
    assert env.deployer(first).run()["verdict"] == "deployed"
    later = env.change(change_text("CHG-9703", strategy_for(lab_profile), 260))
    assert env.deployer(later).run()["verdict"] == "deployed"
    after_later = configs(lab)
    rep = env.deployer(first, phase="undo").run()
    assert rep["verdict"] == "refused" and EXIT[rep["verdict"]] == 3, rep["summary"]
    assert "r1: changed since CHG-9702 was deployed (drift): " in rep["summary"]
    assert "route-map RM-UNDO" in rep["summary"] and "undo refused, nothing was sent" in rep["summary"]
    assert not any(e["phase"] == "commit" for d in rep["devices"] for e in d["events"])
    assert configs(lab) == after_later, "nothing was sent"


def test_journal_rollback_after_a_completed_deploy_says_so_instead_of_claiming_a_restore(env, lab, lab_profile):
    before = configs(lab)
    change = env.change(change_text("CHG-9704", strategy_for(lab_profile), 250))
    assert env.deployer(change).run()["verdict"] == "deployed"
    after = configs(lab)
    rep = env.deployer(change, phase="rollback").run()
    assert rep["verdict"] == "refused", rep["summary"]  # it said `rolled_back: restored 0 device(s)`, exit 0
    assert "nothing to roll back" in rep["summary"] and "netchange undo" in rep["summary"]
    assert configs(lab) == after

    # the command the message names, as an operator runs it: undone (exit 0), then nothing left (exit 3)
    argv = [sys.executable, "-m", "pipeline.cli", "undo", str(change), "--journal-dir", str(env.tmp / "state" / "journal"),
            "--inventory", str(env.inventory.directory)]
    first = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "undone" in first.stderr, first.stderr
    assert configs(lab) == before
    second = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 3 and "nothing to undo" in second.stderr, second.stderr


EDIT_BOUND = """
id: {cid}
title: Prefer r2 even more, as a new version of its bound import policy
requested_by: tests
strategy: versioned
targets: {{hosts: [r1]}}
routing:
  prefix_lists:
    - name: PL-R2-IN
      afi: ipv4
      entries: [{{seq: 10, action: permit, prefix: 203.0.113.0/24}}, {{seq: 20, action: permit, prefix: 198.18.2.0/24}}]
  route_maps:
    - name: RM-R2-IN
      entries:
        - {{seq: 10, action: permit, description: primary upstream, match: {{prefix_list: PL-R2-IN}}, set: {{local_preference: 240}}}}
"""


def blocks(config: str) -> list[str]:
    """A running configuration as its `!`-separated blocks, sorted: the same configuration in another order."""
    return sorted(b.strip() for b in config.split("\n!\n"))


def test_undo_of_a_versioned_edit_of_a_bound_route_map_restores_every_block(env, lab, lab_profile):
    """The versioned deploy re-created RM-R2-IN as a new version, re-pointed the binding and removed the old
    route-map: undo brings back the route-map under its own name, bound as before, and nothing else. Each
    block is byte-identical; only where FRR lists it differs: FRR prints route-maps in the order they were
    created, so the re-created RM-R2-IN comes after RM-R3-V6-OUT (putting it back in place would mean
    deleting and re-creating every route-map after it, bound ones included: not worth a window)."""
    before, before_tables = configs(lab), tables(lab)
    change = env.change(EDIT_BOUND.format(cid="CHG-9705"))
    rep = env.deployer(change).run()
    assert rep["verdict"] == "deployed", rep["summary"]
    assert "route-map RM-R2-IN.nc" in configs(lab)["r1"]
    undo = env.deployer(change, phase="undo").run()
    assert undo["verdict"] == "undone", undo["summary"]
    after = configs(lab)
    assert {n: blocks(c) for n, c in after.items()} == {n: blocks(c) for n, c in before.items()}, \
        "every block byte-identical to before the deploy"
    assert after["r2"] == before["r2"] and after["r3"] == before["r3"]
    assert settle(lab, before_tables) == before_tables
