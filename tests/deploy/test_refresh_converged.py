"""Route expectations after a refresh on routers without soft-reconfiguration inbound (issue 12, item 1).

A correct change used to be rolled back by a race: the post-check read the route once, before bgpd had
re-run the policy. Here each change is deployed 20 times in a row, each time with expectations the previous
round did not meet (a stale read fails), on both profiles without an Adj-RIB-In (`lean`: delay-timer 0,
`production`: FRR's default 5 s), IPv4 and IPv6; the BGP tables are polled between the barrier and the
refresh and must not move."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.lab
ROUNDS = 20


@pytest.fixture(scope="module", params=["lean", "production"])
def no_adj_rib_in(lab, request):
    lab.lab.apply_profile(request.param)
    try:
        yield request.param
    finally:
        lab.lab.apply_profile("careful")


def tables(lab) -> dict:
    out = {}
    for afi in ("ipv4", "ipv6"):
        for prefix, paths in lab.vtysh_json("r1", f"show bgp {afi} unicast json")["routes"].items():
            out[prefix] = sorted((p["nexthops"][0]["ip"], p.get("locPrf"), bool(p.get("bestpath"))) for p in paths)
    return out


def new_policy(i: int, strategy: str) -> str:
    return f"""
id: CHG-95{i:02d}
title: New lists and route-maps bound inbound from r3, round {i}
requested_by: tests
strategy: {strategy}
targets: {{hosts: [r1]}}
routing:
  prefix_lists:
    - name: PL-LOOP{i}
      afi: ipv4
      entries: [{{seq: 10, action: permit, prefix: 203.0.113.0/24}}, {{seq: 20, action: permit, prefix: 198.18.3.0/24}}]
    - name: PL-LOOP{i}-V6
      afi: ipv6
      entries: [{{seq: 10, action: permit, prefix: "2001:db8:203::/48"}}, {{seq: 20, action: permit, prefix: "2001:db8:3::/48"}}]
  route_maps:
    - name: RM-LOOP{i}
      entries: [{{seq: 10, action: permit, match: {{prefix_list: PL-LOOP{i}}}, set: {{local_preference: {250 + i}}}}}]
    - name: RM-LOOP{i}-V6
      entries: [{{seq: 10, action: permit, match: {{prefix_list: PL-LOOP{i}-V6}}, set: {{local_preference: {250 + i}}}}}]
  bindings:
    - {{neighbor: 198.18.1.3, afi: ipv4, direction: in, route_map: RM-LOOP{i}}}
    - {{neighbor: "2001:db8:1:2::2", afi: ipv6, direction: in, route_map: RM-LOOP{i}-V6}}
verify:
  routes:
    - {{device: r1, prefix: 203.0.113.0/24, attributes: {{local_preference: {250 + i}}}}}
    - {{device: r1, prefix: "2001:db8:203::/48", attributes: {{local_preference: {250 + i}}}}}
"""


def edit_bound(i: int, strategy: str) -> str:
    return f"""
id: CHG-96{i:02d}
title: Raise r3's routes, round {i}
requested_by: tests
strategy: {strategy}
targets: {{hosts: [r1]}}
routing:
  route_maps:
    - name: RM-R3-IN
      entries:
        - {{seq: 10, action: permit, description: backup upstream, match: {{prefix_list: PL-R3-IN}}, set: {{local_preference: {300 + i}}}}}
    - name: RM-R3-V6-IN
      entries:
        - {{seq: 10, action: permit, match: {{prefix_list: PL-R3-V6-IN}}, set: {{local_preference: {300 + i}}}}}
verify:
  routes:
    - {{device: r1, prefix: 203.0.113.0/24, attributes: {{local_preference: {300 + i}}}}}
    - {{device: r1, prefix: "2001:db8:203::/48", attributes: {{local_preference: {300 + i}}}}}
"""


@pytest.mark.parametrize("make", [new_policy, edit_bound], ids=["new-list-route-map-binding", "edit-bound-route-map"])
def test_route_expectations_hold_20_times_in_a_row_without_adj_rib_in(env, lab, no_adj_rib_in, make):
    # FRR's default delay timer applies in-place edits by itself: there, only versioned changes are safe
    strategy = "versioned" if no_adj_rib_in == "production" else "in_place"
    moved = []
    for i in range(ROUNDS):
        before = tables(lab)

        def watch(_wave, first=i == 0, i=i, before=before):
            # the first round watches longer than FRR's 5 s delay timer; later rounds take two reads
            t0 = time.monotonic()
            while True:
                if tables(lab) != before:
                    moved.append(i)
                if time.monotonic() - t0 > (5.5 if first else 0.0):
                    return
                time.sleep(0.3)

        rep = env.deployer(env.change(make(i, strategy)), hooks={"after_barrier": watch}).run()
        assert rep["verdict"] == "deployed", f"round {i}: {rep['summary']}"
        checks = {c["check"]: c for d in rep["devices"] for c in d["checks"]}
        for prefix in ("203.0.113.0/24", "2001:db8:203::/48"):
            assert checks[f"route {prefix} present on r1"]["ok"], checks
        for afi, nbr in (("ipv4", "198.18.1.3"), ("ipv6", "2001:db8:1:2::2")):
            c = checks[f"refresh {nbr} {afi} in"]
            assert c["ok"] and "no Adj-RIB-In" in c["detail"], c
    assert not moved, f"a BGP table moved between the barrier and the refresh in rounds {moved}"
