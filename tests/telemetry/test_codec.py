"""sFlow v5 codec and header decoding: round trips, unknown records, and fuzzing for crashes and hangs."""

from __future__ import annotations

import io
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.collector import Collector
from pipeline.telemetry.errors import MalformedDatagram
from pipeline.telemetry.fastpath import header
from pipeline.telemetry.packet import decode_ethernet
from pipeline.telemetry.sflow_codec import decode_datagram

MAC = bytes.fromhex("020000000002020000000001")


def udp4(src=(198, 51, 100, 1), dst=(203, 0, 113, 5), sport=1234, dport=53, vlan: int | None = None) -> bytes:
    ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, *src, *dst]) + struct.pack("!HHHH", sport, dport, 8, 0)
    tag = b"\x81\x00" + struct.pack("!H", vlan) if vlan is not None else b""
    return MAC + tag + b"\x08\x00" + ip


def tcp6(dport=443) -> bytes:
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    hop_by_hop = bytes([6, 0, 1, 4, 0, 0, 0, 0])  # next header TCP, 8 bytes, PadN
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 0x50, 0x02, 1024, 0, 0)
    ip6 = struct.pack("!IHBB", 6 << 28, len(hop_by_hop) + len(tcp), 0, 64) + src + dst
    return MAC + b"\x86\xdd" + ip6 + hop_by_hop + tcp


def datagram(samples: list[bytes], agent: str = "198.51.100.10", seq: int = 1) -> bytes:
    return enc.datagram(agent, 0, seq, 1000, samples)


def flow(header: bytes, rate: int = 100, pool: int = 1000, drops: int = 0, records: list[bytes] | None = None) -> bytes:
    recs = [enc.raw_header_record(header, len(header) + 4)] + (records or [])
    return enc.flow_sample(1, 3, rate, pool, drops, 3, 0, recs)


def test_round_trip_flow_and_counter_samples():
    counters = enc.IfCounters(3, in_octets=2**40, in_ucast=7, out_octets=5, out_ucast=2)
    d = decode_datagram(datagram([flow(udp4(vlan=12), drops=9), enc.counter_sample(4, 3, [enc.generic_counters_record(counters)])]))
    assert (d.agent, d.sequence, d.uptime_ms) == ("198.51.100.10", 1, 1000)
    [fs] = d.flows
    assert (fs.source_index, fs.sampling_rate, fs.sample_pool, fs.drops, fs.direction) == (3, 100, 1000, 9, "ingress")
    p = fs.packet
    assert (p.vlan, p.src, p.dst, p.protocol, p.src_port, p.dst_port) == (12, "198.51.100.1", "203.0.113.5", 17, 1234, 53)
    assert d.counters[0].interfaces == [counters]


def test_ipv6_extension_header_and_tcp():
    p = decode_ethernet(tcp6())
    assert (p.ip_version, p.src, p.dst, p.protocol, p.dst_port, p.tcp_flags) == (6, "2001:db8::1", "2001:db8::2", 6, 443, 0x02)


def test_expanded_samples_next_hop_and_unknown_records_are_skipped_by_length():
    unknown_record = struct.pack("!II", (4300 << 12) | 7, 12) + b"\xff" * 12   # some vendor's record
    body = struct.pack("!IIIIIIIIIII", 5, 0, 70000, 10, 500, 0, 0, 70000, 0, 9, 3)
    body += unknown_record + enc.raw_header_record(udp4(), 64) + enc.extended_router_record("198.51.100.254")
    expanded = struct.pack("!II", 3, len(body)) + body
    unknown_sample = struct.pack("!II", (9 << 12) | 1, 8) + b"\0" * 8
    d = decode_datagram(datagram([unknown_sample, expanded]))
    [fs] = d.flows
    assert (fs.source_index, fs.output_if, fs.next_hop, fs.direction) == (70000, 9, "198.51.100.254", "ingress")
    assert fs.packet.dst_port == 53


@pytest.mark.parametrize("mutate", [
    lambda b: b[:-3],                                      # truncated
    lambda b: struct.pack("!I", 4) + b[4:],                # wrong version
    lambda b: b[:24] + struct.pack("!I", 1000) + b[28:],   # lying sample count
    lambda b: b[:32] + struct.pack("!I", 5000) + b[36:],   # lying sample length
    lambda b: b[:8],
])
def test_malformed_datagrams_raise(mutate):
    good = datagram([flow(udp4())])
    decode_datagram(good)
    with pytest.raises(MalformedDatagram):
        decode_datagram(mutate(good))


def _mutations():
    good = datagram([flow(udp4(vlan=3)), flow(tcp6()), enc.counter_sample(1, 3, [enc.generic_counters_record(enc.IfCounters(3))])])
    word_positions = st.integers(0, len(good) // 4 - 1)
    lying_word = st.tuples(word_positions, st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
    return st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=400).map(lambda b: struct.pack("!II", 5, 1) + b),
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.lists(lying_word, min_size=1, max_size=4).map(
            lambda edits: _patch(good, edits)),
    )


def _patch(buf: bytes, edits) -> bytes:
    b = bytearray(buf)
    for pos, value in edits:
        b[pos * 4:pos * 4 + 4] = struct.pack("!I", value)
    return bytes(b)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the first call may build the C path
@given(data=_mutations())
def test_fuzzed_datagrams_never_crash_and_are_counted(data):
    try:
        decode_datagram(data)
        ok = True
    except MalformedDatagram:
        ok = False
    c = Collector(agents=None)
    try:
        claimed = header(data)[0]  # any-agent mode: accepted from the address it claims
    except MalformedDatagram:
        claimed = "198.51.100.10"
    c.ingest(data, claimed)
    assert c.metrics.value("netchange_sflow_malformed_datagrams_total") == (0 if ok else 1)


def test_collector_rejects_unknown_agents_and_counts_malformed():
    c = Collector(agents={"fw1": "198.51.100.10"})
    assert c.ingest(datagram([flow(udp4())], agent="198.51.100.99"), "198.51.100.99") is None
    assert c.ingest(b"\0\0\0\5garbage", "198.51.100.10") is None
    assert c.ingest(datagram([flow(udp4())]), "198.51.100.10") is not None
    assert c.metrics.value("netchange_sflow_rejected_datagrams_total") == 1
    assert c.metrics.value("netchange_sflow_malformed_datagrams_total") == 1
    assert c.metrics.value("netchange_sflow_flow_samples_total", agent="fw1") == 1


def test_flow_history_is_bounded_scales_by_rate_and_counts_lost_datagrams():
    out = io.StringIO()
    c = Collector(agents=["198.51.100.10"], max_flows=4, jsonl=out)
    for seq, port in enumerate(range(1000, 1010), start=1):  # one flow a second
        c.ingest(datagram([flow(udp4(dport=port), rate=50)], seq=seq if seq < 6 else seq + 2), "198.51.100.10", now=1000.0 + seq)
    assert len(c.flows()) == 4
    assert c.history.evictions == 6
    assert c.metrics.value("netchange_collector_state_evictions_total", table="flows") == 6
    assert c.metrics.value("netchange_sflow_lost_datagrams_total", agent="198.51.100.10") == 2
    f = c.flows()[0]
    assert (f.samples, f.packets, f.bytes) == (1, 50, 50 * 46)
    assert {f.dst_port for f in c.flows()} == {1006, 1007, 1008, 1009}  # the oldest seconds went first
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 10 and lines[0]["dst_port"] == 1000 and lines[0]["rate"] == 50


def test_a_full_history_counts_the_samples_it_cannot_keep():
    c = Collector(agents={"fw1": "198.51.100.10"}, max_flows=4)
    c.ingest(datagram([flow(udp4(dport=p)) for p in range(1000, 1010)]), "198.51.100.10", now=5.0)
    assert len(c.flows()) == 4 and c.history.overflow == 6
    assert c.metrics.value("netchange_flow_history_overflow_samples_total") == 6
    assert c.metrics.value("netchange_sflow_flow_samples_total", agent="fw1") == 10


def test_labeler_hook_labels_flows():
    c = Collector(agents=None, labeler=lambda obs: "dns" if obs.sample.packet.dst_port == 53 else None)
    c.ingest(datagram([flow(udp4()), flow(udp4(dport=80))]), "198.51.100.10")
    assert {f.dst_port: f.label for f in c.flows()} == {53: "dns", 80: None}


def test_read_pcap(tmp_path):
    # a classic pcap with two UDP/IPv4 frames carrying sFlow to 6343 and one to another port
    def frame(payload: bytes, dport: int) -> bytes:
        udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
        ip = bytes([0x45, 0, 0, 0]) + struct.pack("!H", 0) + bytes([0, 0, 64, 17, 0, 0, 198, 51, 100, 10, 198, 51, 100, 1])
        ip = ip[:2] + struct.pack("!H", 20 + len(udp)) + ip[4:]
        return MAC + b"\x08\x00" + ip + udp
    frames = [frame(datagram([flow(udp4())], seq=1), 6343), frame(b"noise", 53), frame(datagram([flow(udp4())], seq=2), 6343)]
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        pcap += struct.pack("<IIII", 1_700_000_000 + i, 0, len(f), len(f)) + f
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap)
    c = Collector(agents=["198.51.100.10"])
    assert c.read_pcap(path) == 2
    assert c.flows()[0].samples == 2 and c.malformed == 0


def _pcap_frames(payloads: list[bytes]) -> list[bytes]:
    out = []
    for payload in payloads:
        udp = struct.pack("!HHHH", 40000, 6343, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([198, 51, 100, 10]), bytes([198, 51, 100, 1]))
        out.append(MAC + b"\x08\x00" + ip + udp)
    return out


def test_read_pcapng(tmp_path):
    frames = _pcap_frames([datagram([flow(udp4())], seq=1), datagram([flow(udp4()), flow(udp4())], seq=2)])

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    data = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    data += block(1, struct.pack("<HHI", 1, 0, 65535))
    for i, f in enumerate(frames):
        data += block(6, struct.pack("<IIIII", 0, 0, 1_700_000_000 + i, len(f), len(f)) + f)
    path = tmp_path / "x.pcapng"
    path.write_bytes(data)
    c = Collector(agents=["198.51.100.10"])
    assert c.read_pcap(path) == 2
    assert c.flows()[0].samples == 3 and c.malformed == 0


def test_read_pcap_streams_whatever_the_file_size(tmp_path):
    import tracemalloc

    one = _pcap_frames([datagram([flow(udp4(dport=p)) for p in range(7)], seq=1)])[0]
    path = tmp_path / "big.pcap"
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        record = struct.pack("<IIII", 1_700_000_000, 0, len(one), len(one)) + one
        f.write(record * 40_000)  # 40 k datagrams, 280 k samples, about 30 MB
    c = Collector(agents=["198.51.100.10"])
    tracemalloc.start()
    assert c.read_pcap(path) == 40_000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert path.stat().st_size > 25e6 and peak < 10e6, f"reading a {path.stat().st_size / 1e6:.0f} MB capture peaked at {peak / 1e6:.1f} MB"
    assert c.snapshot()["flow_samples"] == 280_000
