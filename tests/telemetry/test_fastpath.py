"""The collector's hot path agrees with the reference decoder sample for sample, and refuses exactly what
the reference decoder refuses (generated and mutated datagrams)."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.errors import MalformedDatagram
from pipeline.telemetry.fastpath import _slow_flow, header, scan
from pipeline.telemetry.sflow_codec import decode_datagram

from .test_codec import MAC, tcp6, udp4


def icmp4() -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + bytes([8, 0, 0, 0, 0, 1, 0, 1])


def fragment4() -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0x10, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 5])
    return MAC + b"\x08\x00" + ip + bytes(8)


HEADERS = [udp4(), udp4(vlan=7), udp4(dport=80, sport=5), tcp6(), icmp4(), fragment4(), udp4()[:30], b"\x01" * 60]


def _datagram(choices: list[tuple[int, int, bool, bool]]) -> bytes:
    samples = []
    for h, direction, switch, router in choices:
        recs = [enc.raw_header_record(HEADERS[h], len(HEADERS[h]) + 4)]
        if switch:
            recs.append(enc.extended_switch_record(3, 0, 4, 0))
        if router:
            recs.append(enc.extended_router_record("198.51.100.254"))
        samples.append(enc.flow_sample(h + 1, 5, 64, 1000 + h, h, 5 if direction == 0 else 0, 5 if direction == 1 else 9, recs))
    samples.append(enc.counter_sample(1, 5, [enc.generic_counters_record(enc.IfCounters(5))]))
    return enc.datagram("198.51.100.10", 1, 7, 100, samples)


def _reference(buf: bytes):
    try:
        d = decode_datagram(buf)
    except MalformedDatagram:
        return "malformed"
    return [_slow_flow(d.agent, fs) for fs in d.flows], len(d.counters)


def _fast(buf: bytes):
    try:
        agent, off = header(buf)
        s = scan(buf, agent, off)
    except MalformedDatagram:
        return "malformed"
    return s.flows, len(s.counters)


sample_choice = st.tuples(st.integers(0, len(HEADERS) - 1), st.integers(0, 2), st.booleans(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(sample_choice, min_size=1, max_size=6))
def test_fast_path_equals_the_reference_decoder_on_valid_datagrams(choices):
    buf = _datagram(choices)
    ref = _reference(buf)
    assert ref != "malformed"
    assert _fast(buf) == ref


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sample_choice, min_size=1, max_size=4), st.data())
def test_fast_path_refuses_what_the_reference_refuses(choices, data):
    buf = bytearray(_datagram(choices))
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
