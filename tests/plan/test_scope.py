"""Scoped bindings and objects, neighbors by name, peer-groups and Junos BGP groups, planned offline (issue 13)."""

from __future__ import annotations

import pytest

from corpus import CORPUS
from pipeline.drivers import get_driver
from pipeline.errors import InputError
from pipeline.inventory import Bgp, Neighbor
from pipeline.model.change import ChangeRequest
from pipeline.parsers.juniper_junos import parse as parse_junos
from pipeline.plan.planner import UnmodelledConfig, plan_device

JUNOS_FILES = [p for p in sorted((CORPUS / "juniper_junos").glob("*")) if parse_junos(p.read_text()).peer_groups]


def _with_neighbors(host, addresses):
    bgp = Bgp(asn=65104, neighbors=tuple(Neighbor(address=a, remote_as=65002,
                                                  afis=("ipv4_unicast" if ":" not in a else "ipv6_unicast",))
                                         for a in addresses))
    return host.model_copy(update={"data": host.data.model_copy(update={"bgp": bgp})})


def _change(host: str, routing: dict, **extra) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-7701", "title": "t", "requested_by": "tests",
                                         "targets": {"hosts": [host]}, "routing": routing, **extra})


def test_the_corpus_has_junos_configs_with_groups():
    assert len(JUNOS_FILES) >= 3


@pytest.mark.parametrize("path", JUNOS_FILES, ids=lambda p: p.name)
def test_junos_binds_at_the_group_that_holds_the_neighbor(path, fleet, store):
    """For every neighbor of every BGP group: a binding lands in that group (on the group itself when the
    neighbor takes the group's policy), never in a group of the planner's own making."""
    text = path.read_text()
    running = parse_junos(text)
    host = _with_neighbors(fleet.hosts["junos1"], [m for ms in running.peer_groups.values() for m in ms])
    driver = get_driver("juniper_junos")
    planned = 0
    for group, members in running.peer_groups.items():
        for addr in members:
            for direction, word in (("in", "import"), ("out", "export")):
                afi = "ipv6" if ":" in addr else "ipv4"
                chg = _change("junos1", {
                    "route_maps": [{"name": "NC-SCOPE", "entries": [{"seq": 10, "action": "permit"}]}],
                    "bindings": [{"neighbor": addr, "afi": afi, "direction": direction, "route_map": "NC-SCOPE"}]})
                try:
                    plan = plan_device(host, driver, text, chg, store)
                except UnmodelledConfig:
                    continue  # lines netchange cannot model sit in what this binding rewrites: refused, listed
                planned += 1
                sets = [c for c in plan.commands + plan.switch_commands if f" {word} NC-SCOPE" in c]
                assert sets, (group, addr, plan.commands)
                for c in sets:
                    assert c.startswith(f"set protocols bgp group {group} "), c
                on_group = (group, afi, direction) in running.bindings and (addr, afi, direction) not in running.bindings
                if on_group:
                    assert sets == [f"set protocols bgp group {group} {word} NC-SCOPE"]
                    assert plan.groups == {group: list(members)}
                    assert {r["neighbor"] for r in plan.refresh} >= {m for m in members if (":" in m) == (afi == "ipv6")}
                else:
                    assert sets == [f"set protocols bgp group {group} neighbor {addr} {word} NC-SCOPE"]
    assert planned


FRR_GROUP = """\
route-map RM-UP-IN permit 10
 set local-preference 150
route-map RM-OWN permit 10
router bgp 65001
 neighbor PG-UP peer-group
 neighbor 198.51.100.2 remote-as 65002
 neighbor 198.51.100.2 peer-group PG-UP
 neighbor 198.51.100.3 remote-as 65003
 neighbor 198.51.100.3 peer-group PG-UP
 neighbor 198.51.100.4 remote-as 65004
 neighbor 198.51.100.4 peer-group PG-UP
 address-family ipv4 unicast
  neighbor PG-UP route-map RM-UP-IN in
  neighbor 198.51.100.4 route-map RM-OWN in
 exit-address-family
exit
"""


def _frr_host(fleet):
    return _with_neighbors(fleet.hosts["r1"], ["198.51.100.2", "198.51.100.3", "198.51.100.4"])


def test_a_member_taking_its_groups_binding_is_bound_through_the_group(fleet, store):
    chg = _change("r1", {"route_maps": [{"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit"}]}],
                         "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-NEW"}]})
    plan = plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP, chg, store)
    every = plan.commands + plan.switch_commands
    assert "  neighbor PG-UP route-map RM-NEW in" in every
    assert not any("neighbor 198.51.100.2 route-map" in c for c in every), "never split off its group"
    # the members that follow the group are refreshed once each; .4 keeps its own binding
    assert [(r["neighbor"], r.get("group")) for r in plan.refresh] == [("198.51.100.2", "PG-UP"), ("198.51.100.3", "PG-UP")]
    assert plan.groups == {"PG-UP": ["198.51.100.2", "198.51.100.3", "198.51.100.4"]}


def test_a_member_with_its_own_binding_stays_on_its_own(fleet, store):
    chg = _change("r1", {"route_maps": [{"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit"}]}],
                         "bindings": [{"neighbor": "198.51.100.4", "afi": "ipv4", "direction": "in", "route_map": "RM-NEW"}]})
    plan = plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP, chg, store)
    assert "  neighbor 198.51.100.4 route-map RM-NEW in" in plan.switch_commands
    assert [r["neighbor"] for r in plan.refresh] == ["198.51.100.4"]


def test_members_of_one_group_bound_differently_are_refused(fleet, store):
    chg = _change("r1", {"route_maps": [{"name": "RM-A", "entries": [{"seq": 10, "action": "permit"}]},
                                        {"name": "RM-B", "entries": [{"seq": 10, "action": "permit"}]}],
                         "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-A"},
                                      {"neighbor": "198.51.100.3", "afi": "ipv4", "direction": "in", "route_map": "RM-B"}]})
    with pytest.raises(InputError, match="peer-group PG-UP"):
        plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP, chg, store)


def test_editing_a_route_map_bound_on_a_group_refreshes_each_member_once(fleet, store):
    chg = _change("r1", {"route_maps": [{"name": "RM-UP-IN", "entries": [
        {"seq": 10, "action": "permit", "set": {"local_preference": 300}}]}]})
    for strategy in ("in_place", "versioned"):
        plan = plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP, chg, store, strategy=strategy)
        assert [r["neighbor"] for r in plan.refresh] == ["198.51.100.2", "198.51.100.3"], strategy
        if strategy == "versioned":
            assert any(c.strip().startswith("neighbor PG-UP route-map RM-UP-IN.nc") for c in plan.switch_commands)
            assert not any("neighbor 198.51.100." in c for c in plan.switch_commands)


def test_neighbor_by_name_resolves_per_device_and_family(store):
    from pipeline.inventory import Inventory
    from pathlib import Path

    inv = Inventory(Path(__file__).resolve().parents[2] / "inventory")
    hosts = inv.hosts
    frr = {n: "\n".join(["route-map RM-X permit 10", f"router bgp {hosts[n].data.bgp.asn}"]
                        + [f" neighbor {nb.address} remote-as {nb.remote_as}" for nb in hosts[n].data.bgp.neighbors]
                        + ["exit", ""]) for n in ("r1", "r2")}
    chg = ChangeRequest.model_validate({
        "id": "CHG-7702", "title": "t", "requested_by": "tests", "targets": {"hosts": ["r1", "r2"]},
        "routing": {"prefix_lists": [{"name": "PL-ONLY-R1", "entries": [{"seq": 10, "action": "permit", "prefix": "203.0.113.0/24"}]}],
                    "route_maps": [{"name": "RM-IMP", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-ONLY-R1"}}]}],
                    "bindings": [{"neighbor": "r2", "direction": "in", "route_map": "RM-IMP", "scope": {"hosts": ["r1"]}},
                                 {"neighbor": "r1", "direction": "out", "route_map": "RM-X", "scope": {"hosts": ["r2"]}}]}})
    r1 = plan_device(hosts["r1"], get_driver("frr"), frr["r1"], chg, store, peers=hosts)
    r2 = plan_device(hosts["r2"], get_driver("frr"), frr["r2"], chg, store, peers=hosts)
    to_r2 = {(str(n.address), n.afis[0].split("_")[0]) for n in hosts["r1"].data.bgp.neighbors if n.description == "r2"}
    assert {(r["neighbor"], r["afi"]) for r in r1.refresh} == to_r2 and len(to_r2) == 2  # IPv4 and IPv6
    assert any("PL-ONLY-R1" in c for c in r1.commands) and not any("PL-ONLY-R1" in c for c in r2.commands)
    assert not any("RM-IMP" in c for c in r2.commands + r2.switch_commands), "the import side is r1's alone"
    assert {r["direction"] for r in r2.refresh} == {"out"}


def test_the_plan_report_shows_members_and_why_the_export_side_refreshes_first(fleet, store, tmp_path):
    from pipeline.plan.report import plan_document, to_markdown, to_text

    chg = _change("r1", {"route_maps": [{"name": "RM-UP-IN", "entries": [
        {"seq": 10, "action": "permit", "set": {"local_preference": 300}}]}]})
    grouped = plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP, chg, store)
    exporter = plan_device(_frr_host(fleet), get_driver("frr"), FRR_GROUP.replace("RM-OWN in", "RM-OWN out"),
                           _change("r1", {"route_maps": [{"name": "RM-OWN", "entries": [{"seq": 10, "action": "deny"}]}]}),
                           store)
    exporter.host = "r9"
    doc = plan_document(chg, tmp_path / "none.yaml", [grouped, exporter], [])
    text, md = to_text(doc), to_markdown(doc)
    assert "peer-group PG-UP: members 198.51.100.2, 198.51.100.3, 198.51.100.4" in text
    assert "198.51.100.2 ipv4 in (via PG-UP)" in md and "- r1: peer-group PG-UP" in md
    assert "refresh order: export side first (r9 out), then import (r1 in)" in text
    single = to_text(plan_document(chg, tmp_path / "none.yaml", [grouped], []))
    assert "refresh order" not in single, "said only where it matters"
