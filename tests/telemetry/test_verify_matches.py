"""Traffic checks that say TCP flags, ICMP types and a source port (issue 16): samples are told apart by what
their headers carry (the collector keys them by TCP flags / ICMP type and code), a receiver that does not
decode them makes "blocked" inconclusive instead of passing it, and attribution names the deciding term of
a stateful firewall, replies included."""

from __future__ import annotations

import struct

from pipeline.inventory import Attachment
from pipeline.model.firewall import ServiceSpec
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.verify import TrafficExpectation as Wanted
from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.attribution import Flow, firewall_decision
from pipeline.telemetry.collector import Collector
from pipeline.telemetry.verify import Outcome, Point, Tally, TrafficExpectation, detail_of, judge, selector

from .test_codec import MAC, datagram

FW = Point("fw1", 3, "egress")


def tcp4(dport: int, flags: int, sport: int = 40000) -> bytes:
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 1024, 0, 0)


def icmp4(itype: int, code: int = 0) -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + bytes([itype, code, 0, 0, 0, 1, 0, 1])


def sample(header: bytes) -> bytes:
    return enc.flow_sample(1, 3, 100, 0, 0, 0, 3, [enc.raw_header_record(header, 64)])


def counted(exp: TrafficExpectation, *headers: bytes) -> Tally:
    c = Collector(agents={"fw1": "198.51.100.10"})
    c.ingest(datagram([sample(h) for h in headers]), "198.51.100.10", now=100.2)
    [t], _ = c.query([selector(exp)], 100.0, 101.0)
    return t


def expectation(w: Wanted) -> TrafficExpectation:
    return TrafficExpectation(src="198.51.100.0/24", dst="203.0.113.0/24", protocol=w.protocol,
                              dst_port=w.port.lo if w.port else None, expect=w.expect, point=FW, **detail_of(w))


SYN_8081 = Wanted(name="syn-8081", source="198.51.100.0/24", destination="203.0.113.0/24", protocol="tcp", port=8081,
                  tcp_flags={"syn": True, "ack": False}, expect="blocked")


def test_syn_samples_are_told_from_the_rest_of_the_connection():
    exp = expectation(SYN_8081)
    assert counted(exp, tcp4(8081, 0x02), tcp4(8081, 0x02)).samples == 2
    assert counted(exp, tcp4(8081, 0x12), tcp4(8081, 0x10), tcp4(8081, 0x14)).samples == 0  # SYN-ACK, ACK, RST-ACK
    assert counted(exp, tcp4(8080, 0x02)).samples == 0
    reply = expectation(Wanted(name="r", source="198.51.100.0/24", destination="203.0.113.0/24", protocol="tcp",
                               source_port=40000, tcp_flags={"syn": True, "ack": True}, expect="allowed"))
    assert counted(reply, tcp4(8081, 0x12), tcp4(8081, 0x02)).samples == 1
    assert counted(reply, tcp4(8081, 0x12, sport=40001)).samples == 0


def test_icmp_messages_are_told_apart_by_type_and_code():
    echo = expectation(Wanted(name="e", source="198.51.100.0/24", destination="203.0.113.0/24", protocol="icmp",
                              icmp_type="echo-request", expect="allowed"))
    assert counted(echo, icmp4(8), icmp4(0), icmp4(3, 4)).samples == 1
    frag = expectation(Wanted(name="f", source="198.51.100.0/24", destination="203.0.113.0/24", protocol="icmp",
                              icmp_type=3, icmp_code=4, expect="allowed"))
    assert counted(frag, icmp4(3, 4), icmp4(3, 1)).samples == 1


def test_samples_without_their_flags_make_blocked_inconclusive_not_passed():
    """A receiver that gives no TCP flags (or a header cut before them): the SYN check cannot rest on absence."""
    exp = expectation(SYN_8081)
    window = counted(exp, tcp4(8081, 0x02)[:47], tcp4(8081, 0x02)[:47])
    assert window.samples == 0 and window.undecoded == 2
    base = Tally(samples=40, packets=4000, sampling_rate=100)
    v = judge(exp, window, 30.0, base, 10.0, final=True)
    assert v.outcome is Outcome.INCONCLUSIVE and "without their TCP flags" in v.reason
    clean = counted(exp, tcp4(8081, 0x10))  # decoded, and not a SYN: absence of SYNs is proof
    assert judge(exp, clean, 30.0, base, 10.0, final=True).outcome is Outcome.PASS


def test_sfacctd_records_carry_tcp_flags_and_leave_icmp_undecoded():
    from pipeline.telemetry.sfacctd import AGGREGATE, record_key

    assert "tcpflags" in AGGREGATE
    base = {"peer_ip_src": "198.51.100.10", "iface_in": 0, "iface_out": 3, "ip_src": "198.51.100.1", "ip_dst": "203.0.113.5"}
    assert record_key("fw1", {**base, "ip_proto": "tcp", "port_src": 40000, "port_dst": 8081, "tcp_flags": "2"})[-1] == 2
    assert record_key("fw1", {**base, "ip_proto": "icmp"})[-1] is None


def _stateful(*extra: Rule) -> DevicePolicy:
    rules = (Rule(name="replies", family="ipv4", states=("established", "related"), action="accept"),
             Rule(name="ext1-opens-web", family="ipv4", sources=("203.0.113.10/32",), states=("new",),
                  specs=(ServiceSpec(protocol="tcp", destination_ports=({"lo": 8080, "hi": 8080},)),),
                  tcp_flags={"syn": True, "ack": False}, action="accept"),
             Rule(name="echo", family="ipv4", states=("new",), specs=(ServiceSpec(protocol="icmp", icmp_types=(8,)),),
                  action="accept"),
             *extra,
             Rule(name="rest", family="ipv4", action="deny", counter=True))
    return DevicePolicy(filters={"STATEFUL": ConcreteFilter(name="STATEFUL", rules=rules,
                                                            attachments=(Attachment(hook="forward"),))})


def test_attribution_names_the_stateful_accept_of_a_reply_and_the_deny_of_a_new_connection():
    policy = _stateful()
    syn = Flow("203.0.113.10", "198.51.100.130", "tcp", 8080, tcp_flags=0x02, state="new")
    assert str(firewall_decision("fw1", policy, syn)) == "fw1: filter STATEFUL term ext1-opens-web (accept: ct state new; tcp flags +syn -ack)"
    reply = Flow("198.51.100.130", "203.0.113.10", "tcp", None, 8080, tcp_flags=0x12, state="established")
    assert str(firewall_decision("fw1", policy, reply)) == "fw1: filter STATEFUL term replies (accept: ct state established,related)"
    other_side = Flow("198.51.100.130", "203.0.113.10", "tcp", 8080, tcp_flags=0x02, state="new")
    assert firewall_decision("fw1", policy, other_side).what == "filter STATEFUL term rest"
    assert firewall_decision("fw1", policy, Flow("203.0.113.10", "198.51.100.130", "tcp", 8081, tcp_flags=0x02)).what == \
        "filter STATEFUL term rest"
    ping = Flow("198.51.100.130", "203.0.113.10", "icmp", icmp_type=8, icmp_code=0)
    pong = Flow("203.0.113.10", "198.51.100.130", "icmp", icmp_type=0, icmp_code=0, state="established")
    assert firewall_decision("fw1", policy, ping).what == "filter STATEFUL term echo"
    assert firewall_decision("fw1", policy, pong).what == "filter STATEFUL term replies"
    unreach = Flow("198.51.100.130", "203.0.113.10", "icmp", icmp_type=3, icmp_code=4)
    assert firewall_decision("fw1", policy, unreach).what == "filter STATEFUL term rest"


def test_attribution_says_when_the_host_still_judges_an_accept():
    """netchange's chain in its own table: an accept there is not final, the host's policy-drop chain judges next."""
    from pipeline.parsers.nft_layout import ChainLayout, TableLayout

    policy = _stateful()
    layout = TableLayout(exists=True, chains={"STATEFUL": ChainLayout("STATEFUL", ours=True)})
    layout.others["inet filter"] = TableLayout(exists=True, chains={"forward": ChainLayout("forward", "forward", "filter", 0, "drop")})
    policy.device = layout
    syn = Flow("203.0.113.10", "198.51.100.130", "tcp", 8080, tcp_flags=0x02, state="new")
    assert firewall_decision("fw1", policy, syn).note.endswith("then judged by the host's chain(s) inet filter forward (policy drop)")
    layout.others["inet filter"].chains["STATEFUL"] = ChainLayout("STATEFUL", ours=True)
    del layout.chains["STATEFUL"]
    assert "judged by the host" not in firewall_decision("fw1", policy, syn).note  # jumped to from the host: final
