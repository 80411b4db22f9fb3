"""Ports and protocols as IOS-style ACLs spell them: named ports, protocol keywords, port operands."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence


from ..model.base import AFI
from ..model.firewall import PORTED, PortRange, ServiceSpec
from .ios_values import Unsupported


_COMMON_PORTS = {"discard": 9, "echo": 7, "domain": 53, "sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517,
                 "time": 37, "pim-auto-rp": 496}
TCP_PORTS = {**_COMMON_PORTS, "bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "exec": 512, "finger": 79,
             "ftp": 21, "ftp-data": 20, "gopher": 70, "hostname": 101, "ident": 113, "irc": 194, "klogin": 543,
             "kshell": 544, "login": 513, "lpd": 515, "nntp": 119, "pop2": 109, "pop3": 110, "smtp": 25,
             "telnet": 23, "uucp": 540, "whois": 43, "www": 80, "http": 80, "https": 443, "ssh": 22, "ldap": 389,
             "ldaps": 636, "msrpc": 135, "netbios-ssn": 139}
UDP_PORTS = {**_COMMON_PORTS, "biff": 512, "bootpc": 68, "bootps": 67, "dnsix": 195, "isakmp": 500, "mobile-ip": 434,
             "nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137, "netbios-ss": 139, "non500-isakmp": 4500,
             "ntp": 123, "rip": 520, "snmp": 161, "snmptrap": 162, "snmp-trap": 162, "tftp": 69, "who": 513,
             "xdmcp": 177, "radius": 1812, "radius-acct": 1813}
PORT_NAMES = {"tcp": TCP_PORTS, "udp": UDP_PORTS, "sctp": TCP_PORTS}

# IOS protocol keywords the model names differently or only knows by number.
_PROTOCOL_ALIASES = {"ahp": "ah", "igmp": "2", "ipinip": "4", "eigrp": "88", "nos": "94", "pim": "103", "pcp": "108",
                     "vrrp": "112", "l2tp": "115"}
_ANY_PROTOCOL = {"ip", "ipv6", "any", "ipv4"}
_KNOWN_PROTOCOLS = {"icmp", "tcp", "udp", "gre", "esp", "ah", "icmpv6", "ospf", "sctp"}


def protocol(token: str, family: AFI) -> str | None:
    """Model protocol name, "" for any-protocol, None if unknown."""
    low = token.lower()
    if low in _ANY_PROTOCOL:
        return ""
    if low == "icmp" and family == "ipv6":  # IOS/EOS/NX-OS `icmp` in an IPv6 ACL means ICMPv6
        return "icmpv6"
    low = _PROTOCOL_ALIASES.get(low, low)
    if low in _KNOWN_PROTOCOLS:
        return low
    if low.isdigit() and int(low) <= 255:
        return {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "51": "ah", "58": "icmpv6",
                "89": "ospf", "132": "sctp"}.get(low, low)
    return None


Ports = tuple[tuple[int, int], ...]  # (lo, hi) pairs: cheap to hash, unlike PortRange models


@lru_cache(maxsize=8192)
def service_spec(proto: str, sports: Ports, dports: Ports, icmp_type: int | None = None,
                 icmp_code: int | None = None) -> ServiceSpec:
    """Validated once per distinct spec; ACLs repeat the same few services many times."""
    return ServiceSpec(protocol=proto, source_ports=tuple(PortRange(lo=lo, hi=hi) for lo, hi in sports),
                       destination_ports=tuple(PortRange(lo=lo, hi=hi) for lo, hi in dports),
                       icmp_types=(icmp_type,) if icmp_type is not None else (), icmp_code=icmp_code)


def _port_number(token: str, proto: str) -> int | None:
    if token.isdigit():
        n = int(token)
        return n if n <= 65535 else None
    return PORT_NAMES.get(proto, {}).get(token.lower())


def parse_ports(tokens: Sequence[str], i: int, proto: str) -> tuple[Ports, int]:
    """Port operator at tokens[i] (eq/range/gt/lt/neq), if any -> (ranges, next index)."""
    if i >= len(tokens) or proto not in PORTED:
        return (), i
    op = tokens[i]
    if op == "eq":
        ports: list[tuple[int, int]] = []
        j = i + 1
        while j < len(tokens) and (n := _port_number(tokens[j], proto)) is not None:
            ports.append((n, n))
            j += 1
        if not ports:
            raise Unsupported(f"unknown port '{tokens[i + 1] if i + 1 < len(tokens) else ''}'")
        return tuple(ports), j
    if op == "range":
        lo = _port_number(tokens[i + 1], proto) if i + 2 < len(tokens) else None
        hi = _port_number(tokens[i + 2], proto) if i + 2 < len(tokens) else None
        if lo is None or hi is None or lo > hi:
            raise Unsupported("unreadable port range")
        return ((lo, hi),), i + 3
    if op in ("gt", "lt"):
        n = _port_number(tokens[i + 1], proto) if i + 1 < len(tokens) else None
        if n is None or (op == "gt" and n >= 65535) or (op == "lt" and n <= 0):
            raise Unsupported(f"unreadable port operand '{op}'")
        return (((n + 1, 65535),) if op == "gt" else ((0, n - 1),)), i + 2
    if op == "neq":
        raise Unsupported("'neq' ports are a negation the model cannot express")
    return (), i
