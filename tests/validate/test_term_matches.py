"""The new term matches as a change request writes them and as they resolve per address family: ICMP names
looked up per protocol, stateful matches, TCP flags, fragments, exclusions, DSCP, hop limit, log rate."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from pipeline.model.firewall import ServiceSpec, Term
from pipeline.model.matches import TcpFlags
from pipeline.model.objects import ObjectStore
from pipeline.model.resolve import TermMismatch, term_rules
from pipeline.model.verify import TrafficExpectation


def term(**kw) -> Term:
    return Term.model_validate({"name": "t", "action": "accept", **kw})


def rules(**kw):
    return {r.family: r for r in term_rules(term(**kw), ObjectStore())}


def test_icmp_names_resolve_per_protocol():
    got = rules(protocols=["icmp", "icmpv6"], icmp_types=["echo-request", "echo-reply"])
    assert got["ipv4"].specs[0].icmp_types == (0, 8)
    assert got["ipv6"].specs[0].icmp_types == (128, 129)


def test_a_name_only_icmpv6_knows_leaves_ipv4_out():
    got = rules(protocols=["icmp", "icmpv6"], icmp_types=["packet-too-big"])
    assert set(got) == {"ipv6"} and got["ipv6"].specs[0].icmp_types == (2,)


def test_icmp_numbers_and_codes():
    got = rules(protocols=["icmp"], icmp_types=[3], icmp_code=4)
    assert got["ipv4"].specs == (ServiceSpec(protocol="icmp", icmp_types=(3,), icmp_code=4),)
    assert ServiceSpec(protocol="icmpv6", icmp_types=["echo-request"]).icmp_types == (128,)


@pytest.mark.parametrize("kw,why", [
    ({"protocols": ["icmp", "icmpv6"], "icmp_types": [8]}, "ambiguous"),
    ({"protocols": ["tcp"], "icmp_types": ["echo-request"]}, "icmp and/or icmpv6 only"),
    ({"protocols": ["icmp"], "icmp_types": ["packet-too-big"]}, "not a message type of icmp"),
    ({"protocols": ["icmp"], "icmp_types": [3, 11], "icmp_code": 1}, "exactly one ICMP type"),
    ({"protocols": ["icmp"], "icmp_types": ["ping-of-death"]}, "unknown ICMP message"),
    ({"protocols": ["udp"], "tcp_flags": {"syn": True}}, "tcp_flags need protocols: \\[tcp\\]"),
    ({"tcp_flags": {}}, "name at least one TCP flag"),
    ({"protocols": ["tcp"], "destination_ports": [80], "fragment": "non-first"}, "no transport header"),
    ({"log_rate": "10/minute"}, "log_rate needs log: true"),
    ({"log": True, "log_rate": "10/fortnight"}, "not a log rate"),
    ({"dscp": ["af99"]}, "not a DSCP value"),
    ({"dscp": [64]}, "not a DSCP value"),
    ({"hop_limit": "5-1"}, "reversed"),
    ({"hop_limit": 256}, "not 0-255"),
    ({"connection_state": ["established", "established"]}, "twice"),
    ({"connection_state": ["open"]}, "connection_state"),
])
def test_contradictions_are_refused_with_the_reason(kw, why):
    with pytest.raises(ValidationError, match=why):
        term(**kw)


def test_tcp_flags_on_a_udp_service_is_refused_when_resolving():
    store = ObjectStore(services={"DNS": (ServiceSpec(protocol="udp", destination_ports=[53]),)})
    with pytest.raises(TermMismatch, match="tcp_flags need TCP.*udp"):
        term_rules(term(services=["DNS"], tcp_flags={"syn": True}), store)


def test_stateful_flags_fragments_dscp_hop_limit_and_log_rate_reach_every_family():
    got = rules(connection_state=["related", "established"], dscp=["ef", 10, "af11"], hop_limit="1-5",
                fragment="first", log=True, log_rate="5/second")
    for r in got.values():
        assert r.states == ("established", "related")  # the model's order, whatever the request's
        assert r.dscp == (10, 46) and (r.hop_limit.lo, r.hop_limit.hi) == (1, 5) and r.fragment == "first"
        assert str(r.log_rate) == "5/second"
    flags = TcpFlags(syn=True, ack=False)
    assert flags.matches(0x02) and not flags.matches(0x12) and str(flags) == "+syn -ack"


def test_exclusions_apply_in_their_own_family_and_do_not_pick_families():
    got = rules(sources=["198.18.0.0/16"], source_exclude=["198.18.5.0/24", "2001:db8::/32"])
    assert set(got) == {"ipv4"}
    assert got["ipv4"].source_excludes == (ipaddress.ip_network("198.18.5.0/24"),)
    both = rules(destination_exclude=["2001:db8:1::/48"])
    assert both["ipv4"].destination_excludes == () and len(both["ipv6"].destination_excludes) == 1


def test_traffic_expectations_say_icmp_types_and_tcp_flags():
    w = TrafficExpectation(name="reply", source="srv1", destination="ext1", protocol="tcp", source_port=8080,
                           tcp_flags={"syn": True, "ack": True}, expect="allowed")
    assert w.tcp_flags.value == 0x12
    e = TrafficExpectation(name="pong", source="srv1", destination="ext1", protocol="icmpv6", icmp_type="echo-reply",
                           expect="allowed")
    assert e.icmp_type_number == 129
    with pytest.raises(ValidationError, match="need protocol icmp"):
        TrafficExpectation(name="x", source="a", destination="b", icmp_type="echo-reply", expect="allowed")
    with pytest.raises(ValidationError, match="tcp_flags need protocol tcp"):
        TrafficExpectation(name="x", source="a", destination="b", protocol="udp", tcp_flags={"syn": True},
                           expect="allowed")


def test_validate_names_a_match_its_services_cannot_carry(tmp_path):
    from pathlib import Path

    from pipeline.project import Project
    from pipeline.validate.validator import Validator

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "CHG-0951.yaml"
    path.write_text("""\
id: CHG-0951
title: flags on DNS
requested_by: tests
targets: {hosts: [fw1]}
firewall:
  filters:
    - name: F
      attach: [server-edge]
      terms:
        - name: dns-syn
          services: [DNS]
          tcp_flags: {syn: true}
          action: accept
""")
    findings = Validator(Project(root), inventory_dir=root / "tests" / "fixtures" / "fleet").validate(path)
    nc123 = [f for f in findings if f.rule == "NC123"]
    assert len(nc123) == 1 and "tcp_flags need TCP, but its services include udp" in nc123[0].message
    assert nc123[0].location.line == 11


def test_a_stateful_accept_is_no_accept_any_any_but_an_exclusion_does_not_narrow(check):
    from .conftest import fw, ids, term

    assert "NC301" not in ids(check(fw(term("replies", connection_state=["established", "related"]),
                                       term("rest", "deny"))))
    assert "NC301" in ids(check(fw(term("almost-all", source_exclude=["198.18.66.0/24"]), term("rest", "deny"))))
