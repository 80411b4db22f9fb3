"""The topology model, naming and inventory generation (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError, LabError
from pipeline.inventory import Inventory
from pipeline.lab import netns, topology
from pipeline.lab.lab import Lab
from pipeline.lab.scale import generate

REPO = Path(__file__).resolve().parents[2]
TOPO = REPO / "inventory" / "topology.yaml"


def _with(tmp_path: Path, old: str, new: str) -> Path:
    p = tmp_path / "topology.yaml"
    text = TOPO.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    return p


def test_default_topology_loads_with_both_families():
    t = topology.load(TOPO)
    assert {n for n, d in t.nodes.items() if d.kind == "frr"} == {"r1", "r2", "r3"}
    sessions = t.bgp_sessions("r1")
    assert {(p, v) for p, v, _ in sessions} == {("r2", 4), ("r2", 6), ("r3", 4), ("r3", 6)}


@pytest.mark.parametrize("bad", ["192.0.2.0/31", "10.0.0.0/31"])
def test_addresses_outside_documentation_prefixes_are_refused(tmp_path, bad):
    with pytest.raises(InputError) as e:
        topology.load(_with(tmp_path, "198.18.1.0/31", bad))
    assert "192.0.2.0/24" in str(e.value) or "documentation" in str(e.value)


def test_session_without_route_map_is_refused(tmp_path):
    p = _with(tmp_path, "route-map RM-R2-OUT permit 10", "route-map RM-R2-OUTX permit 10")
    with pytest.raises(InputError, match="RM-R2-OUT"):
        topology.load(p)


def test_repo_inventory_matches_topology():
    assert Lab(TOPO, prefix="nc").repo_inventory_stale(REPO / "inventory") == []


def test_inventory_loads_and_keeps_traffic_hosts_out():
    inv = Inventory(REPO / "inventory")
    assert set(inv.hosts) == {"r1", "r2", "r3", "fw1"}
    r1 = inv.hosts["r1"]
    assert r1.platform.value == "frr" and r1.data.bgp.asn == 65001
    v6 = [n for n in r1.data.bgp.neighbors if n.address.version == 6]
    assert v6 and all(n.afis == ("ipv6_unicast",) for n in v6)
    assert inv.hosts["fw1"].data.firewall.attachments["forward"].hook == "forward"


def test_names_fit_linux_limits_and_prefix_matching_is_exact():
    lab = Lab(TOPO, prefix="abcdef")
    for d in lab.devices.values():
        assert len(netns.mgmt_veth_name(lab.prefix, d.name)) <= 15
        assert all(len(i) <= 15 for i in d.interfaces.values())
    names = ["nc-r1", "nct-r1", "nct-x", "nc-b-r1", "ncr-try", "nc-mgmt", "nc-toolong7"]
    assert netns.owned_namespaces("nc", names) == ["nc-r1"]
    assert netns.owned_root_links("nc", ["nc-mgmt", "nc-r1-m", "nct-mgmt", "nct-r1-m", "nc-r1"]) == ["nc-mgmt", "nc-r1-m"]
    with pytest.raises(LabError):
        netns.check_prefix("nc-x")


def test_other_prefixes_get_their_own_management_subnet():
    a, b = Lab(TOPO, prefix="nc"), Lab(TOPO, prefix="ncb")
    assert a.topology.mgmt.subnet != b.topology.mgmt.subnet
    assert a.devices["r1"].mgmt_address != b.devices["r1"].mgmt_address


def test_host_facing_interfaces_are_exposed():
    devs = Lab(TOPO, prefix="nc").devices
    assert devs["r2"].host_facing == ("to-ext1",)
    assert devs["fw1"].host_facing == ("to-srv1",)
    assert devs["r1"].interfaces == {"r2": "to-r2", "r3": "to-r3", "fw1": "to-fw1"}


def test_scale_topology_is_valid():
    t = generate(50)
    edges = [n for n, d in t.nodes.items() if d.role == "edge"]
    assert len(edges) == 50 and len(t.links) == 100
    assert len(t.bgp_sessions("u1")) == 100  # IPv4 + IPv6 per edge
    with pytest.raises(ValueError):
        generate(500)


def test_peer_groups_carry_the_bindings_of_their_members(tmp_path):
    """The lab's peer_groups option: members join the group, the group holds the route-maps."""
    import yaml

    from pipeline.lab.frr import render_config
    from pipeline.lab.topology import load

    doc = yaml.safe_load(TOPO.read_text())
    doc["nodes"]["r1"]["peer_groups"] = {"PG-UP": ["r2", "r3"]}
    doc["nodes"]["r1"]["policy"] += "".join(f"route-map RM-PG-UP{v}-{d} permit 10\n" for v in ("", "-V6") for d in ("IN", "OUT"))
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    text = render_config(load(path), "r1")
    assert " neighbor PG-UP peer-group" in text and " neighbor 198.18.1.1 peer-group PG-UP" in text
    assert "  neighbor PG-UP route-map RM-PG-UP-IN in" in text and "  neighbor PG-UP route-map RM-PG-UP-V6-OUT out" in text
    assert "neighbor 198.18.1.1 route-map" not in text, "a member takes its group's route-maps"
    for bad, why in (({"PG-UP": ["fw1"]}, "not a BGP peer"), ({"up": ["r2"]}, "capitals"),
                     ({"PG-A": ["r2"], "PG-B": ["r2"]}, "peer-groups PG-A and PG-B")):
        doc["nodes"]["r1"]["peer_groups"] = bad
        path.write_text(yaml.safe_dump(doc))
        with pytest.raises(Exception, match=why):
            load(path)


def test_profiles_set_router_options_and_the_frr_baseline_follows():
    from pipeline.lab import frr
    from pipeline.lab.topology import load

    topo = load(Path(__file__).resolve().parents[2] / "inventory" / "topology.yaml")
    careful = frr.render_config(topo, "r1")
    assert "bgp route-map delay-timer 0" in careful and careful.count("soft-reconfiguration inbound") == 4
    prod = topo.with_profile("production")
    text = frr.render_config(prod, "r1")
    assert "delay-timer" not in text and "soft-reconfiguration" not in text
    switch = frr.switch_options(topo, prod, "r1")
    assert switch[0] == "no bgp route-map delay-timer"
    assert "no neighbor 198.18.1.3 soft-reconfiguration inbound" in switch
    assert frr.switch_options(prod, prod, "r1") == []


def test_a_profile_naming_an_unknown_router_or_option_is_refused(tmp_path):
    import pytest as _pytest

    from pipeline.errors import InputError
    from pipeline.lab.topology import load

    src = (Path(__file__).resolve().parents[2] / "inventory" / "topology.yaml").read_text()
    bad = tmp_path / "t.yaml"
    bad.write_text(src.replace('"*": {soft_reconfiguration_inbound: false, route_map_delay_timer: default}',
                               'fw1: {soft_reconfiguration_inbound: false}'))
    with _pytest.raises(InputError, match="fw1"):
        load(bad)
    bad.write_text(src.replace("route_map_delay_timer: default}", "route_map_delay_timer: defualt}"))
    with _pytest.raises(InputError, match="route_map_delay_timer"):
        load(bad)
