"""Reads UDP datagrams out of a capture file (pcap or pcapng) for offline collection, streaming.

The file is read frame by frame through a buffered reader, so memory does not depend on its size.  The
common frame (Ethernet, IPv4 without options, UDP) is taken apart with one unpack; anything else goes
through the general header decoder.
"""

from __future__ import annotations

import struct
from pathlib import Path
from socket import AF_INET, inet_ntop
from typing import BinaryIO, Iterator

from ..errors import NetchangeError
from .errors import TelemetryError
from .packet import ETH_IPV4, ETH_IPV6, UDP, Packet, decode_ethernet, decode_ip, decode_l3

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_SLL2 = 0, 1, 101, 113, 228, 229, 276
_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
_PCAPNG_SHB = 0x0A0D0D0A
MAX_FRAME = 256 * 1024  # a record claiming more is a damaged file, not a frame
_BUFFER = 1 << 20
# Ethernet (MACs skipped) + IPv4 without options + UDP header
_ETH_IP4_UDP = struct.Struct("!12xH BBHHHBBH4s4s HHH")


def _frame_packet(frame: bytes, linktype: int) -> Packet | None:
    if linktype == LINKTYPE_ETHERNET:
        return decode_ethernet(frame)
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6, 12, 14):
        return decode_ip(frame)
    if linktype == LINKTYPE_SLL and len(frame) >= 16:
        return decode_l3(frame, 16, struct.unpack_from("!H", frame, 14)[0])
    if linktype == LINKTYPE_SLL2 and len(frame) >= 20:
        return decode_l3(frame, 20, struct.unpack_from("!H", frame, 0)[0])
    if linktype == LINKTYPE_NULL and len(frame) >= 4:
        family = struct.unpack_from("=I", frame, 0)[0]
        return decode_l3(frame, 4, ETH_IPV4 if family == 2 else ETH_IPV6)
    return None


def _open(path: Path) -> BinaryIO:
    from .. import safefiles

    try:  # no FIFO (never waited on), device or directory; any size: it is read in chunks
        safefiles.check_regular(path, 1 << 62, within=None)
    except NetchangeError as e:
        raise TelemetryError(str(e)) from None
    try:
        return open(path, "rb", buffering=_BUFFER)
    except OSError as e:
        raise TelemetryError(f"cannot read {path}: {e.strerror}") from None


def _frames(path: Path) -> Iterator[tuple[float, int, bytes]]:
    with _open(path) as f:
        magic = f.read(4)
        if magic in _PCAP_MAGIC:
            yield from _pcap(f, path, magic)
        elif len(magic) == 4 and struct.unpack("<I", magic)[0] == _PCAPNG_SHB:
            yield from _pcapng(f, magic)
        else:
            raise TelemetryError(f"{path} is neither pcap nor pcapng")


def _pcap(f: BinaryIO, path: Path, magic: bytes) -> Iterator[tuple[float, int, bytes]]:
    endian, unit = _PCAP_MAGIC[magic]
    head = f.read(20)
    if len(head) < 20:
        raise TelemetryError(f"{path}: truncated pcap header")
    linktype = struct.unpack_from(endian + "I", head, 16)[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    read = f.read
    while True:
        h = read(16)
        if len(h) < 16:
            return
        sec, frac, incl, _orig = rec.unpack(h)
        if incl > MAX_FRAME:
            raise TelemetryError(f"{path}: damaged record ({incl} bytes claimed)")
        frame = read(incl)
        if len(frame) < incl:
            return  # a capture cut short: its last frame is incomplete
        yield sec + frac * unit, linktype, frame


def _pcapng(f: BinaryIO, first: bytes) -> Iterator[tuple[float, int, bytes]]:
    linktypes: list[int]
    endian, linktypes = "<", []
    pending = first
    while True:
        head = pending + f.read(8 - len(pending))
        pending = b""
        if len(head) < 8:
            return
        btype = struct.unpack_from("<I", head, 0)[0]
        if btype == _PCAPNG_SHB:
            bom = f.read(4)
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
            blen = struct.unpack_from(endian + "I", head, 4)[0]
            body = bom + f.read(max(0, blen - 12))
        else:
            btype = struct.unpack_from(endian + "I", head, 0)[0]
            blen = struct.unpack_from(endian + "I", head, 4)[0]
            if blen < 12 or blen > MAX_FRAME + 64:
                return
            body = f.read(blen - 8)
        if len(body) < blen - 8:
            return
        if btype == 1:  # interface description
            linktypes.append(struct.unpack_from(endian + "H", body, 0)[0])
        elif btype == 6 and blen >= 32:  # enhanced packet (timestamps assumed in microseconds, the default)
            ifid, hi, lo, caplen = struct.unpack_from(endian + "IIII", body, 0)
            lt = linktypes[ifid] if ifid < len(linktypes) else LINKTYPE_ETHERNET
            yield ((hi << 32) | lo) * 1e-6, lt, body[20:20 + caplen]
        elif btype == 3 and linktypes:  # simple packet
            orig = struct.unpack_from(endian + "I", body, 0)[0]
            yield 0.0, linktypes[0], body[4:4 + min(orig, blen - 16)]


def _classic_ethernet(path: Path) -> tuple[bool, bool] | None:
    """(little endian, nanoseconds) of a classic pcap of Ethernet frames, else None."""
    with _open(path) as f:
        head = f.read(24)
    if len(head) < 24 or head[:4] not in _PCAP_MAGIC:
        return None
    endian, unit = _PCAP_MAGIC[head[:4]]
    if struct.unpack_from(endian + "I", head, 20)[0] & 0x0FFFFFFF != LINKTYPE_ETHERNET:
        return None
    return endian == "<", unit == 1e-9


def _fast_udp(path: Path, port: int, c, little: bool, nano: bool) -> Iterator[tuple[float, str, bytes]]:
    """The C reader (cext) over 1 MiB chunks; frames it does not take go through the general decoder."""
    names: dict[bytes, str] = {}
    length = struct.Struct("<I" if little else ">I")

    def check(rest: bytes) -> None:  # the same refusal as the Python reader's
        if len(rest) >= 16 and length.unpack_from(rest, 8)[0] > MAX_FRAME:
            raise TelemetryError(f"{path}: damaged record ({length.unpack_from(rest, 8)[0]} bytes claimed)")

    with _open(path) as f:
        f.read(24)
        rest = b""
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                check(rest)
                return  # an incomplete last record: a capture cut short
            buf = rest + chunk if rest else chunk
            items, used = c.pcap_udp(buf, little, nano, port)
            rest = buf[used:]
            check(rest)
            for ts, src, payload in items:
                if src is None:
                    yield from _general(ts, LINKTYPE_ETHERNET, payload, port)
                    continue
                text = names.get(src)
                if text is None:
                    text = names[src] = inet_ntop(AF_INET, src)
                yield ts, text, payload


def _general(ts: float, linktype: int, frame: bytes, port: int | None) -> Iterator[tuple[float, str, bytes]]:
    p = _frame_packet(frame, linktype)
    if p is None or p.protocol != UDP or p.l4_offset is None or p.dst_port is None:
        return
    if port is not None and p.dst_port != port:
        return
    if p.l4_offset + 8 > len(frame):
        return
    ulen = struct.unpack_from("!H", frame, p.l4_offset + 4)[0]
    yield ts, p.src or "", frame[p.l4_offset + 8:p.l4_offset + max(8, ulen)]


def udp_datagrams(path: Path | str, port: int | None = 6343, c=None) -> Iterator[tuple[float, str, bytes]]:
    """(timestamp, source address, payload) of each UDP datagram to `port` (any port when None); `c`: the
    optional C module (cext.fastscan()) reads classic pcap files of Ethernet frames."""
    path = Path(path)
    if c is not None and port is not None:
        kind = _classic_ethernet(path)
        if kind is not None:
            yield from _fast_udp(path, port, c, *kind)
            return
    common = _ETH_IP4_UDP.unpack_from
    common_size = _ETH_IP4_UDP.size
    for ts, linktype, frame in _frames(path):
        if linktype == LINKTYPE_ETHERNET and len(frame) >= common_size:
            ethertype, vihl, _tos, _total, _id, frag, _ttl, proto, _sum, src, _dst, _sport, dport, ulen = common(frame, 0)
            if ethertype == ETH_IPV4 and vihl == 0x45 and not frag & 0x1FFF:
                if proto != UDP or (port is not None and dport != port):
                    continue
                # the UDP length excludes Ethernet padding of short frames
                yield ts, inet_ntop(AF_INET, src), frame[42:34 + max(8, ulen)]
                continue
        yield from _general(ts, linktype, frame, port)
