"""Reads UDP datagrams out of a capture file (pcap or pcapng) for offline collection."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator

from .errors import TelemetryError
from .packet import ETH_IPV4, ETH_IPV6, UDP, Packet, decode_ethernet, decode_ip, decode_l3

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_SLL2 = 0, 1, 101, 113, 228, 229, 276
_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
_PCAPNG_SHB = 0x0A0D0D0A


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


PCAP_MAX = 1024 * 1024 * 1024  # captures are read whole: cap what a mistake can cost


def _frames(path: Path) -> Iterator[tuple[float, int, bytes]]:
    from .. import safefiles

    data = safefiles.read_bytes(path, PCAP_MAX, within=None)  # no FIFO, device or runaway file
    magic = data[:4]
    if magic in _PCAP_MAGIC:
        endian, unit = _PCAP_MAGIC[magic]
        if len(data) < 24:
            raise TelemetryError(f"{path}: truncated pcap header")
        linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII")
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _orig = rec.unpack_from(data, off)
            off += 16
            yield sec + frac * unit, linktype, data[off:off + incl]
            off += incl
    elif len(data) >= 12 and struct.unpack_from("<I", data, 0)[0] == _PCAPNG_SHB:
        yield from _pcapng(data)
    else:
        raise TelemetryError(f"{path} is neither pcap nor pcapng")


def _pcapng(data: bytes) -> Iterator[tuple[float, int, bytes]]:
    off, endian, linktypes = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, off)[0]
        if btype == _PCAPNG_SHB:
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
        blen = struct.unpack_from(endian + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            break
        if btype == 1:  # interface description
            linktypes.append(struct.unpack_from(endian + "H", data, off + 8)[0])
        elif btype == 6 and blen >= 32:  # enhanced packet (timestamps assumed in microseconds, the default)
            ifid, hi, lo, caplen = struct.unpack_from(endian + "IIII", data, off + 8)
            lt = linktypes[ifid] if ifid < len(linktypes) else LINKTYPE_ETHERNET
            yield ((hi << 32) | lo) * 1e-6, lt, data[off + 28:off + 28 + caplen]
        elif btype == 3 and linktypes:  # simple packet
            orig = struct.unpack_from(endian + "I", data, off + 8)[0]
            yield 0.0, linktypes[0], data[off + 12:off + 12 + min(orig, blen - 16)]
        off += blen


def udp_datagrams(path: Path | str, port: int | None = 6343) -> Iterator[tuple[float, str, bytes]]:
    """(timestamp, source address, payload) of each UDP datagram to `port` (any port when None)."""
    for ts, linktype, frame in _frames(Path(path)):
        p = _frame_packet(frame, linktype)
        if p is None or p.protocol != UDP or p.l4_offset is None or p.dst_port is None:
            continue
        if port is not None and p.dst_port != port:
            continue
        if p.l4_offset + 8 > len(frame):
            continue
        ulen = struct.unpack_from("!H", frame, p.l4_offset + 4)[0]  # excludes Ethernet padding of short frames
        yield ts, p.src or "", frame[p.l4_offset + 8:p.l4_offset + max(8, ulen)]
