"""sFlow v5 encoding (sflow.org/sflow_version_5.txt): datagrams, flow samples, counter samples.

Everything is XDR: big-endian 32-bit words, opaque data padded to a multiple of 4 bytes.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

SFLOW_VERSION = 5
FLOW_SAMPLE, COUNTER_SAMPLE = 1, 2
RAW_HEADER, EXTENDED_SWITCH, EXTENDED_ROUTER = 1, 1001, 1002
GENERIC_IF_COUNTERS = 1
PORT_NAME = 1005
HEADER_PROTOCOL_ETHERNET = 1
FCS_LEN = 4  # sFlow frame_length counts the FCS; the sampled header does not carry it (stripped)

_DGRAM_V4 = struct.Struct("!II4sIIII")
_DGRAM_V6 = struct.Struct("!II16sIIII")
_SAMPLE_HDR = struct.Struct("!II")
_FLOW = struct.Struct("!IIIIIIII")
_COUNTERS = struct.Struct("!III")
_RAW_HDR = struct.Struct("!IIII")
_GENERIC = struct.Struct("!IIQIIQIIIIIIQIIIIII")


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _record(fmt: int, data: bytes) -> bytes:
    return _SAMPLE_HDR.pack(fmt, len(data)) + data


def datagram(agent: str, sub_agent: int, sequence: int, uptime_ms: int, samples: list[bytes]) -> bytes:
    addr = ipaddress.ip_address(agent)
    if addr.version == 4:
        head = _DGRAM_V4.pack(SFLOW_VERSION, 1, addr.packed, sub_agent, sequence, uptime_ms & 0xFFFFFFFF, len(samples))
    else:
        head = _DGRAM_V6.pack(SFLOW_VERSION, 2, addr.packed, sub_agent, sequence, uptime_ms & 0xFFFFFFFF, len(samples))
    return head + b"".join(samples)


def raw_header_record(header: bytes, frame_length: int, stripped: int = FCS_LEN) -> bytes:
    return _record(RAW_HEADER, _RAW_HDR.pack(HEADER_PROTOCOL_ETHERNET, frame_length, stripped, len(header)) + _pad(header))


def extended_switch_record(src_vlan: int = 0, src_priority: int = 0, dst_vlan: int = 0, dst_priority: int = 0) -> bytes:
    return _record(EXTENDED_SWITCH, struct.pack("!IIII", src_vlan, src_priority, dst_vlan, dst_priority))


def extended_router_record(next_hop: str, src_mask: int = 0, dst_mask: int = 0) -> bytes:
    addr = ipaddress.ip_address(next_hop)
    return _record(EXTENDED_ROUTER, struct.pack("!I", 1 if addr.version == 4 else 2) + addr.packed + struct.pack("!II", src_mask, dst_mask))


def flow_sample(sequence: int, source_index: int, rate: int, pool: int, drops: int, input_if: int, output_if: int,
                records: list[bytes], source_type: int = 0) -> bytes:
    body = _FLOW.pack(sequence & 0xFFFFFFFF, (source_type << 24) | (source_index & 0xFFFFFF), rate,
                      pool & 0xFFFFFFFF, drops & 0xFFFFFFFF, input_if, output_if, len(records)) + b"".join(records)
    return _record(FLOW_SAMPLE, body)


@dataclass(frozen=True)
class IfCounters:
    """RFC 2233 style interface counters as sFlow's generic interface counters carry them."""

    ifindex: int
    if_type: int = 6          # ethernetCsmacd
    speed: int = 0            # bits/s, 0 unknown
    direction: int = 1        # full duplex
    status: int = 3           # bit 0 admin up, bit 1 oper up
    in_octets: int = 0
    in_ucast: int = 0
    in_multicast: int = 0
    in_broadcast: int = 0
    in_discards: int = 0
    in_errors: int = 0
    in_unknown_protos: int = 0
    out_octets: int = 0
    out_ucast: int = 0
    out_multicast: int = 0
    out_broadcast: int = 0
    out_discards: int = 0
    out_errors: int = 0
    promiscuous: int = 0


def generic_counters_record(c: IfCounters) -> bytes:
    m32, m64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF  # sFlow counters wrap like SNMP ones
    return _record(GENERIC_IF_COUNTERS, _GENERIC.pack(
        c.ifindex, c.if_type, c.speed & m64, c.direction, c.status,
        c.in_octets & m64, c.in_ucast & m32, c.in_multicast & m32, c.in_broadcast & m32, c.in_discards & m32,
        c.in_errors & m32, c.in_unknown_protos & m32,
        c.out_octets & m64, c.out_ucast & m32, c.out_multicast & m32, c.out_broadcast & m32, c.out_discards & m32,
        c.out_errors & m32, c.promiscuous))


def counter_sample(sequence: int, source_index: int, records: list[bytes], source_type: int = 0) -> bytes:
    body = _COUNTERS.pack(sequence & 0xFFFFFFFF, (source_type << 24) | (source_index & 0xFFFFFF), len(records)) + b"".join(records)
    return _record(COUNTER_SAMPLE, body)


def port_name_record(name: str) -> bytes:
    """The data source's interface name (string<255>), so collectors map names to ifindexes themselves."""
    data = name.encode("ascii")[:255]
    return _record(PORT_NAME, struct.pack("!I", len(data)) + _pad(data))
