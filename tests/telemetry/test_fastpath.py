"""The collector's hot path agrees with the reference decoder sample for sample, and refuses exactly what
the reference decoder refuses (generated and mutated datagrams)."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.cext import fastscan
from pipeline.telemetry.errors import MalformedDatagram
from pipeline.telemetry.fastpath import _slow_flow, header, scan
from pipeline.telemetry.sflow_codec import decode_datagram

from .test_codec import MAC, tcp6, udp4


def icmp4() -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + bytes([8, 0, 0, 0, 0, 1, 0, 1])


def tcp4(flags: int = 0x02) -> bytes:
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + struct.pack("!HHIIBBHHH", 40000, 8081, 1, 0, 0x50, flags, 1024, 0, 0)


def fragment4() -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0x10, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + bytes(8)


# TCP with its flags (a SYN, a SYN-ACK), and one cut before them: the key's detail (history.py) on every path
HEADERS = [udp4(), udp4(vlan=7), udp4(dport=80, sport=5), tcp6(), icmp4(), fragment4(), udp4()[:30], b"\x01" * 60,
           tcp4(), tcp4(0x12), tcp4()[:47]]


def _datagram(choices: list[tuple[int, int, bool, bool]], counters: bool = True) -> bytes:
    samples = []
    for h, direction, switch, router in choices:
        recs = [enc.raw_header_record(HEADERS[h], len(HEADERS[h]) + 4)]
        if switch:
            recs.append(enc.extended_switch_record(3, 0, 4, 0))
        if router:
            recs.append(enc.extended_router_record("198.51.100.254"))
        samples.append(enc.flow_sample(h + 1, 5, 64, 1000 + h, h, 5 if direction == 0 else 0, 5 if direction == 1 else 9, recs))
    if counters:
        samples.append(enc.counter_sample(1, 5, [enc.generic_counters_record(enc.IfCounters(5))]))
    return enc.datagram("198.51.100.10", 1, 7, 100, samples)


def _reference(buf: bytes):
    try:
        d = decode_datagram(buf)
    except MalformedDatagram:
        return "malformed"
    return [_slow_flow(d.agent, fs) for fs in d.flows], len(d.counters)


_taken: list[bool] = []


def _fast(buf: bytes):
    try:
        agent, off = header(buf)
        s = scan(buf, agent, off)
    except MalformedDatagram:
        return "malformed"
    result = s.flows, len(s.counters)
    c = fastscan()
    if c is not None:  # the C hot path, where it takes the datagram, agrees with the Python one
        fast = c.scan(buf, off, agent)
        _taken.append(fast is not None)
        assert fast is None or (fast[2], 0) == result, (fast, result)
        assert fast is None or fast[3] == s.drops
    return result


sample_choice = st.tuples(st.integers(0, len(HEADERS) - 1), st.integers(0, 2), st.booleans(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(sample_choice, min_size=1, max_size=6), st.booleans())
def test_fast_path_equals_the_reference_decoder_on_valid_datagrams(choices, counters):
    buf = _datagram(choices, counters)
    ref = _reference(buf)
    assert ref != "malformed"
    assert _fast(buf) == ref


def test_the_c_path_was_exercised():
    # runs after the two property tests above (file order): many datagrams went through C, not all
    assert fastscan() is None or (any(_taken) and not all(_taken)), f"{sum(_taken)} of {len(_taken)}"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sample_choice, min_size=1, max_size=4), st.booleans(), st.data())
def test_fast_path_refuses_what_the_reference_refuses(choices, counters, data):
    buf = bytearray(_datagram(choices, counters))
    kind = data.draw(st.sampled_from(["word", "cut", "byte"]))
    if kind == "word":
        pos = data.draw(st.integers(0, len(buf) // 4 - 1))
        buf[pos * 4:pos * 4 + 4] = struct.pack("!I", data.draw(st.sampled_from([0, 1, 2, 3, 4, 7, 8, 16, 1001, 1002, 0xFF, 0xFFFF, 0xFFFFFFFF])))
    elif kind == "cut":
        buf = buf[:data.draw(st.integers(0, len(buf)))]
    else:
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    assert _fast(bytes(buf)) == _reference(bytes(buf))


def test_the_c_hot_path_is_built_here_and_takes_the_common_datagrams():
    c = fastscan()
    assert c is not None, "cc and the Python headers are there (scripts/bootstrap installs them)"
    buf = _datagram([(0, 0, True, False), (2, 1, False, False)])
    common = enc.datagram("198.51.100.10", 1, 7, 100, [enc.flow_sample(1, 5, 64, 10, 0, 5, 0,
                                                                       [enc.raw_header_record(udp4(), 46)])])
    agent, off = header(common)
    assert c.scan(common, off, agent) is not None
    assert c.scan(buf, header(buf)[1], agent) is None, "counter samples go to the Python scan"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(sample_choice, min_size=1, max_size=5), min_size=1, max_size=6), st.booleans())
def test_the_collector_keeps_the_same_history_with_and_without_c(datagrams, counters):
    from pipeline.telemetry.collector import Collector

    def run(use_c: bool) -> tuple:
        c = Collector(agents={"fw1": "198.51.100.10"}, points={"fw1": {"e5": "fw1:e5"}}, interfaces={"fw1": {"e5": 5}})
        if not use_c:
            c._c = None
        for i, choices in enumerate(datagrams):
            c.ingest(_datagram(choices, counters and i % 2 == 0), "198.51.100.10", now=100.0 + i * 0.4)
        flows = sorted((f.to_dict() for f in c.flows()), key=repr)
        return flows, sorted(c._point_totals.items()), c.snapshot()["flow_samples"], c.malformed
    assert run(True) == run(False)
