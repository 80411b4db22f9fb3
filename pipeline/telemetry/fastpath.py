"""The collector's hot path: one datagram to flow keys, without per-sample objects.

`scan` walks a datagram with the same framing checks as `sflow_codec.decode_datagram` and returns, per
flow sample, the history key's parts.  The common layout (a flow sample whose first record is the raw
header of an untagged Ethernet/IPv4 packet with a 20-byte header, possibly followed by an extended switch
record, as our agent, pmacct and most switches send) is read with one precompiled unpack; every other
sample is decoded by the reference decoder's own functions, so both paths agree sample for sample
(tests/telemetry/test_fastpath.py compares them on generated and mutated datagrams).  Anything the
reference decoder would refuse raises MalformedDatagram here too, before anything is accounted.
"""

from __future__ import annotations

import struct
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton

from .errors import MalformedDatagram
from .sflow_codec import (COUNTER_SAMPLE, COUNTER_SAMPLE_X, EXTENDED_SWITCH, FLOW_SAMPLE, FLOW_SAMPLE_X, HEADER_ETHERNET,
                          MAX_HEADER, RAW_HEADER, CounterSample, FlowSample, _counter_records, _flow_records)

_PAIR = struct.Struct("!II")
_HEAD = struct.Struct("!II")
_TAIL = struct.Struct("!IIII")
_FLOW = struct.Struct("!IIIIIIII")
_FLOW_X = struct.Struct("!IIIIIIIIIII")
_COUNTERS = struct.Struct("!III")
_COUNTERS_X = struct.Struct("!IIII")
# flow sample header, first record's format/length, raw header fields, Ethernet (MACs skipped, ethertype),
# IPv4 header without options, then the transport ports
_COMMON = struct.Struct("!IIIIIIII II IIII 12xH BBHHHBBH4s4s HH")
_COMMON_SIZE = _COMMON.size
# the same after a leading extended switch record (pmacct's order; its 24 bytes checked by _SWITCH_FIRST)
_COMMON_SW = struct.Struct("!IIIIIIII 24x II IIII 12xH BBHHHBBH4s4s HH")
_COMMON_SW_SIZE = _COMMON_SW.size
_SWITCH_FIRST = struct.pack("!II", EXTENDED_SWITCH, 16)
_ING, _EGR = "ingress", "egress"


class Scanned:
    """One datagram: the agent address, sequence data, flow keys and counter samples."""

    __slots__ = ("agent", "sub_agent", "sequence", "flows", "counters", "drops")

    def __init__(self, agent: str, sub_agent: int, sequence: int):
        self.agent, self.sub_agent, self.sequence = agent, sub_agent, sequence
        # (history key, rate, frame length); key: (agent name, source index, direction, src, dst, protocol,
        # src port, dst port, output ifindex, next hop, detail: TCP flags or ICMP type * 256 + code)
        self.flows: list[tuple] = []
        self.counters: list[CounterSample] = []
        self.drops: dict[int, int] = {}


def header(buf: bytes) -> tuple[str, int]:
    """(agent address, offset after it); MalformedDatagram if the datagram cannot be sFlow v5."""
    if len(buf) < 8:
        raise MalformedDatagram("truncated: shorter than the sFlow header")
    version, addr_type = _HEAD.unpack_from(buf, 0)
    if version != 5:
        raise MalformedDatagram(f"not sFlow v5 (version {version})")
    if addr_type == 1:
        off, family = 12, AF_INET
    elif addr_type == 2:
        off, family = 24, AF_INET6
    else:
        raise MalformedDatagram(f"unknown agent address type {addr_type}")
    if off > len(buf):
        raise MalformedDatagram("truncated agent address")
    return inet_ntop(family, buf[8:off]), off


def detail_of(p) -> int | None:
    """The key's detail (history.py): TCP flags, or ICMP type * 256 + code."""
    if p.protocol == 6:
        return p.tcp_flags
    if p.protocol in (1, 58) and p.icmp_type is not None:
        return p.icmp_type << 8 | (p.icmp_code or 0)
    return None


def _packed(addr: str | None) -> bytes | None:
    if addr is None:
        return None
    return inet_pton(AF_INET6 if ":" in addr else AF_INET, addr)


def _slow_flow(name: str, fs: FlowSample) -> tuple:
    p = fs.packet
    out_if = fs.output_if if fs.output_format == 0 else None
    if p is not None:
        key = (name, fs.source_index, fs.direction, _packed(p.src), _packed(p.dst), p.protocol, p.src_port, p.dst_port,
               out_if, fs.next_hop, detail_of(p))
    else:
        key = (name, fs.source_index, fs.direction, None, None, None, None, None, out_if, fs.next_hop, None)
    return key, fs.sampling_rate, fs.frame_length or 0


def scan(buf: bytes, agent: str, off: int, name: str | None = None) -> Scanned:
    """Flow keys and counters of one datagram whose header (agent address up to `off`) is already read;
    `name` is the agent's name in the keys (default: its address)."""
    try:
        return _scan(buf, agent, off, agent if name is None else name)
    except struct.error as e:
        raise MalformedDatagram(f"truncated: {e}") from None


def _scan(buf: bytes, agent: str, off: int, name: str) -> Scanned:
    end = len(buf)
    sub_agent, dseq, _uptime, nsamples = _TAIL.unpack_from(buf, off)
    off += 16
    if nsamples * 8 > end - off:
        raise MalformedDatagram(f"{nsamples} samples cannot fit in {end - off} bytes")
    out = Scanned(agent, sub_agent, dseq)
    flows = out.flows
    drops_by_source = out.drops
    pair = _PAIR.unpack_from
    common = _COMMON.unpack_from
    common_sw = _COMMON_SW.unpack_from
    for _ in range(nsamples):
        fmt, length = pair(buf, off)
        off += 8
        send = off + length
        if send > end or length & 3:
            raise MalformedDatagram(f"sample length {length} overruns the datagram")
        if fmt == FLOW_SAMPLE:
            if off + 32 > send:
                raise MalformedDatagram("flow sample shorter than its header")
            if buf[off + 32:off + 40] == _SWITCH_FIRST:
                fields, rstart, done = (common_sw(buf, off) if off + _COMMON_SW_SIZE <= end else None), off + 64, 2
            else:
                fields, rstart, done = (common(buf, off) if off + _COMMON_SIZE <= end else None), off + 40, 1
            if fields is not None:
                (_seq, source, rate, _pool, drops, inp, outp, nrec, rfmt, rlen, hproto, flen, _stripped, hlen,
                 ethertype, vihl, _tos, _total, _id, frag, _ttl, proto, _sum, src, dst, sport, dport) = fields
                rend = rstart + rlen
                if (rfmt == RAW_HEADER and hproto == HEADER_ETHERNET and ethertype == 0x0800 and vihl == 0x45
                        and not frag & 0x1FFF and 38 <= hlen <= MAX_HEADER and rstart + 16 + hlen <= rend <= send
                        and done <= nrec and nrec * 8 <= send - off - 32):
                    off_r = rend
                    for _r in range(nrec - done):  # what may follow: extended switch or unknown records
                        if off_r + 8 > send:
                            break
                        f2, l2 = pair(buf, off_r)
                        off_r += 8 + l2
                        if off_r > send or (f2 == EXTENDED_SWITCH and l2 < 16) or f2 in (1, 3, 4, 1002):
                            break
                    else:
                        if send - off_r < 8:
                            index = source & 0xFFFFFF
                            if inp < 0x40000000 and inp == index:
                                direction = _ING
                            elif outp < 0x40000000 and outp == index:
                                direction = _EGR
                            else:
                                direction = None
                            out_if = outp if outp < 0x40000000 else None
                            if proto == 6:  # the flags byte, when the cut header reaches it (Ethernet + 20 + 13)
                                flags = buf[rstart + 16 + 47] if hlen >= 48 else None
                                flows.append(((name, index, direction, src, dst, proto, sport, dport, out_if, None, flags), rate, flen))
                            elif proto == 17:
                                flows.append(((name, index, direction, src, dst, proto, sport, dport, out_if, None, None), rate, flen))
                            elif proto == 1:  # the first 16 bits of the ICMP header: type * 256 + code
                                flows.append(((name, index, direction, src, dst, proto, None, None, out_if, None, sport), rate, flen))
                            else:
                                flows.append(((name, index, direction, src, dst, proto, None, None, out_if, None, None), rate, flen))
                            drops_by_source[index] = drops
                            off = send
                            continue
            # everything else: the reference decoder's own record walk
            seq, source, rate, pool, drops, inp, outp, nrec = _FLOW.unpack_from(buf, off)
            fs = FlowSample(agent, sub_agent, seq, source >> 24, source & 0xFFFFFF, rate, pool, drops,
                            inp & 0x3FFFFFFF, outp & 0x3FFFFFFF, inp >> 30, outp >> 30)
            _flow_records(buf, off + 32, send, nrec, fs, True)
            flows.append(_slow_flow(name, fs))
            drops_by_source[fs.source_index] = drops
        elif fmt == FLOW_SAMPLE_X:
            seq, stype, sindex, rate, pool, drops, infmt, inval, outfmt, outval, nrec = _FLOW_X.unpack_from(buf, off)
            if off + 44 > send:
                raise MalformedDatagram("expanded flow sample shorter than its header")
            fs = FlowSample(agent, sub_agent, seq, stype, sindex, rate, pool, drops, inval, outval, infmt, outfmt)
            _flow_records(buf, off + 44, send, nrec, fs, True)
            flows.append(_slow_flow(name, fs))
            drops_by_source[sindex] = drops
        elif fmt == COUNTER_SAMPLE:
            seq, source, nrec = _COUNTERS.unpack_from(buf, off)
            if off + 12 > send:
                raise MalformedDatagram("counter sample shorter than its header")
            cs = CounterSample(agent, sub_agent, seq, source >> 24, source & 0xFFFFFF)
            _counter_records(buf, off + 12, send, nrec, cs)
            out.counters.append(cs)
        elif fmt == COUNTER_SAMPLE_X:
            seq, stype, sindex, nrec = _COUNTERS_X.unpack_from(buf, off)
            if off + 16 > send:
                raise MalformedDatagram("expanded counter sample shorter than its header")
            cs = CounterSample(agent, sub_agent, seq, stype, sindex)
            _counter_records(buf, off + 16, send, nrec, cs)
            out.counters.append(cs)
        off = send
    return out

