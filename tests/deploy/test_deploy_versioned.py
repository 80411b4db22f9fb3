"""Versioned strategy on real FRR: build new versions, switch bindings in one command, collect the old."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab

VERSIONED = """
id: CHG-9301
title: Narrow what r3 may send, make-before-break
requested_by: tests
strategy: versioned
targets: {hosts: [r1]}
routing:
  prefix_lists:
    - name: PL-R3-IN
      afi: ipv4
      entries:
        - {seq: 10, action: permit, prefix: 203.0.113.0/24}
verify:
  max_prefix_loss: 0.5
"""


def test_versioned_change_switches_to_new_objects_and_collects_the_old(env, lab, lab_profile):
    rep = env.deployer(env.change(VERSIONED)).run()
    assert rep["verdict"] == "deployed", rep
    running = env.policy("r1")
    assert "PL-R3-IN.nc1" in running.prefix_lists and "PL-R3-IN" not in running.prefix_lists
    assert "RM-R3-IN.nc1" in running.route_maps and "RM-R3-IN" not in running.route_maps, "old version collected"
    assert running.bindings[("198.18.1.3", "ipv4", "in")].route_map == "RM-R3-IN.nc1"
    assert running.route_maps["RM-R3-IN.nc1"].entries[0].match.prefix_list == "PL-R3-IN.nc1"
    routes = lab.vtysh_json("r1", "show bgp ipv4 unicast neighbors 198.18.1.3 routes json")["routes"]
    assert set(routes) == {"203.0.113.0/24"}, "198.18.3.0/24 is no longer accepted from r3"
    events = [e["phase"] for d in rep["devices"] for e in d["events"]]
    assert events.index("switch") < events.index("refresh") < events.index("gc")
    again = env.deployer(env.change(VERSIONED.replace("CHG-9301", "CHG-9302"))).run()
    assert again["verdict"] == "no_op", "the logical view sees the change as applied"
