"""A route-map bound on a peer-group (issue 13), on a lab of its own where r1 binds its upstreams through the
group PG-UP: edited in place and versioned, the edit stays on the group (no member split off it) and every
member is refreshed exactly once."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from labsupport import TEST_LAB_PREFIX, _exclusive, lab_unavailable_reason

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]

TOPOLOGY = """
name: peergroups
mgmt: {subnet: 198.19.0.0/24}
nodes:
  r1:
    kind: frr
    role: edge
    asn: 65001
    router_id: 198.51.100.1
    routes:
      - {prefix: 198.51.100.128/25, via: blackhole}
      - {prefix: 2001:db8:100::/64, via: blackhole}
    networks: [198.51.100.128/25, 2001:db8:100::/64]
    peer_groups: {PG-UP: [r2, r3]}
    expect:
      r2: {ipv4: 1, ipv6: 1}
      r3: {ipv4: 1, ipv6: 1}
    policy: |
      ip prefix-list PL-UP-IN seq 10 permit 198.18.2.0/24
      ip prefix-list PL-UP-IN seq 20 permit 198.18.3.0/24
      ip prefix-list PL-LOCAL-OUT seq 10 permit 198.51.100.128/25
      ipv6 prefix-list PL-UP-V6-IN seq 10 permit 2001:db8:2::/48
      ipv6 prefix-list PL-UP-V6-IN seq 20 permit 2001:db8:3::/48
      ipv6 prefix-list PL-LOCAL-V6-OUT seq 10 permit 2001:db8:100::/64
      route-map RM-PG-UP-IN permit 10
       match ip address prefix-list PL-UP-IN
       set local-preference 200
      route-map RM-PG-UP-OUT permit 10
       match ip address prefix-list PL-LOCAL-OUT
      route-map RM-PG-UP-V6-IN permit 10
       match ipv6 address prefix-list PL-UP-V6-IN
      route-map RM-PG-UP-V6-OUT permit 10
       match ipv6 address prefix-list PL-LOCAL-V6-OUT
  r2:
    kind: frr
    role: upstream
    asn: 65002
    router_id: 198.51.100.2
    routes:
      - {prefix: 198.18.2.0/24, via: blackhole}
      - {prefix: 2001:db8:2::/48, via: blackhole}
    networks: [198.18.2.0/24, 2001:db8:2::/48]
    expect:
      r1: {ipv4: 1, ipv6: 1}
    policy: |
      route-map RM-R1-IN permit 10
      route-map RM-R1-OUT permit 10
      route-map RM-R1-V6-IN permit 10
      route-map RM-R1-V6-OUT permit 10
  r3:
    kind: frr
    role: upstream
    asn: 65003
    router_id: 198.51.100.3
    routes:
      - {prefix: 198.18.3.0/24, via: blackhole}
      - {prefix: 2001:db8:3::/48, via: blackhole}
    networks: [198.18.3.0/24, 2001:db8:3::/48]
    expect:
      r1: {ipv4: 1, ipv6: 1}
    policy: |
      route-map RM-R1-IN permit 10
      route-map RM-R1-OUT permit 10
      route-map RM-R1-V6-IN permit 10
      route-map RM-R1-V6-OUT permit 10
links:
  - {a: r1, b: r2, ipv4: 198.18.1.0/31, ipv6: 2001:db8:1:1::/64, bgp: true}
  - {a: r1, b: r3, ipv4: 198.18.1.2/31, ipv6: 2001:db8:1:2::/64, bgp: true}
"""

EDIT = """
id: {cid}
title: Raise the upstreams' local preference on the peer-group's import policy
requested_by: tests
strategy: {strategy}
targets: {{hosts: [r1]}}
routing:
  route_maps:
    - name: RM-PG-UP-IN
      entries:
        - {{seq: 10, action: permit, match: {{prefix_list: PL-UP-IN}}, set: {{local_preference: {lp}}}}}
"""

MEMBERS = {"198.18.1.1", "198.18.1.3"}  # r2 and r3 as r1 sees them (side b of each /31)


@pytest.fixture(scope="module")
def pglab(tmp_path_factory):
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from pipeline.lab import Lab

    topo = tmp_path_factory.mktemp("pg") / "topology.yaml"
    topo.write_text(TOPOLOGY)
    prefix = f"{TEST_LAB_PREFIX[:5]}g"
    lab = Lab(topo, prefix=prefix)
    with _exclusive(prefix):
        try:
            lab.up(fresh=True, converge_timeout=60)
            yield lab
        finally:
            lab.down()


def local_prefs(lab) -> dict:
    p = lab.exec("r1", ["vtysh", "-c", "show bgp ipv4 unicast json"])
    return {pfx: paths[0].get("locPrf") for pfx, paths in json.loads(p.stdout)["routes"].items()
            if pfx.startswith("198.18.")}


@pytest.mark.parametrize("strategy,lp", [("in_place", 300), ("versioned", 250)])
def test_route_map_on_a_peer_group_edited_refreshes_each_member_once(pglab, tmp_path, strategy, lp):
    from pipeline.deploy.deployer import Deployer, Options
    from pipeline.drivers import get_driver
    from pipeline.inventory import Inventory
    from pipeline.plan.run import plan_live
    from pipeline.project import Project, load_change

    inv = Inventory(pglab.inventory_path)
    project = Project(REPO)
    cid = "CHG-9611" if strategy == "in_place" else "CHG-9612"
    path = tmp_path / f"{cid}.yaml"
    path.write_text(textwrap.dedent(EDIT.format(cid=cid, strategy=strategy, lp=lp)))
    change = load_change(path)[0]
    [plan] = list(plan_live(change, inv, project.objects))
    assert plan.groups == {"PG-UP": sorted(MEMBERS | {"2001:db8:1:1::2", "2001:db8:1:2::2"})}, "the plan shows the members"
    assert sorted((r["neighbor"], r.get("group")) for r in plan.refresh) == [(m, "PG-UP") for m in sorted(MEMBERS)]
    every = plan.commands + plan.switch_commands
    assert not any(f"neighbor {m} route-map" in c for m in MEMBERS for c in every), "no member split off the group"
    if strategy == "versioned":
        assert any(c.strip().startswith("neighbor PG-UP route-map RM-PG-UP-IN.nc") for c in plan.switch_commands)

    rep = Deployer(path, project, Options(state_dir=tmp_path / "state"), None, inv).run()
    assert rep["verdict"] == "deployed", rep
    [r1] = rep["devices"]
    refreshed = Counter(e["target"] for e in r1["events"] if e["phase"] == "refresh")
    assert refreshed == Counter({f"{m} ipv4 in": 1 for m in MEMBERS}), "every member once, none twice"
    assert local_prefs(pglab) == {"198.18.2.0/24": lp, "198.18.3.0/24": lp}
    with __import__("pipeline.connect", fromlist=["connect"]).connect(inv.hosts["r1"]) as conn:
        after = get_driver("frr").parse(conn.send_command("show running-config"))
    assert after.bindings[("PG-UP", "ipv4", "in")].route_map.startswith("RM-PG-UP-IN")
    assert not any(k[0] in MEMBERS for k in after.bindings), "the binding stayed on the group"
