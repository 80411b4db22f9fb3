"""One change may target routers and firewalls: filters go where their attachment points exist,
routing objects to BGP speakers (the same rule as pipeline.model.resolve.applies_to)."""

from __future__ import annotations

from .conftest import base, ids, term

PL = {"name": "PL-A", "afi": "ipv4", "entries": [{"seq": 10, "action": "permit", "prefix": "203.0.113.0/24"}]}
FILTER = {"name": "F", "attach": ["server-edge"], "terms": [term("a", sources=["198.18.0.0/24"], action="deny")]}


def test_mixed_targets_get_what_applies_to_them(check):
    doc = base(targets={"hosts": ["r1", "fw1"]}, firewall={"filters": [FILTER]}, routing={"prefix_lists": [PL]})
    assert "NC142" not in ids(check(doc)) and "NC140" not in ids(check(doc))


def test_filter_for_routers_only_is_an_error(check):
    doc = base(targets={"hosts": ["r1"]}, firewall={"filters": [FILTER]})
    found = [f for f in check(doc) if f.rule == "NC142"]
    assert found and "no targeted host has attachment points" in found[0].message


def test_a_firewall_lacking_the_point_is_an_error(check):
    doc = base(targets={"hosts": ["fw1", "ios1"]}, firewall={"filters": [dict(FILTER, attach=["wan-in"])]})
    found = [f for f in check(doc) if f.rule == "NC142"]
    assert found and "fw1" in found[0].message and "ios1" in found[0].message


def test_binding_on_a_target_set_without_bgp_is_an_error(check):
    doc = base(targets={"hosts": ["fw1"]}, routing={"bindings": [
        {"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-X"}]})
    assert "NC140" in ids(check(doc))
