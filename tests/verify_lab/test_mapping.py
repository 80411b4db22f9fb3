"""Without a running lab: how expectations map onto the lab, which addresses test traffic may go to, which
term or route-map entry attribution names, and that the collector only takes datagrams from our agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.lab import Lab
from pipeline.model.change import ChangeRequest
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.routing import PrefixList, RouteMap
from pipeline.model.firewall import ServiceSpec
from pipeline.inventory import Attachment
from pipeline.plan.impact import Route
from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.attribution import Flow, firewall_decision, route_map_entry
from pipeline.telemetry.deploy_verify import path_nodes, prepare
from pipeline.telemetry.errors import TelemetryError
from pipeline.telemetry.collector import Collector
from pipeline.telemetry.lab_agents import LabTelemetry, TrafficGenerator, TrafficSpec, lab_addresses
from pipeline.telemetry.verify import Point

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab(REPO / "inventory" / "topology.yaml", prefix="nclu")  # a model only: nothing is built


def change(*traffic: dict) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-1", "title": "t", "requested_by": "tests", "targets": {"hosts": ["fw1"]},
                                         "verify": {"traffic": list(traffic)}})


def test_firewall_flow_is_watched_where_it_reaches_the_server_with_the_firewall_ingress_as_reference(lab):
    [p] = prepare(change({"name": "web", "source": "ext1", "destination": "srv1", "port": 80, "expect": "blocked"}),
                  lab, LabTelemetry(lab))
    e = p.expectation
    assert (e.src, e.dst, e.protocol, e.dst_port) == ("203.0.113.10/32", "198.51.100.130/32", "tcp", 80)
    assert e.point == Point("fw1", "to-srv1", "egress")
    assert e.reference == Point("fw1", "to-r1", "ingress")
    assert (p.traffic.node, p.traffic.dst, p.traffic.src) == ("ext1", "198.51.100.130", "203.0.113.10")
    assert {"fw1", "r1", "r2", "r3"} <= p.path


def test_via_host_is_watched_on_the_node_before_it(lab):
    [p] = prepare(change({"name": "out", "source": "198.51.100.128/25", "destination": "203.0.113.0/24", "protocol": "udp",
                          "port": 33434, "expect": "via", "via": {"host": "r3"}}), lab, LabTelemetry(lab))
    e = p.expectation
    assert e.point == Point("r1", None, "egress") and e.via_interface == "to-r3"
    assert e.reference == Point("r1", "to-fw1", "ingress")
    assert (p.traffic.node, p.traffic.dst) == ("srv1", "203.0.113.10"), "prefixes resolve to the hosts' addresses"
    nh = prepare(change({"name": "nh", "source": "srv1", "destination": "ext1", "expect": "via", "via": {"next_hop": "198.18.1.3"},
                         "at": {"host": "r1", "direction": "egress"}}), lab, LabTelemetry(lab))[0]
    assert nh.expectation.via_interface == "to-r3"


def test_at_a_traffic_host_is_mirrored_to_the_router_end(lab):
    [p] = prepare(change({"name": "w", "source": "ext1", "destination": "srv1", "protocol": "icmp", "expect": "allowed",
                          "at": {"host": "srv1", "direction": "ingress"}}), lab, LabTelemetry(lab))
    assert p.expectation.point == Point("fw1", "to-srv1", "egress") and p.expectation.dst_port is None


@pytest.mark.parametrize("entry, message", [
    ({"source": "ext9", "destination": "srv1"}, "neither an address nor a node"),
    ({"source": "ext1", "destination": "192.0.2.5"}, "lab addresses only"),
    ({"source": "203.0.113.99", "destination": "srv1"}, "no lab node owns an address"),
    ({"source": "srv1", "destination": "ext1"}, "ext1 has 2 links"),
    ({"source": "srv1", "destination": "ext1", "protocol": "gre"}, "cannot generate gre"),
])
def test_expectations_that_cannot_be_checked_are_refused_before_deploying(lab, entry, message):
    with pytest.raises(TelemetryError, match=message):
        prepare(change({"name": "x", "expect": "allowed", **entry}), lab, LabTelemetry(lab))


@pytest.mark.parametrize("dst", ["192.0.2.1", "8.8.8.8", "203.0.113.99", "10.0.0.1"])
def test_test_traffic_goes_to_lab_addresses_only(lab, dst):
    with pytest.raises(TelemetryError, match="refusing test traffic"):
        TrafficGenerator.check(TrafficSpec("ext1", dst), lab_addresses(lab))


def test_test_traffic_is_bounded(lab):
    addrs = lab_addresses(lab)
    TrafficGenerator.check(TrafficSpec("ext1", "198.51.100.130", pps=200), addrs, 30)
    for spec, seconds in ((TrafficSpec("ext1", "198.51.100.130", pps=5000), 1), (TrafficSpec("ext1", "198.51.100.130"), 3600)):
        with pytest.raises(TelemetryError, match="bounded"):
            TrafficGenerator.check(spec, addrs, seconds)


def test_path_nodes_cover_both_upstreams(lab):
    assert path_nodes(lab.topology, "srv1", "ext1") == {"srv1", "fw1", "r1", "r2", "r3", "ext1"}
    assert path_nodes(lab.topology, "srv1", "r1") == {"srv1", "fw1", "r1"}


def _filter(name: str, *rules: Rule) -> ConcreteFilter:
    return ConcreteFilter(name=name, rules=rules, attachments=(Attachment(hook="forward"),))


def test_firewall_attribution_is_the_first_matching_term():
    web = ServiceSpec(protocol="tcp", destination_ports=({"lo": 80, "hi": 80},))
    policy = DevicePolicy(filters={
        "filter/forward": _filter("filter/forward", Rule(name="rule-1", family="ipv4", action="accept")),
        "EDGE": _filter("EDGE",
                        Rule(name="allow-mon", family="ipv4", sources=("198.18.9.0/24",), specs=(web,), action="accept"),
                        Rule(name="deny-web", family="ipv4", specs=(web,), action="deny", description="no http"))})
    flow = Flow("203.0.113.10", "198.51.100.130", "tcp", 80)
    assert str(firewall_decision("fw1", policy, flow)) == "fw1: filter EDGE term deny-web (deny: no http)"
    assert firewall_decision("fw1", policy, Flow("198.18.9.1", "198.51.100.130", "tcp", 80)).what == "filter EDGE term allow-mon"
    assert firewall_decision("fw1", policy, Flow("2001:db8::1", "2001:db8::2", "tcp", 80)).what == \
        "filter EDGE implicit deny (no term matches)", "IPv4 terms never match IPv6 flows; a filter ends in a deny"
    only_theirs = DevicePolicy(filters={"filter/forward": policy.filters["filter/forward"]})
    assert str(firewall_decision("fw1", only_theirs, flow)) == \
        "fw1: no netchange filter on forward, filter/forward decides (outside netchange's table, not attributed)"


def test_route_map_attribution_names_the_entry_that_matched():
    pl = PrefixList(name="PL-EXT1", entries=({"seq": 10, "action": "permit", "prefix": "203.0.113.0/24"},))
    rm = RouteMap(name="RM-R3-IN", entries=(
        {"seq": 5, "action": "deny", "match": {"prefix_list": "PL-NONE"}},
        {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-EXT1"}, "set": {"local_preference": 300}},
        {"seq": 20, "action": "permit"}))
    policy = DevicePolicy(prefix_lists={"PL-EXT1": pl}, route_maps={"RM-R3-IN": rm})
    assert route_map_entry(policy, "RM-R3-IN", Route("203.0.113.0/24")) == "entry 10 (permit)"
    assert route_map_entry(policy, "RM-R3-IN", Route("198.18.3.0/24")) == "entry 20 (permit)"
    assert route_map_entry(policy, "RM-MISSING", Route("203.0.113.0/24")) is None


def test_collector_takes_datagrams_only_from_the_agents_own_address():
    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "198.19.0.13"})
    dg = enc.datagram("198.19.0.13", 0, 1, 1000, [])
    assert c.ingest(dg, "198.19.0.13") is not None
    assert c.ingest(dg, "198.19.0.66") is None, "a known agent address sent from elsewhere is spoofed"
    assert c.ingest(enc.datagram("198.19.0.66", 0, 1, 1000, []), "198.19.0.66") is None
    assert c.rejected == 2
