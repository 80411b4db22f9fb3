"""Decoding of sampled packet headers: Ethernet / 802.1Q (stacked) / IPv4 / IPv6 / TCP / UDP / ICMP.

Sampled headers are cut (typically at 128 bytes), so decoding is best effort: fields that are beyond the
cut stay None, and nothing here ever raises on bad input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from socket import AF_INET, AF_INET6, inet_ntop

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ, ETH_VLAN_OLD = 0x0800, 0x86DD, 0x8100, 0x88A8, 0x9100
TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
PROTOCOLS = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmpv6": ICMPV6, "ipv6-icmp": ICMPV6}
_IPV6_EXTENSIONS = {0, 43, 60, 51, 44}

_U16 = struct.Struct("!H")
_PORTS = struct.Struct("!HH")
# ver/ihl, tos, total length, id, flags/frag, ttl, protocol, checksum, source, destination
_IPV4_ADDRS = struct.Struct("!BBHHHBBH4s4s")
# ver/tc/flow, payload length, next header, hop limit, source, destination
_IPV6_ADDRS = struct.Struct("!IHBB16s16s")


@dataclass(slots=True)
class Packet:
    ethertype: int = 0
    vlan: int | None = None
    ip_version: int = 0
    src: str | None = None
    dst: str | None = None
    protocol: int | None = None
    ip_length: int | None = None
    src_port: int | None = None
    dst_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    tcp_flags: int | None = None
    l4_offset: int | None = None       # where the transport header starts in the buffer

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("vlan", "ip_version", "src", "dst", "protocol", "src_port", "dst_port",
                                                 "icmp_type", "icmp_code", "tcp_flags") if getattr(self, k) is not None}


def decode_ethernet(buf: bytes | memoryview, offset: int = 0) -> Packet:
    """Decodes an Ethernet frame starting at `offset`."""
    p = Packet()
    end = len(buf)
    off = offset + 12
    if off + 2 > end:
        return p
    ethertype = _U16.unpack_from(buf, off)[0]
    off += 2
    hops = 0
    while ethertype in (ETH_VLAN, ETH_QINQ, ETH_VLAN_OLD) and hops < 4:
        if off + 4 > end:
            p.ethertype = ethertype
            return p
        tci, ethertype = _PORTS.unpack_from(buf, off)
        if p.vlan is None:
            p.vlan = tci & 0x0FFF
        off += 4
        hops += 1
    p.ethertype = ethertype
    _decode_ip(buf, off, ethertype, p)
    return p


def decode_ip(buf: bytes | memoryview, offset: int = 0) -> Packet:
    """Decodes a bare IPv4/IPv6 packet (no link layer)."""
    p = Packet()
    if offset < len(buf):
        version = buf[offset] >> 4
        p.ethertype = ETH_IPV4 if version == 4 else ETH_IPV6 if version == 6 else 0
        _decode_ip(buf, offset, p.ethertype, p)
    return p


def decode_l3(buf: bytes | memoryview, offset: int, ethertype: int) -> Packet:
    """Decodes a network-layer packet of the given ethertype starting at `offset`."""
    p = Packet(ethertype=ethertype)
    _decode_ip(buf, offset, ethertype, p)
    return p


def _decode_ip(buf, off: int, ethertype: int, p: Packet) -> None:
    end = len(buf)
    if ethertype == ETH_IPV4:
        if off + 20 > end:
            return
        # one unpack for the header and both addresses: this is the collector's hot path
        vihl, _tos, total, _id, frag, _ttl, proto, _sum, src, dst = _IPV4_ADDRS.unpack_from(buf, off)
        if vihl >> 4 != 4:
            return
        p.ip_version = 4
        p.src = inet_ntop(AF_INET, src)
        p.dst = inet_ntop(AF_INET, dst)
        p.protocol = proto
        p.ip_length = total
        if frag & 0x1FFF:  # a non-first fragment carries no transport header
            return
        off += (vihl & 0x0F) * 4
    elif ethertype == ETH_IPV6:
        if off + 40 > end:
            return
        vtf, plen, nh, _hl, src, dst = _IPV6_ADDRS.unpack_from(buf, off)
        if vtf >> 28 != 6:
            return
        p.ip_version = 6
        p.src = inet_ntop(AF_INET6, src)
        p.dst = inet_ntop(AF_INET6, dst)
        p.ip_length = plen + 40
        off += 40
        for _ in range(8):  # bounded walk over extension headers
            if nh not in _IPV6_EXTENSIONS:
                break
            if off + 8 > end:
                p.protocol = nh
                return
            next_nh, hlen = buf[off], buf[off + 1]
            if nh == 44:
                if _U16.unpack_from(buf, off + 2)[0] & 0xFFF8:
                    p.protocol = next_nh
                    return
                off += 8
            elif nh == 51:
                off += (hlen + 2) * 4
            else:
                off += (hlen + 1) * 8
            nh = next_nh
        p.protocol = nh
    else:
        return
    _decode_l4(buf, off, p)


def _decode_l4(buf, off: int, p: Packet) -> None:
    proto = p.protocol
    end = len(buf)
    p.l4_offset = off
    if proto == TCP or proto == UDP:
        if off + 4 <= end:
            p.src_port, p.dst_port = _PORTS.unpack_from(buf, off)
        if proto == TCP and off + 14 <= end:
            p.tcp_flags = buf[off + 13]
    elif proto == ICMP or proto == ICMPV6:
        if off + 2 <= end:
            p.icmp_type, p.icmp_code = buf[off], buf[off + 1]
