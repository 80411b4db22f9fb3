"""sFlow v5 decoding: datagrams with flow, expanded flow, counter and expanded counter samples.

The hot path uses precompiled Structs over one buffer with offsets and checks every length against the
enclosing structure, so truncated datagrams and lying lengths or counts raise MalformedDatagram instead
of reading into the next structure.  Unknown sample and record formats are skipped by their length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from socket import AF_INET, AF_INET6, inet_ntop

from .errors import MalformedDatagram
from .packet import ETH_IPV4, ETH_IPV6, Packet, decode_ethernet, decode_ip
from .sflow_encode import IfCounters

_U32 = struct.Struct("!I")
_PAIR = struct.Struct("!II")
_DGRAM_TAIL = struct.Struct("!IIII")         # sub agent, sequence, uptime, samples
_FLOW = struct.Struct("!IIIIIIII")            # seq, source, rate, pool, drops, input, output, records
_FLOW_X = struct.Struct("!IIIIIIIIIII")       # expanded: seq, type, index, rate, pool, drops, in fmt/val, out fmt/val, records
_COUNTERS = struct.Struct("!III")             # seq, source, records
_COUNTERS_X = struct.Struct("!IIII")          # expanded: seq, type, index, records
_RAW_HDR = struct.Struct("!IIII")             # protocol, frame length, stripped, header length
_SWITCH = struct.Struct("!IIII")
_GENERIC = struct.Struct("!IIQIIQIIIIIIQIIIIII")
_SAMPLED_IP = struct.Struct("!II")            # length, protocol (then addresses, ports, flags, tos)
_SAMPLED_IP_TAIL = struct.Struct("!IIII")

FLOW_SAMPLE, COUNTER_SAMPLE, FLOW_SAMPLE_X, COUNTER_SAMPLE_X = 1, 2, 3, 4
RAW_HEADER, SAMPLED_IPV4, SAMPLED_IPV6, EXTENDED_SWITCH, EXTENDED_ROUTER = 1, 3, 4, 1001, 1002
GENERIC_IF_COUNTERS = 1
PORT_NAME = 1005  # counter record: the data source's interface name (as Host sFlow sends it)
HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6 = 1, 11, 12
MAX_HEADER = 1024  # sane bound for a sampled header; beyond it the datagram is lying


@dataclass(slots=True)
class FlowSample:
    agent: str
    sub_agent: int
    sequence: int
    source_type: int
    source_index: int
    sampling_rate: int
    sample_pool: int
    drops: int
    input_if: int
    output_if: int
    input_format: int = 0       # 0 ifIndex, 1 discarded (value = reason), 2 multiple interfaces
    output_format: int = 0
    frame_length: int | None = None
    stripped: int = 0
    header_protocol: int | None = None
    header: bytes | None = None
    packet: Packet | None = None
    next_hop: str | None = None
    src_vlan: int | None = None
    dst_vlan: int | None = None

    @property
    def direction(self) -> str | None:
        """ingress when sampled as it came in on the data source, egress when going out of it."""
        if self.input_format == 0 and self.input_if == self.source_index:
            return "ingress"
        if self.output_format == 0 and self.output_if == self.source_index:
            return "egress"
        return None


@dataclass(slots=True)
class CounterSample:
    agent: str
    sub_agent: int
    sequence: int
    source_type: int
    source_index: int
    interfaces: list[IfCounters] = field(default_factory=list)
    port_name: str | None = None


@dataclass(slots=True)
class Datagram:
    agent: str
    sub_agent: int
    sequence: int
    uptime_ms: int
    flows: list[FlowSample]
    counters: list[CounterSample]


def _bad(msg: str) -> MalformedDatagram:
    return MalformedDatagram(msg)


def decode_datagram(buf: bytes, decode_headers: bool = True) -> Datagram:
    """Decodes one datagram; raises MalformedDatagram for anything that is not valid sFlow v5."""
    try:
        return _decode(buf, decode_headers)
    except struct.error as e:
        raise _bad(f"truncated: {e}") from None


def _decode(buf: bytes, decode_headers: bool) -> Datagram:
    end = len(buf)
    version, addr_type = _PAIR.unpack_from(buf, 0)
    if version != 5:
        raise _bad(f"not sFlow v5 (version {version})")
    if addr_type == 1:
        off, family = 12, AF_INET
    elif addr_type == 2:
        off, family = 24, AF_INET6
    else:
        raise _bad(f"unknown agent address type {addr_type}")
    if off > end:
        raise _bad("truncated agent address")
    agent = inet_ntop(family, buf[8:off])
    sub_agent, dseq, uptime, nsamples = _DGRAM_TAIL.unpack_from(buf, off)
    off += 16
    if nsamples * 8 > end - off:
        raise _bad(f"{nsamples} samples cannot fit in {end - off} bytes")
    flows: list[FlowSample] = []
    counters: list[CounterSample] = []
    for _ in range(nsamples):
        fmt, length = _PAIR.unpack_from(buf, off)
        off += 8
        send = off + length
        if send > end or length & 3:
            raise _bad(f"sample length {length} overruns the datagram")
        if fmt == FLOW_SAMPLE:
            seq, source, rate, pool, drops, inp, outp, nrec = _FLOW.unpack_from(buf, off)
            if off + 32 > send:
                raise _bad("flow sample shorter than its header")
            fs = FlowSample(agent, sub_agent, seq, source >> 24, source & 0xFFFFFF, rate, pool, drops,
                            inp & 0x3FFFFFFF, outp & 0x3FFFFFFF, inp >> 30, outp >> 30)
            _flow_records(buf, off + 32, send, nrec, fs, decode_headers)
            flows.append(fs)
        elif fmt == FLOW_SAMPLE_X:
            seq, stype, sindex, rate, pool, drops, infmt, inval, outfmt, outval, nrec = _FLOW_X.unpack_from(buf, off)
            if off + 44 > send:
                raise _bad("expanded flow sample shorter than its header")
            fs = FlowSample(agent, sub_agent, seq, stype, sindex, rate, pool, drops, inval, outval, infmt, outfmt)
            _flow_records(buf, off + 44, send, nrec, fs, decode_headers)
            flows.append(fs)
        elif fmt == COUNTER_SAMPLE:
            seq, source, nrec = _COUNTERS.unpack_from(buf, off)
            if off + 12 > send:
                raise _bad("counter sample shorter than its header")
            cs = CounterSample(agent, sub_agent, seq, source >> 24, source & 0xFFFFFF)
            _counter_records(buf, off + 12, send, nrec, cs)
            counters.append(cs)
        elif fmt == COUNTER_SAMPLE_X:
            seq, stype, sindex, nrec = _COUNTERS_X.unpack_from(buf, off)
            if off + 16 > send:
                raise _bad("expanded counter sample shorter than its header")
            cs = CounterSample(agent, sub_agent, seq, stype, sindex)
            _counter_records(buf, off + 16, send, nrec, cs)
            counters.append(cs)
        # other formats and enterprises: skipped by length
        off = send
    return Datagram(agent, sub_agent, dseq, uptime, flows, counters)


def _flow_records(buf: bytes, off: int, end: int, nrec: int, fs: FlowSample, decode_headers: bool) -> None:
    if nrec * 8 > end - off:
        raise _bad(f"{nrec} flow records cannot fit in {end - off} bytes")
    for _ in range(nrec):
        fmt, length = _PAIR.unpack_from(buf, off)
        off += 8
        rend = off + length
        if rend > end:
            raise _bad(f"flow record length {length} overruns its sample")
        if fmt == RAW_HEADER:
            proto, frame_len, stripped, hlen = _RAW_HDR.unpack_from(buf, off)
            if hlen > MAX_HEADER or off + 16 + hlen > rend:
                raise _bad(f"raw header length {hlen} overruns its record")
            header = buf[off + 16:off + 16 + hlen]
            fs.frame_length, fs.stripped, fs.header_protocol, fs.header = frame_len, stripped, proto, header
            if decode_headers:
                if proto == HEADER_ETHERNET:
                    fs.packet = decode_ethernet(header)
                elif proto == HEADER_IPV4 or proto == HEADER_IPV6:
                    fs.packet = decode_ip(header)
        elif fmt == EXTENDED_SWITCH:
            if length < 16:
                raise _bad("short extended switch record")
            src_vlan, _sp, dst_vlan, _dp = _SWITCH.unpack_from(buf, off)
            fs.src_vlan, fs.dst_vlan = src_vlan, dst_vlan
        elif fmt == EXTENDED_ROUTER:
            atype = _U32.unpack_from(buf, off)[0]
            alen = 4 if atype == 1 else 16 if atype == 2 else 0
            if not alen or 4 + alen > length:
                raise _bad("bad next hop in extended router record")
            fs.next_hop = inet_ntop(AF_INET if alen == 4 else AF_INET6, buf[off + 4:off + 4 + alen])
        elif fmt == SAMPLED_IPV4 or fmt == SAMPLED_IPV6:
            alen = 4 if fmt == SAMPLED_IPV4 else 16
            if length < 8 + 2 * alen + 16:
                raise _bad("short sampled IP record")
            ip_len, proto = _SAMPLED_IP.unpack_from(buf, off)
            sport, dport, flags, _tos = _SAMPLED_IP_TAIL.unpack_from(buf, off + 8 + 2 * alen)
            fam = AF_INET if alen == 4 else AF_INET6
            if fs.packet is None:
                fs.packet = Packet(ETH_IPV4 if alen == 4 else ETH_IPV6, None, 4 if alen == 4 else 6,
                                   inet_ntop(fam, buf[off + 8:off + 8 + alen]),
                                   inet_ntop(fam, buf[off + 8 + alen:off + 8 + 2 * alen]), proto, ip_len,
                                   sport, dport, None, None, flags if proto == 6 else None)
                if fs.frame_length is None:
                    fs.frame_length = ip_len
        off = rend
    if off != end:
        # trailing bytes are tolerated only as padding: a sample that claims more is lying about its records
        if end - off >= 8:
            raise _bad(f"{end - off} bytes after the last flow record")


def _counter_records(buf: bytes, off: int, end: int, nrec: int, cs: CounterSample) -> None:
    if nrec * 8 > end - off:
        raise _bad(f"{nrec} counter records cannot fit in {end - off} bytes")
    for _ in range(nrec):
        fmt, length = _PAIR.unpack_from(buf, off)
        off += 8
        rend = off + length
        if rend > end:
            raise _bad(f"counter record length {length} overruns its sample")
        if fmt == GENERIC_IF_COUNTERS:
            if length < _GENERIC.size:
                raise _bad("short generic interface counters record")
            cs.interfaces.append(IfCounters(*_GENERIC.unpack_from(buf, off)))
        elif fmt == PORT_NAME:
            n = _U32.unpack_from(buf, off)[0] if length >= 4 else 256
            if n > 255 or 4 + n > length:
                raise _bad("bad port name record")
            cs.port_name = buf[off + 4:off + 4 + n].decode("ascii", "replace")
        off = rend
