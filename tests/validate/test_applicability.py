"""One change may target routers and firewalls: filters go where their attachment points exist,
routing objects to BGP speakers (the same rule as pipeline.model.resolve.applies_to)."""

from __future__ import annotations

import itertools
import shutil

import pytest

from pipeline.validate import Validator

from .conftest import FLEET, NOW, base, dump, ids, term

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


@pytest.fixture(scope="module")
def named(project, tmp_path_factory):
    """The fleet with r1's upstream neighbors described by a name (`r2`), as the lab's inventory does."""
    inv = tmp_path_factory.mktemp("named") / "inventory"
    shutil.copytree(FLEET, inv)
    hosts = inv / "hosts.yaml"
    hosts.write_text(hosts.read_text().replace("description: r2 upstream v6}", "description: r2}")
                     .replace("description: r2 upstream}", "description: r2}"))
    v = Validator(project, inv, NOW)
    run = lambda doc: v.validate(write_doc(project, doc))  # noqa: E731
    run.root = project.root
    return run


def project_root(named):
    return named.root


def write_doc(project, doc):
    d = project.changes_dir / f"named{next(_named)}"
    d.mkdir()
    (d / "CHG-1.yaml").write_text(dump(doc), encoding="utf-8")
    return d / "CHG-1.yaml"


_named = itertools.count(1)
RM_X = {"name": "RM-X", "entries": [{"seq": 10, "action": "permit"}]}


def test_a_neighbor_named_by_description_must_exist_on_every_host_it_applies_on(named):
    """Scoped host without that neighbor: NC140 at the binding's neighbor field, with its line."""
    doc = base(targets={"hosts": ["r1", "eos1"]}, routing={"route_maps": [RM_X], "bindings": [
        {"neighbor": "r2", "direction": "in", "route_map": "RM-X", "scope": {"hosts": ["r1", "eos1"]}}]})
    found = [f for f in named(doc) if f.rule == "NC140"]
    assert len(found) == 1 and "eos1" in found[0].message, found
    loc = found[0].location
    assert loc.field == "routing.bindings[0].neighbor"
    assert "neighbor: r2" in (project_root(named) / loc.file).read_text().splitlines()[loc.line - 1]
    ok = base(targets={"hosts": ["r1", "eos1"]}, routing={"route_maps": [RM_X], "bindings": [
        {"neighbor": "r2", "direction": "in", "route_map": "RM-X", "scope": {"hosts": ["r1"]}}]})
    assert not {"NC140", "NC141", "NC153", "NC154"} & ids(named(ok))


def test_a_named_neighbor_without_that_family_is_an_error(named):
    doc = base(targets={"hosts": ["r1"]}, routing={"route_maps": [RM_X], "bindings": [
        {"neighbor": "r3", "direction": "in", "route_map": "RM-X"}]})
    assert "NC140" in ids(named(doc))  # r1 has no neighbor described `r3`


def test_a_scope_naming_a_host_outside_the_targets_is_an_error(named):
    doc = base(targets={"hosts": ["r1"]}, routing={"route_maps": [dict(RM_X, scope={"hosts": ["eos1"]})]})
    found = [f for f in named(doc) if f.rule == "NC153"]
    assert found and found[0].location.field == "routing.route_maps[0].scope.hosts[0]"


def test_a_scoped_filter_needs_its_point_only_on_the_hosts_it_goes_to(project, tmp_path):
    inv = tmp_path / "inventory"
    shutil.copytree(FLEET, inv)
    hosts = inv / "hosts.yaml"
    hosts.write_text(hosts.read_text().replace("server-edge: {interface: GigabitEthernet0/1, direction: out}",
                                               "wan-in: {interface: GigabitEthernet0/1, direction: in}"))
    v = Validator(project, inv, NOW)
    wan = dict(FILTER, attach=["wan-in"])
    assert "NC142" in ids(v.validate(write_doc(project, base(targets={"hosts": ["fw1", "ios1"]}, firewall={"filters": [wan]}))))
    scoped = dict(wan, scope={"hosts": ["ios1"]})
    assert "NC142" not in ids(v.validate(write_doc(project, base(targets={"hosts": ["fw1", "ios1"]}, firewall={"filters": [scoped]}))))
