"""Commit-then-refresh against real FRR: nothing moves before the refresh, then exactly what the plan predicted."""

from __future__ import annotations

import time

import pytest

from pipeline.plan.run import plan_live

pytestmark = pytest.mark.lab

CHANGE_IN = """
id: CHG-9001
title: Prefer r3 for ext1 with a new inbound policy
requested_by: tests
targets: {hosts: [r1]}
routing:
  prefix_lists:
    - name: PL-EXT1
      afi: ipv4
      entries: [{seq: 10, action: permit, prefix: 203.0.113.0/24}]
    - name: PL-EXT1-V6
      afi: ipv6
      entries: [{seq: 10, action: permit, prefix: "2001:db8:203::/48"}]
  route_maps:
    - name: RM-R3-IN-NEW
      entries:
        - {seq: 10, action: permit, match: {prefix_list: PL-EXT1}, set: {local_preference: 300}}
        - {seq: 20, action: permit, match: {prefix_list: PL-R3-IN}}
    - name: RM-R3-V6-IN-NEW
      entries:
        - {seq: 10, action: permit, match: {prefix_list: PL-EXT1-V6}, set: {local_preference: 300}}
  bindings:
    - {neighbor: 198.18.1.3, afi: ipv4, direction: in, route_map: RM-R3-IN-NEW}
    - {neighbor: "2001:db8:1:2::2", afi: ipv6, direction: in, route_map: RM-R3-V6-IN-NEW}
verify:
  max_prefix_loss: 0.5
  routes:
    - {device: r1, prefix: 203.0.113.0/24, attributes: {local_preference: 300}}
"""


def table(lab, afi: str) -> dict:
    """r1's BGP table: prefix -> sorted [(next hop, local-pref, best)]."""
    data = lab.vtysh_json("r1", f"show bgp {afi} unicast json")
    out = {}
    for prefix, paths in data["routes"].items():
        out[prefix] = sorted((p["nexthops"][0]["ip"], p.get("locPrf"), bool(p.get("bestpath"))) for p in paths)
    return out


def accepted(lab, neighbor: str, afi: str) -> dict:
    data = lab.vtysh_json("r1", f"show bgp {afi} unicast neighbors {neighbor} routes json")
    return {p: paths[0].get("locPrf", data.get("defaultLocPrf", 100)) for p, paths in data.get("routes", {}).items()}


def test_policy_is_held_until_the_refresh_then_matches_the_impact_preview(env, lab):
    change_file = env.change(CHANGE_IN)
    from pipeline.project import load_change

    change = load_change(change_file)[0]
    [plan] = list(plan_live(change, env.inventory, env.project.objects))
    assert plan.commands and plan.switch_commands, "bindings are held back to phase 2 on FRR"
    impact = {(i["neighbor"], i["afi"]): i for i in plan.impact}
    before = {afi: table(lab, afi) for afi in ("ipv4", "ipv6")}
    before_acc = {k: accepted(lab, *k) for k in impact}
    samples = []

    def hold(_devices):
        # Phase 1 and the barrier are done: watch the tables for longer than FRR's 5 s default delay.
        t0 = time.monotonic()
        while not samples or samples[-1][0] - t0 < 6.0:
            samples.append((time.monotonic(), {afi: table(lab, afi) for afi in ("ipv4", "ipv6")}))
            time.sleep(0.3)

    rep = env.deployer(change_file, hooks={"after_barrier": hold}).run()
    assert rep["verdict"] == "deployed", rep
    assert len(samples) >= 3 and samples[-1][0] - samples[0][0] > 5.0
    assert all(s == before for _, s in samples), "a BGP table moved before the refresh"
    # After phase 2 the accepted routes are exactly what the plan predicted.
    for (nbr, afi), imp in impact.items():
        now = accepted(lab, nbr, afi)
        expected = {p: lp for p, lp in before_acc[(nbr, afi)].items() if p not in imp["newly_rejected"]}
        for p in imp["newly_accepted"]:
            expected[p] = now.get(p)
        for p, attrs in imp["changed"].items():
            if "local_pref" in attrs:
                expected[p] = attrs["local_pref"][1]
        assert now == expected
    assert impact[("2001:db8:1:2::2", "ipv6")]["newly_rejected"] == ["2001:db8:3::/48"]
    best = [nh for nh, lp, b in table(lab, "ipv4")["203.0.113.0/24"] if b]
    assert best == ["198.18.1.3"], "traffic to ext1 now leaves via r3"
    checks = {c["check"]: c for d in rep["devices"] for c in d["checks"]}
    assert checks["refresh 198.18.1.3 ipv4 in"]["ok"] and checks["route 203.0.113.0/24 present on r1"]["ok"]


def test_outbound_change_is_seen_on_the_peer(env, lab):
    change_file = env.change("""
        id: CHG-9002
        title: Prepend towards r3
        requested_by: tests
        targets: {hosts: [r1]}
        routing:
          route_maps:
            - name: RM-R3-OUT
              entries:
                - {seq: 10, action: permit, match: {prefix_list: PL-LOCAL-OUT}, set: {as_path_prepend: [65001, 65001]}}
        """)
    path = lambda: lab.vtysh_json("r3", "show bgp ipv4 unicast 198.51.100.128/25 json")["paths"][0]["aspath"]["string"]  # noqa: E731
    assert path() == "65001"
    rep = env.deployer(change_file).run()
    assert rep["verdict"] == "deployed", rep
    deadline = time.monotonic() + 10
    while path() != "65001 65001 65001" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert path() == "65001 65001 65001"
    assert any(c["check"] == "refresh 198.18.1.3 out" and c["ok"] for d in rep["devices"] for c in d["checks"])


def test_deploying_an_applied_change_is_a_no_op(env, lab):
    change_file = env.change(CHANGE_IN.replace("CHG-9001", "CHG-9003"))
    assert env.deployer(change_file).run()["verdict"] == "deployed"
    rep = env.deployer(change_file).run()
    assert rep["verdict"] == "no_op" and "already applied" in rep["summary"]
