"""`ci conflicts` with scoped changes (issue 13): what collides is what lands on the same device."""

from __future__ import annotations

from pathlib import Path

from pipeline.gitlab.conflicts import Other, find_conflicts, touched
from pipeline.inventory import Inventory
from pipeline.model.change import ChangeRequest

INVENTORY = Inventory(Path(__file__).resolve().parents[2] / "inventory")  # the demo lab: descriptions name peers


def change(cid: str, routing: dict, hosts=("r1", "r2", "r3")) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": cid, "title": "t", "requested_by": "tests",
                                         "targets": {"hosts": list(hosts)}, "routing": routing})


def test_a_binding_by_name_collides_with_the_same_session_by_address():
    r2_on_r1 = next(str(n.address) for n in INVENTORY.hosts["r1"].data.bgp.neighbors
                    if n.description == "r2" and n.address.version == 4)
    mine = change("CHG-1", {"bindings": [{"neighbor": "r2", "direction": "in", "route_map": "RM-A",
                                          "scope": {"hosts": ["r1"]}}]})
    theirs = change("CHG-2", {"bindings": [{"neighbor": r2_on_r1, "afi": "ipv4", "direction": "in", "route_map": "RM-B"}]},
                    hosts=("r1",))
    [c] = find_conflicts(mine, [Other(theirs, "open MR")], INVENTORY).conflicts
    assert c.overlaps == (("r1", "binding", f"{r2_on_r1} ipv4 in"),)


def test_objects_scoped_to_different_devices_do_not_collide():
    mine = change("CHG-1", {"prefix_lists": [{"name": "PL-X", "scope": {"hosts": ["r1"]},
                                              "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.9.0/24"}]}]})
    theirs = change("CHG-2", {"prefix_lists": [{"name": "PL-X", "scope": {"hosts": ["r3"]},
                                                "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.8.0/24"}]}]})
    assert touched(mine, INVENTORY) == {("r1", "prefix_list", "PL-X")}
    assert find_conflicts(mine, [Other(theirs, "open MR")], INVENTORY).conflicts == []
    everywhere = change("CHG-3", {"prefix_lists": [{"name": "PL-X", "entries": [
        {"seq": 10, "action": "permit", "prefix": "198.18.7.0/24"}]}]})
    [c] = find_conflicts(mine, [Other(everywhere, "merged")], INVENTORY).conflicts
    assert c.overlaps == (("r1", "prefix_list", "PL-X"),)


def test_an_object_goes_where_its_user_goes():
    mine = change("CHG-1", {"prefix_lists": [{"name": "PL-U", "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.9.0/24"}]}],
                            "route_maps": [{"name": "RM-U", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-U"}}]}],
                            "bindings": [{"neighbor": "r1", "direction": "out", "route_map": "RM-U", "scope": {"hosts": ["r3"]}}]})
    assert {(d, k, n) for d, k, n in touched(mine, INVENTORY) if k != "binding"} == {("r3", "prefix_list", "PL-U"),
                                                                                     ("r3", "route_map", "RM-U")}
