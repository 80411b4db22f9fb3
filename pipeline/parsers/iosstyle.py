"""Shared machinery for IOS-style running configs (IOS, EOS, AOS-CX, FRR, NX-OS): text -> DevicePolicy.

Two stages, so the cheap part can be swapped:

1. *Sectioning* (ios_sections.py) turns the text into `Node` trees, one per top-level policy section
   (prefix-list, community-list, as-path, route-map, access-list, router bgp, interface); everything else
   is skipped. `engine="fast"` is a single-pass line scanner; `engine="ciscoconfparse2"` builds the same
   trees from ciscoconfparse2's parse and exists to cross-check the scanner (12-14x slower).
2. *Interpretation* walks the trees with one `Dialect` (per-platform keywords and quirks as data) and
   builds canonical model objects: what the device would print collapsed is expanded (implicit
   sequence numbers, wildcard masks, named ports, ge/le bounds), so plan never diffs text.

Nothing raises on device input: whatever cannot be modelled (names that are not Identifiers, syntax the
model has no field for) becomes one `DevicePolicy.skipped` note "<kind> <name>: <reason>: '<line>'", a
`Skipped` that names the object it sits in (the planner refuses to rewrite such an object) and the line.
"""

from __future__ import annotations

import gc
import ipaddress
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterator, Literal, Sequence, cast

from pydantic import TypeAdapter, ValidationError

from ..inventory import Attachment
from ..model.base import AFI
from ..model.firewall import PORTED, PortRange, ServiceSpec
from ..model.matches import ByteRange, TcpFlags
from .acl_words import FLAG_WORDS, ICMP_WORDS, dscp_value
from .canonical import canonical_bounds
from .focus import Focus
from .ios_sections import SECTIONERS, Node, nest, sections_focused, wanted_header
from ..model.policy import ConcreteFilter, DevicePolicy, Kind, Rule, Skipped, Use
from ..model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, NeighborBinding,
                             PrefixList, PrefixListEntry, RouteMap, RouteMapEntry, SetClause)
from ..names import FreeText, Identifier, Regex

Engine = Literal["fast", "ciscoconfparse2"]


# --------------------------------------------------------------------------------------------------
# Dialect: everything that differs between platforms, as data.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    name: str
    ccp_syntax: str = "ios"  # ciscoconfparse2 syntax for the cross-check engine
    # ACL block headers: regex with groups (name) -> family; `standard` marks source-only ACEs.
    acl_headers: tuple[tuple[re.Pattern, AFI, bool], ...] = ()
    numbered_acls: bool = False  # IOS `access-list 101 permit ...`
    acl_remark_words: tuple[str, ...] = ("remark",)
    acl_counter_lines: tuple[str, ...] = ()  # ACL-level lines that turn on per-entry counters
    acl_entry_counter_words: tuple[str, ...] = ()  # ACE options that count (AOS-CX `count`)
    wildcard_masks: bool = True  # "A W" operands; AOS-CX has none, a bare address there is a host
    route_filter_access_lists: bool = False  # FRR `access-list` is a zebra route filter, not a packet filter
    community_list_cmds: tuple[str, ...] = ("ip community-list",)
    large_community_list_cmds: tuple[str, ...] = ()
    as_path_cmds: tuple[str, ...] = ("ip as-path access-list",)
    as_path_origin_suffix: bool = False  # EOS `... permit REGEX any|igp|egp|incomplete`
    implicit_list_seq: bool = False  # device numbers community/as-path entries itself (FRR, NX-OS)
    route_map_seq_word: bool = False  # AOS-CX `route-map X permit seq 10`
    continue_forms: tuple[str, ...] = ("continue",)  # FRR adds "on-match goto"
    # BGP: address family of top-level `neighbor X route-map`: a fixed AFI, or None = the neighbor's family.
    bgp_toplevel_afi: AFI | None = "ipv4"
    nxos_neighbor_blocks: bool = False
    # Interface attachments: regex with groups (name, dir).
    attach_patterns: tuple[re.Pattern, ...] = (
        re.compile(r"^ip access-group (?P<name>\S+) (?P<dir>in|out)$"),
        re.compile(r"^ipv6 traffic-filter (?P<name>\S+) (?P<dir>in|out)$"),
    )
    interface_name_joins_number: bool = False  # AOS-CX `interface vlan 2` -> vlan2
    # How a banner's free text ends (ios_sections.config_lines): "delimiter" (IOS `banner motd ^C`...`^C`),
    # "eof" (EOS: bare `banner motd`, text, a line `EOF`), "line" (FRR `banner motd line TEXT`).
    banner: Literal["delimiter", "eof", "line"] = "delimiter"

    def section_prefixes(self) -> tuple[str, ...]:
        base = ("ip prefix-list ", "ipv6 prefix-list ", "route-map ", "router bgp ", "interface ", "ip access-list ",
                "ipv6 access-list ", "access-list ", "ip extcommunity-list ", "apply access-list ")
        words = self.community_list_cmds + self.large_community_list_cmds + self.as_path_cmds
        return base + tuple(w + " " for w in words)


# --------------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------------

_IDENTIFIER = TypeAdapter(Identifier)
_FREE_TEXT = TypeAdapter(FreeText)
_REGEX = TypeAdapter(Regex)


def name_problem(name: str) -> str | None:
    """Why *name* cannot be managed (not an Identifier), or None."""
    try:
        _IDENTIFIER.validate_python(name)
    except ValidationError as e:
        return _first_error(e)
    return None


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = err.get("msg", str(e)).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def free_text(text: str) -> tuple[str | None, str | None]:
    """(valid text, None) or (None, problem)."""
    try:
        return _FREE_TEXT.validate_python(text), None
    except ValidationError as e:
        return None, _first_error(e)


def unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def asn(token: str) -> int:
    """ASPLAIN or ASDOT (1.4 = 65540)."""
    if "." in token:
        hi, lo = token.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return int(token)


@lru_cache(maxsize=65536)
def _address(token: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(token)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _wildcard_network(addr: str, wildcard: str) -> ipaddress.IPv4Network | None:
    """IOS `A W` -> prefix; None when W is not contiguous (cannot be a prefix)."""
    w = int(ipaddress.IPv4Address(wildcard))
    if (w + 1) & w:
        return None
    length = 32 - w.bit_length()
    return ipaddress.IPv4Network((int(ipaddress.IPv4Address(addr)) & ~w & 0xFFFFFFFF, length))


@lru_cache(maxsize=65536)
def _slash_network(token: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A/len or (AOS-CX) A/255.255.0.0; an ACL masks host bits, so they are dropped, not refused."""
    try:
        return ipaddress.ip_network(token, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _host_network(addr: ipaddress.IPv4Address | ipaddress.IPv6Address):
    return ipaddress.ip_network(addr)


_WELL_KNOWN_COMMUNITIES = {
    "no-export": "no-export", "no-advertise": "no-advertise", "local-as": "local-as", "internet": "internet",
    "graceful-shutdown": "graceful-shutdown", "gshut": "graceful-shutdown", "blackhole": "blackhole",
    "no-peer": "no-peer", "accept-own": "accept-own",
}


def community(token: str) -> str:
    """Canonical standard community: well-known names lower-cased, 32-bit integers as ASN:VALUE."""
    low = token.lower()
    if low in _WELL_KNOWN_COMMUNITIES:
        return _WELL_KNOWN_COMMUNITIES[low]
    if token.isdigit() and int(token) <= 0xFFFFFFFF:
        v = int(token)
        return f"{v >> 16}:{v & 0xFFFF}"
    return token


# --------------------------------------------------------------------------------------------------
# Ports and protocols
# --------------------------------------------------------------------------------------------------

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


class Unsupported(Exception):
    """A construct the model cannot express; the message is the reason recorded in `skipped`."""


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


# --------------------------------------------------------------------------------------------------
# Stage 2: interpretation
# --------------------------------------------------------------------------------------------------

# The model kind each note label stands for: a note under one of these labels sits inside that object.
_LABEL_KIND: dict[str, Kind] = {"prefix-list": "prefix_list", "community-list": "community_list",
                               "large-community-list": "community_list", "as-path-list": "as_path_list",
                               "route-map": "route_map", "filter": "filter"}


class _Notes:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, kind: str, name: str, reason: str, line: str | None = None, owner: str | None = None,
            harmless: bool = False) -> None:
        """`owner`: the object's name when `name` says more (`RM seq 10`); `harmless`: a rewrite of the
        object loses nothing (the device itself keeps only what the model read)."""
        text = f"{kind} {name}: {reason}" + (f": '{line}'" if line is not None else "")
        model_kind = None if harmless else _LABEL_KIND.get(kind)
        self.items.append(Skipped(text, model_kind, (owner or name) if model_kind else None, line))


# ---- prefix-lists -----------------------------------------------------------------------------------

_MAX_LEN = {"ipv4": 32, "ipv6": 128}


@dataclass
class _PrefixListDraft:
    afi: AFI
    description: str | None = None
    entries: dict[int, PrefixListEntry] = field(default_factory=dict)


class _Builder:
    """Accumulates one device's objects from its section trees, then emits a DevicePolicy."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.notes = _Notes()
        self.policy = DevicePolicy()
        self.bad_names: set[tuple[str, str]] = set()
        self.prefix_lists: dict[str, _PrefixListDraft] = {}
        self.community_lists: dict[str, dict] = {}
        self.as_paths: dict[str, list[AsPathEntry]] = {}
        self.route_maps: dict[str, dict[int, dict]] = {}
        self.route_map_descriptions: dict[str, str] = {}
        self.acls: dict[str, dict] = {}
        self.attachments: list[tuple[str, str, str, str]] = []  # (acl, interface, direction, line)
        self.bgp = _BgpState()
        self._as_path_prefixes = tuple(c + " " for c in dialect.as_path_cmds)
        self._large_prefixes = tuple(c + " " for c in dialect.large_community_list_cmds)
        self._community_prefixes = tuple(c + " " for c in dialect.community_list_cmds)

    # -- names --

    def _name_ok(self, kind: str, name: str, line: str) -> bool:
        """Report a name that is not an Identifier once per object, with the first line that used it."""
        problem = name_problem(name)
        if problem is None:
            return True
        if (kind, name) not in self.bad_names:
            self.bad_names.add((kind, name))
            self.notes.add(kind, repr(name), f"name cannot be managed ({problem})", line, harmless=True)
        return False

    # -- dispatch --

    def section(self, node: Node) -> None:
        t = node.text
        d = self.d
        if t.startswith(("ip prefix-list ", "ipv6 prefix-list ")):
            self.prefix_list(node)
        elif t.startswith("route-map "):
            self.route_map(node)
        elif t.startswith("router bgp "):
            self.bgp.router(node, d, self.notes)
        elif t.startswith("interface "):
            self.interface(node)
        elif t.startswith(self._as_path_prefixes):
            self.as_path(node)
        elif self._large_prefixes and t.startswith(self._large_prefixes):
            self.community_list(node, large=True)
        elif t.startswith(self._community_prefixes):
            self.community_list(node, large=False)
        elif t.startswith("ip extcommunity-list "):
            self.notes.add("extcommunity-list", t.split()[2] if len(t.split()) > 2 else "?",
                           "extended community lists are not modelled", t)
        elif t.startswith("apply access-list "):
            self.notes.add("filter", t.split()[3] if len(t.split()) > 3 else "?",
                           "global (non-interface) ACL application is not modelled", t)
        else:
            self.acl_section(node)

    # -- prefix-lists --

    def prefix_list(self, node: Node) -> None:
        tokens = node.text.split()
        afi: AFI = "ipv4" if tokens[0] == "ip" else "ipv6"
        if len(tokens) < 3:
            self.notes.add("prefix-list", "?", "line ends too early", node.text)
            return
        name = tokens[2]
        if not self._name_ok("prefix-list", name, node.text):
            return
        draft = self.prefix_lists.setdefault(name, _PrefixListDraft(afi))
        if len(tokens) == 3:  # EOS block form: entries are children
            for child in node.children:
                self._prefix_entry(name, draft, child.text.split(), child.text)
            return
        for child in node.children:
            self.notes.add("prefix-list", name, "unexpected indented line", child.text)
        self._prefix_entry(name, draft, tokens[3:], node.text)

    def _prefix_entry(self, name: str, draft: _PrefixListDraft, rest: list[str], line: str) -> None:
        if rest and rest[0] == "description":
            text, problem = free_text(line.split(" description ", 1)[1])
            if problem:
                self.notes.add("prefix-list", name, f"description dropped ({problem})", line)
            draft.description = text
            return
        try:
            seq, i = None, 0
            if rest and rest[0] == "seq":
                seq, i = int(rest[1]), 2
            action, prefix = rest[i], rest[i + 1]
            if action not in ("permit", "deny"):
                raise Unsupported(f"unknown action '{action}'")
            bounds: dict[str, int] = {}
            j = i + 2
            while j < len(rest):
                if rest[j] not in ("ge", "le", "eq") or j + 1 >= len(rest) or not rest[j + 1].isdigit():
                    raise Unsupported(f"unsupported option '{rest[j]}'")
                bounds[rest[j]] = int(rest[j + 1])
                j += 2
            if prefix == "any":  # FRR: any = every prefix of the family
                prefix = "0.0.0.0/0" if draft.afi == "ipv4" else "::/0"
                bounds.setdefault("le", _MAX_LEN[draft.afi])
            net = ipaddress.ip_network(prefix)  # strict: a prefix-list entry with host bits is a typo
            if ("ipv4" if net.version == 4 else "ipv6") != draft.afi:
                raise Unsupported(f"{prefix} does not belong in an {draft.afi} prefix-list")
            ge, le = canonical_bounds(net.prefixlen, draft.afi, bounds.get("ge"), bounds.get("le"), bounds.get("eq"))
            if seq is None:  # devices number unnumbered entries 5, 10, 15 ... after the highest so far
                seq = max(draft.entries, default=0) + 5
            if seq in draft.entries:
                self.notes.add("prefix-list", name, f"seq {seq} appears twice; the later line wins", line, harmless=True)
            draft.entries[seq] = PrefixListEntry(seq=seq, action=action, prefix=net, ge=ge, le=le)
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add("prefix-list", name, f"entry skipped ({_reason(e)})", line)

    # -- community-lists --

    def community_list(self, node: Node, large: bool) -> None:
        cmds = self.d.large_community_list_cmds if large else self.d.community_list_cmds
        cmd = next(c for c in cmds if node.text.startswith(c + " "))
        rest = node.text[len(cmd):].split()
        kind_word = rest[0] if rest and rest[0] in ("standard", "expanded", "regexp") else None
        if kind_word:
            rest = rest[1:]
        if not rest:
            self.notes.add("community-list", "?", "line ends too early", node.text)
            return
        name = rest[0]
        rest = rest[1:]
        if kind_word is None and name.isdigit():  # numbered: 1-99 standard, 100-500 expanded
            kind_word = "expanded" if int(name) >= 100 else "standard"
        expanded = kind_word in ("expanded", "regexp")
        kind = ("large-expanded" if expanded else "large") if large else ("expanded" if expanded else "standard")
        label = "large-community-list" if large else "community-list"
        if not self._name_ok(label, name, node.text):
            return
        for child in node.children:
            self.notes.add(label, name, "unexpected indented line", child.text)
        draft = self.community_lists.setdefault(name, {"kind": kind, "entries": [], "description": None})
        if draft["kind"] != kind:
            self.notes.add(label, name, f"mixes {draft['kind']} and {kind} entries under one name; line skipped",
                           node.text)
            return
        if rest and rest[0] == "description":
            draft["description"], problem = free_text(" ".join(rest[1:]))
            if problem:
                self.notes.add(label, name, f"description dropped ({problem})", node.text)
            return
        try:
            seq, action, values = _seq_and_action(rest)
            if not values:
                raise Unsupported("no communities")
            seq = self._implicit_seq(seq, [e.seq for e in draft["entries"]])
            if expanded:
                entry = CommunityListEntry(seq=seq, action=action, regex=unquote(" ".join(values)))
            else:
                values = [unquote(v) for v in values]
                entry = CommunityListEntry(seq=seq, action=action,
                                           communities=tuple(values if large else (community(v) for v in values)))
            CommunityList(name=name, kind=kind, entries=(entry,))  # validate the values against the kind now
            draft["entries"].append(entry)
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add(label, name, f"entry skipped ({_reason(e)})", node.text)

    def _implicit_seq(self, seq: int | None, existing: list[int | None]) -> int | None:
        if seq is not None or not self.d.implicit_list_seq:
            return seq
        return max((s for s in existing if s is not None), default=0) + 5

    # -- as-path lists --

    def as_path(self, node: Node) -> None:
        cmd = next(c for c in self.d.as_path_cmds if node.text.startswith(c + " "))
        rest = node.text[len(cmd):].split()
        if not rest:
            self.notes.add("as-path-list", "?", "line ends too early", node.text)
            return
        name, rest = rest[0], rest[1:]
        if not self._name_ok("as-path-list", name, node.text):
            return
        entries = self.as_paths.setdefault(name, [])
        try:
            seq, action, words = _seq_and_action(rest)
            if self.d.as_path_origin_suffix and len(words) > 1 and words[-1] in ("any", "igp", "egp", "incomplete"):
                if words[-1] != "any":
                    raise Unsupported(f"origin '{words[-1]}' match is not modelled")
                words = words[:-1]
            if not words:
                raise Unsupported("no regular expression")
            seq = self._implicit_seq(seq, [e.seq for e in entries])
            entries.append(AsPathEntry(seq=seq, action=action, regex=unquote(" ".join(words))))
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add("as-path-list", name, f"entry skipped ({_reason(e)})", node.text)

    # -- route-maps --

    def route_map(self, node: Node) -> None:
        tokens = node.text.split()
        name = tokens[1] if len(tokens) > 1 else ""
        if not self._name_ok("route-map", name, node.text):
            return
        rest = tokens[2:]
        action = "permit"
        if rest and rest[0] in ("permit", "deny"):
            action, rest = rest[0], rest[1:]
        if self.d.route_map_seq_word and rest and rest[0] == "seq":
            rest = rest[1:]
        if len(rest) > 1 or (rest and not rest[0].isdigit()):
            self.notes.add("route-map", name, "unsupported route-map header", node.text)
            return
        seq = int(rest[0]) if rest else 10  # IOS: `route-map X` alone is `permit 10`
        entries = self.route_maps.setdefault(name, {})
        entry = entries.get(seq)
        if entry is None:
            entry = entries[seq] = {"action": action, "description": None, "match": {}, "set": {}, "continue": None}
        elif entry["action"] != action:
            self.notes.add("route-map", name, f"seq {seq} re-entered with another action; the later wins", node.text,
                           harmless=True)
            entry["action"] = action
        where = f"{name} seq {seq}"
        for child in node.children:
            try:
                self._route_map_clause(entry, child.text)
            except (Unsupported, ValueError, IndexError, ValidationError) as e:
                self.notes.add("route-map", where, _reason(e), child.text, owner=name)

    def _route_map_clause(self, entry: dict, line: str) -> None:
        t = line.split()
        head = t[0]
        if head == "description":
            text, problem = free_text(line.split(None, 1)[1] if len(t) > 1 else "")
            if problem:
                raise Unsupported(f"description dropped ({problem})")
            entry["description"] = text
        elif head == "match":
            field_, value = _match_clause(t)
            _put(entry["match"], field_, value)
        elif head == "set":
            for field_, setting in _set_clause(t):
                _put(entry["set"], field_, setting)
        elif any(line == c or line.startswith(c + " ") for c in self.d.continue_forms):
            form = next(c for c in self.d.continue_forms if line == c or line.startswith(c + " "))
            target = line[len(form):].split()
            if len(target) != 1 or not target[0].isdigit():
                raise Unsupported("continue without a target sequence number is not modelled")
            _put(entry, "continue", int(target[0]))
        else:
            raise Unsupported("clause not modelled")

    # -- ACLs --

    def acl_section(self, node: Node) -> None:
        t = node.text
        for pattern, family, standard in self.d.acl_headers:
            m = pattern.match(t)
            if m:
                self._acl_block(m.group("name"), family, standard, node)
                return
        if t.startswith("access-list "):
            self._numbered_acl_line(node)
        elif t.startswith(("ip access-list ", "ipv6 access-list ")):
            self.notes.add("filter", t.split()[-1], "ACL type not modelled", t)

    def _acl(self, name: str) -> dict:
        return self.acls.setdefault(name, {"rules": [], "counter": False, "remark": None, "line": 0,
                                           "description": None})

    def _acl_block(self, name: str, family: AFI, standard: bool, node: Node) -> None:
        if not self._name_ok("filter", name, node.text):
            return
        acl = self._acl(name)
        acl["remark"] = None  # a remark never carries over between ACL blocks
        for child in node.children:
            self._acl_line(name, acl, family, standard, child.text)
        self._close_remarks(name, acl)

    def _numbered_acl_line(self, node: Node) -> None:
        t = node.text.split()
        if self.d.route_filter_access_lists:
            self.notes.add("access-list", t[1] if len(t) > 1 else "?",
                           "route-filter access-lists (zebra) are not modelled", node.text)
            return
        if not self.d.numbered_acls or len(t) < 3 or not t[1].isdigit():
            self.notes.add("filter", t[1] if len(t) > 1 else "?", "access-list form not modelled", node.text)
            return
        number = int(t[1])
        standard = 1 <= number <= 99 or 1300 <= number <= 1999
        if not (standard or 100 <= number <= 199 or 2000 <= number <= 2699):
            self.notes.add("filter", t[1], "numbered access-list type not modelled", node.text)
            return
        self._acl_line(t[1], self._acl(t[1]), "ipv4", standard, " ".join(t[2:]))

    def _acl_line(self, name: str, acl: dict, family: AFI, standard: bool, line: str) -> None:
        tokens = line.split()
        seq = None
        if tokens and tokens[0].isdigit():
            seq, tokens = int(tokens[0]), tokens[1:]
        if not tokens:
            return
        head = tokens[0]
        if head in self.d.acl_remark_words:
            self._remark(name, acl, line.split(None, 2 if seq is not None else 1)[-1] if len(tokens) > 1 else "")
            return
        if line in self.d.acl_counter_lines:
            acl["counter"] = True
            return
        acl["line"] += 1
        label = f"seq{seq}" if seq is not None else f"line{acl['line']}"
        remark = acl["remark"]
        fields = (parse_ace(tuple(tokens), family, standard, self.d.wildcard_masks, self.d.acl_entry_counter_words)
                  if head in ("permit", "deny") else "ACL line not modelled")
        if isinstance(fields, str):
            self.notes.add("filter", name, f"{label} skipped ({fields})", line)
        else:
            sources, destinations, specs, action, log, counter, extra = fields
            acl["rules"].append({
                "name": remark["name"] if remark and remark["name"] else label, "family": family,
                "sources": sources, "destinations": destinations, "specs": specs, "action": action, "log": log,
                "counter": counter, "description": " ".join(remark["lines"]) if remark and remark["lines"] else None,
                **dict(extra)})
        if remark:
            remark["used"] = True

    def _remark(self, name: str, acl: dict, text: str) -> None:
        """Remarks name and describe the entries that follow them.

        A one-word Identifier remark starts a term and names its rules (Aerleon/Capirca write one per
        term); other remarks describe the current term. Remarks before the first entry that no term
        uses describe the whole filter.
        """
        text = unquote(text.strip())
        remark = acl["remark"]
        if " " not in text and name_problem(text) is None:
            if remark is not None and not remark["used"]:
                self._orphan_remark(name, acl, remark)
            acl["remark"] = {"name": text, "lines": [], "used": False}
            return
        valid, problem = free_text(text)
        if problem:
            self.notes.add("filter", name, f"remark not kept ({problem})", text)
            return
        if remark is None or remark["used"]:
            remark = acl["remark"] = {"name": None, "lines": [], "used": False}
        remark["lines"].append(valid)

    def _close_remarks(self, name: str, acl: dict) -> None:
        if acl["remark"] is not None and not acl["remark"]["used"]:
            self._orphan_remark(name, acl, acl["remark"])
        acl["remark"] = None

    def _orphan_remark(self, name: str, acl: dict, remark: dict) -> None:
        if not remark["lines"]:
            return
        if not acl["rules"] and acl["description"] is None and remark["name"] is None:
            acl["description"] = " ".join(remark["lines"])
        else:
            self.notes.add("filter", name, "remark not attached to any entry", " ".join(remark["lines"]))

    # -- interfaces --

    def interface(self, node: Node) -> None:
        tokens = node.text.split()
        if len(tokens) < 2:
            return
        ifname = tokens[1]
        if self.d.interface_name_joins_number and len(tokens) > 2 and tokens[2][:1].isdigit():
            ifname += tokens[2]
        for child in node.children:
            for pattern in self.d.attach_patterns:
                m = pattern.match(child.text)
                if m:
                    self.attachments.append((m.group("name"), ifname, m.group("dir"), child.text))
                    break
            else:
                if "access-group" in child.text or "access-list" in child.text or "traffic-filter" in child.text:
                    self.notes.add("interface", ifname, "ACL application not modelled", child.text)

    def referenced_lists(self) -> frozenset[str]:
        """Names of the lists any route-map entry matches on or deletes with."""
        out: set[str] = set()
        for entries in self.route_maps.values():
            for e in entries.values():
                out.update(v for v in e["match"].values() if isinstance(v, str))
                cd = e["set"].get("community_delete")
                if isinstance(cd, str):
                    out.add(cd)
        return frozenset(out)

    # -- output --

    def finish(self) -> DevicePolicy:
        p = self.policy
        for name, draft in self.prefix_lists.items():
            self._emit(lambda: PrefixList(name=name, afi=draft.afi, description=draft.description,
                                          entries=tuple(draft.entries[s] for s in sorted(draft.entries))),
                       "prefix-list", name, p.prefix_lists)
        for name, cdraft in self.community_lists.items():
            self._emit(lambda: CommunityList(name=name, kind=cdraft["kind"], description=cdraft["description"],
                                             entries=_ordered(cdraft["entries"])),
                       "community-list", name, p.community_lists)
        for name, entries in self.as_paths.items():
            self._emit(lambda: AsPathList(name=name, entries=_ordered(entries)), "as-path-list", name, p.as_path_lists)
        for name, rm_entries in self.route_maps.items():
            self._emit(lambda: RouteMap(name=name, entries=tuple(_route_map_entry(s, rm_entries[s])
                                                                 for s in sorted(rm_entries))),
                       "route-map", name, p.route_maps)
        self._finish_filters()
        for binding in self.bgp.bindings(self.d, self.notes):
            p.bindings[binding.key] = binding
        p.peer_groups = self.bgp.peer_groups()
        p.uses = self.bgp.uses
        p.skipped = self.notes.items
        return p

    def _emit(self, make: Callable[[], object], kind: str, name: str, table: dict) -> None:
        try:
            table[name] = make()
        except (ValueError, ValidationError) as e:
            self.notes.add(kind, name, f"object skipped ({_reason(e)})")

    def _finish_filters(self) -> None:
        by_acl: dict[str, list[Attachment]] = {}
        for acl, ifname, direction, line in self.attachments:
            if acl not in self.acls:
                self.notes.add("interface", ifname, f"applies ACL '{acl}' that is not defined or not modelled", line)
                if name_problem(acl) is None:  # the ACL's binding is part of that filter if a change makes it
                    self.notes.items[-1] = Skipped(self.notes.items[-1], "filter", acl, line)
                continue
            try:
                att = Attachment(interface=ifname, direction=direction)
            except ValidationError as e:
                self.notes.add("interface", repr(ifname), f"attachment skipped ({_reason(e)})", line)
                continue
            if att not in by_acl.setdefault(acl, []):
                by_acl[acl].append(att)
        for name, draft in self.acls.items():
            self._close_remarks(name, draft)
            if draft["counter"]:  # `counters per-entry` / `statistics per-entry`: every entry counts
                for r in draft["rules"]:
                    r["counter"] = True
            rules = tuple(_trusted_rule(r) for r in draft["rules"])
            attachments = tuple(sorted(by_acl.get(name, ()), key=lambda a: (a.interface, a.direction)))
            self.policy.filters[name] = ConcreteFilter(name=name, description=draft["description"], rules=rules,
                                                       attachments=attachments)


_RULE_FIELDS = frozenset(Rule.model_fields)
# Matches an ACE may leave out (the values it gives are what _ace_fields built, ordered as Rule keeps them)
_RULE_DEFAULTS_ALL = {k: (None if f.is_required() else f.default) for k, f in Rule.model_fields.items()}  # field order


def _trusted_rule(values: dict) -> Rule:
    """A Rule from values this module built and checked itself (networks from ipaddress, ServiceSpecs
    validated once per distinct spec, literals from fixed tables).

    Rules are the bulk of ACL-heavy configs: validating each costs ~13 us, `model_construct` ~15 us;
    this is what `model_construct` does, minus its per-field bookkeeping. Every field is set, so the
    object equals a validated Rule (tests/parsers check that on the corpus).
    """
    rule = Rule.__new__(Rule)
    _set = object.__setattr__
    _set(rule, "__dict__", {k: values.get(k, v) for k, v in _RULE_DEFAULTS_ALL.items()})
    _set(rule, "__pydantic_fields_set__", set(_RULE_FIELDS))
    _set(rule, "__pydantic_extra__", None)
    _set(rule, "__pydantic_private__", None)
    return rule


def _seq_and_action(rest: list[str]) -> tuple[int | None, str, list[str]]:
    """`[seq N] permit|deny VALUES...` of a community or AS-path list line -> (seq, action, values)."""
    seq, i = None, 0
    if rest[0] == "seq":
        seq, i = int(rest[1]), 2
    action = rest[i]
    if action not in ("permit", "deny"):
        raise Unsupported(f"unknown action '{action}'")
    return seq, action, rest[i + 1:]


def _reason(e: Exception) -> str:
    if isinstance(e, ValidationError):
        return _first_error(e)
    if isinstance(e, IndexError):
        return "line ends too early"
    return str(e)


def _put(target: dict, key: str, value) -> None:
    """Set a clause once; a second, different value for the same field cannot be represented."""
    if key in target and target[key] is not None and target[key] != value:
        raise Unsupported(f"second value for '{key}' (model holds one)")
    target[key] = value


def _ordered(entries: list) -> tuple:
    """Entries by seq when every entry has one (the device's evaluation order), else as written."""
    if entries and all(e.seq is not None for e in entries):
        return tuple(sorted(entries, key=lambda e: e.seq))
    return tuple(entries)


def _route_map_entry(seq: int, e: dict) -> RouteMapEntry:
    return RouteMapEntry(seq=seq, action=e["action"], description=e["description"], match=Match(**e["match"]),
                         set=SetClause(**e["set"]), **{"continue": e["continue"]})


# ---- ACL entries -----------------------------------------------------------------------------------

# (sources, destinations, specs, action, log, counter, other Rule fields as (name, value) pairs) of one entry
AceFields = tuple[tuple, tuple, tuple, str, bool, bool, tuple]
_GROUP_WORDS = ("addrgroup", "object-group", "net-group", "addressgroup", "address-group", "portgroup")
_TTL_WORDS = ("ttl", "hop-limit")


@lru_cache(maxsize=65536)
def parse_ace(tokens: tuple[str, ...], family: AFI, standard: bool, wildcard_masks: bool,
              counter_words: tuple[str, ...]) -> AceFields | str:
    """`permit|deny ...` tokens (no sequence number) -> Rule fields, or the reason it cannot be modelled.

    Cached on the entry text: fleets repeat the same entries across ACLs and devices, and a cached
    entry costs a dict lookup instead of ~5 us of tokenising. Reasons are returned, not raised, so
    that they are cached too.
    """
    try:
        return _ace_fields(tokens, family, standard, wildcard_masks, counter_words)
    except (Unsupported, ValueError, IndexError) as e:
        return _reason(e)


def _ace_fields(tokens: tuple[str, ...], family: AFI, standard: bool, wildcard_masks: bool,
                counter_words: tuple[str, ...]) -> AceFields:
    action = "accept" if tokens[0] == "permit" else "deny"
    i = 1
    proto = ""
    if not standard:
        if tokens[1] in _GROUP_WORDS:
            raise Unsupported(f"{tokens[1]} references are not modelled")
        p = protocol(tokens[1], family)
        if p is None:
            raise Unsupported(f"protocol '{tokens[1]}' not modelled")
        proto, i = p, 2
    sources, i = _operand(tokens, i, family, wildcard_masks)
    sports, i = parse_ports(tokens, i, proto)
    destinations: tuple = ()
    dports: Ports = ()
    if not standard:
        destinations, i = _operand(tokens, i, family, wildcard_masks)
        dports, i = parse_ports(tokens, i, proto)
    icmp, i = _icmp_message(tokens, i, proto, family)
    log = counter = False
    extra: dict = {}
    flags: dict[str, bool] = {}
    rest = tokens[i:]
    j = 0
    while j < len(rest):
        option = rest[j]
        arg = rest[j + 1] if j + 1 < len(rest) else None
        if option in ("log", "log-input"):
            log = True
        elif option in counter_words:
            counter = True
        elif option == "established" and proto == "tcp":
            extra["states"] = ("established",)
        elif option in FLAG_WORDS and proto == "tcp":
            flags[option] = True
        elif option == "match-all" and proto == "tcp":
            while j + 1 < len(rest) and rest[j + 1][:1] in "+-" and rest[j + 1][1:] in FLAG_WORDS:
                j += 1
                flags[rest[j][1:]] = rest[j][0] == "+"
            if not flags:
                raise Unsupported("match-all without flags")
        elif option in ("fragments", "fragment"):
            extra["fragment"] = "non-first"
        elif option == "dscp" and arg is not None:
            value = dscp_value(arg)
            if value is None:
                raise Unsupported(f"dscp '{arg}' not modelled")
            extra["dscp"] = (value,)
            j += 1
        elif option in _TTL_WORDS and arg is not None:
            extra["hop_limit"], used = _ttl(rest[j + 1:])
            j += used
        else:
            raise Unsupported(f"option '{option}' not modelled")
        j += 1
    if flags:
        extra["tcp_flags"] = _tcp_flags(tuple(sorted(flags.items())))
    if icmp is not None and not proto:
        raise Unsupported("an ICMP message without protocol icmp")
    specs = (service_spec(proto, sports, dports, *(icmp or (None, None))),) if proto else ()
    return sources, destinations, specs, action, log, counter, tuple(sorted(extra.items()))


def _icmp_message(tokens: tuple[str, ...], i: int, proto: str, family: AFI) -> tuple[tuple[int, int | None] | None, int]:
    """An ICMP message after the destination: a name (IOS/EOS words), `TYPE [CODE]` numbers, or AOS-CX's
    `icmp-type T [icmp-code C]` -> ((type, code), next index)."""
    if proto not in ("icmp", "icmpv6") or i >= len(tokens):
        return None, i
    tok = tokens[i]
    if tok == "icmp-type" and i + 1 < len(tokens) and tokens[i + 1].isdigit():
        itype, i = int(tokens[i + 1]), i + 2
        icode = None
        if i + 1 < len(tokens) and tokens[i] == "icmp-code" and tokens[i + 1].isdigit():
            icode, i = int(tokens[i + 1]), i + 2
        return _icmp_checked(itype, icode), i
    if tok.isdigit():
        itype, i = int(tok), i + 1
        icode = None
        if i < len(tokens) and tokens[i].isdigit():
            icode, i = int(tokens[i]), i + 1
        return _icmp_checked(itype, icode), i
    word = ICMP_WORDS[family].get(tok.lower())
    if word is not None:
        return word, i + 1
    return None, i


def _icmp_checked(itype: int, icode: int | None) -> tuple[int, int | None]:
    if itype > 255 or (icode is not None and icode > 255):
        raise Unsupported("ICMP type or code above 255")
    return itype, icode


def _ttl(args: tuple[str, ...]) -> tuple[ByteRange, int]:
    """`eq N`, `gt N`, `lt N`, `range A B` or a bare `N` (AOS-CX) -> (range, tokens used)."""
    op = args[0]
    if op.isdigit():
        return ByteRange(lo=int(op), hi=int(op)), 1
    n = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
    if n is None or n > 255:
        raise Unsupported(f"ttl '{' '.join(args[:2])}' not modelled")
    if op == "eq":
        return ByteRange(lo=n, hi=n), 2
    if op == "gt" and n < 255:
        return ByteRange(lo=n + 1, hi=255), 2
    if op == "lt" and n > 0:
        return ByteRange(lo=0, hi=n - 1), 2
    if op == "range" and len(args) > 2 and args[2].isdigit() and n <= int(args[2]) <= 255:
        return ByteRange(lo=n, hi=int(args[2])), 3
    raise Unsupported(f"ttl '{' '.join(args[:3])}' not modelled")


@lru_cache(maxsize=256)
def _tcp_flags(flags: tuple[tuple[str, bool], ...]) -> TcpFlags:
    return TcpFlags(**dict(flags))


def _operand(tokens: tuple[str, ...], i: int, family: AFI, wildcard_masks: bool) -> tuple[tuple, int]:
    """One source/destination operand at tokens[i] -> (networks, next index); () means any."""
    tok = tokens[i]
    version = 4 if family == "ipv4" else 6
    if tok == "any":
        return (), i + 1
    if tok == "host":
        addr = _address(tokens[i + 1])
        if addr is None or addr.version != version:
            raise Unsupported(f"host '{tokens[i + 1]}' is not an {family} address")
        return (_host_network(addr),), i + 2
    if tok in _GROUP_WORDS:
        raise Unsupported(f"{tok} references are not modelled")
    if "/" in tok:
        net = _slash_network(tok)
        if net is None or net.version != version:
            raise Unsupported(f"'{tok}' is not an {family} prefix")
        return (net,), i + 1
    addr = _address(tok)
    if addr is None or addr.version != version:
        raise Unsupported(f"operand '{tok}' not modelled")
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if wildcard_masks and version == 4 and (w := _address(nxt)) is not None and w.version == 4:
        net = _wildcard_network(tok, nxt)
        if net is None:
            raise Unsupported(f"non-contiguous wildcard {tok} {nxt}")
        return (net,), i + 2
    return (_host_network(addr),), i + 1  # a bare address is a host (IOS standard ACLs, AOS-CX)


# ---- route-map clauses --------------------------------------------------------------------------

def _single(names: list[str], what: str) -> str:
    if len(names) != 1:
        raise Unsupported(f"{what} with {len(names)} names (model holds one)")
    return names[0]


def _match_clause(t: list[str]) -> tuple[str, str]:
    """`match ...` tokens -> (Match field, value)."""
    body = t[1:]
    if body[:3] in (["ip", "address", "prefix-list"], ["ipv6", "address", "prefix-list"]):
        return "prefix_list", _single(body[3:], "prefix-list match")
    if body[:3] in (["ip", "next-hop", "prefix-list"], ["ipv6", "next-hop", "prefix-list"]):
        return "next_hop_prefix_list", _single(body[3:], "next-hop prefix-list match")
    if body[:1] == ["community"]:
        if "exact-match" in body:
            raise Unsupported("exact-match community matching is not modelled")
        return "community_list", _single(body[1:], "community match")
    if body[:1] == ["large-community"]:
        if "exact-match" in body:
            raise Unsupported("exact-match community matching is not modelled")
        return "large_community_list", _single(body[1:], "large-community match")
    if body[:1] == ["as-path"] or body[:1] == ["aspath-list"]:  # AOS-CX: `match aspath-list X`
        return "as_path", _single(body[1:], "as-path match")
    if body[:1] == ["community-list"]:  # AOS-CX: `match community-list X`
        return "community_list", _single(body[1:], "community match")
    raise Unsupported("match condition not modelled")


def _set_clause(t: list[str]) -> list[tuple[str, object]]:
    """`set ...` tokens -> [(SetClause field, value)]."""
    body = t[1:]
    head = body[0]
    if head in ("local-preference", "weight", "metric") and len(body) == 2:
        if not body[1].isdigit():
            raise Unsupported(f"relative or non-numeric {head} is not modelled")
        return [({"local-preference": "local_preference", "metric": "med"}.get(head, head), int(body[1]))]
    if head == "community":
        return _set_community(body[1:])
    if head == "large-community":
        values = body[1:]
        if values[-1:] != ["additive"] or len(values) < 2:
            raise Unsupported("replacing or clearing large communities is not modelled (only additive)")
        return [("large_community_add", tuple(values[:-1]))]
    if head == "comm-list":  # IOS/NX-OS `set comm-list X delete`; FRR also `set comm-list delete X`
        rest = body[1:]
        if len(rest) == 2 and rest[1] == "delete":
            return [("community_delete", rest[0])]
        if len(rest) == 2 and rest[0] == "delete":
            return [("community_delete", rest[1])]
        raise Unsupported("comm-list operation not modelled (only delete)")
    if body[:2] == ["as-path", "prepend"]:
        values = body[2:]
        if not values or not all(re.fullmatch(r"\d+(\.\d+)?", v) for v in values):
            raise Unsupported("as-path prepend form not modelled (only literal AS numbers)")
        return [("as_path_prepend", tuple(asn(v) for v in values))]
    if body[:2] in (["ip", "next-hop"], ["ipv6", "next-hop"]):
        values = body[2:]
        if values[:1] == ["global"]:  # FRR `set ipv6 next-hop global A`
            values = values[1:]
        if values == ["peer-address"]:
            return [("next_hop", "peer-address")]
        if values == ["self"]:
            return [("next_hop", "self")]
        if len(values) == 1 and _address(values[0]) is not None:
            return [("next_hop", _address(values[0]))]
        raise Unsupported("next-hop form not modelled")
    if body == ["next-hop-self"]:
        return [("next_hop", "self")]
    raise Unsupported("set action not modelled")


def _set_community(values: list[str]) -> list[tuple[str, object]]:
    if values == ["none"]:
        raise Unsupported("'set community none' (remove all) has no field in the model")
    if values[:1] == ["community-list"]:  # EOS `set community community-list X delete`
        if len(values) == 3 and values[2] == "delete":
            return [("community_delete", values[1])]
        raise Unsupported("community-list based set is not modelled (only delete)")
    if values[-1:] == ["delete"]:
        raise Unsupported("deleting listed communities is not modelled (use a comm-list delete)")
    additive = values[-1:] == ["additive"]
    communities = tuple(community(v) for v in (values[:-1] if additive else values))
    if not communities:
        raise Unsupported("no communities")
    return [("community_add" if additive else "community_replace", communities)]


# ---- BGP ------------------------------------------------------------------------------------------

_DIRECTIONS = ("in", "out")


# Words after which a line in `router bgp` names a route-map (redistribute/network/neighbor ... route-map,
# table-map, aggregate-address attribute-map/suppress-map, conditional advertisement).
_ROUTE_MAP_WORDS = frozenset({"route-map", "table-map", "attribute-map", "suppress-map", "unsuppress-map", "advertise-map",
                              "exist-map", "non-exist-map"})


class _BgpState:
    """Neighbor/peer-group route-map statements of every `router bgp` block; resolved in `bindings`. Every
    line naming a route-map (or a neighbor's prefix-list / filter-list) is also kept as a `Use`, with the
    lines that open its mode, so a plan can re-point it where it stands."""

    def __init__(self) -> None:
        # (who, afi or None for top level, direction) -> (route-map, line, mode path); who = address or group name
        self.direct: dict[tuple[str, AFI | None, str], tuple[str, str, tuple[str, ...]]] = {}
        self.groups: set[str] = set()
        self.members: dict[str, str] = {}  # neighbor -> peer-group
        self.uses: list[Use] = []  # lines naming objects, other than the direct bindings (see bindings())

    def router(self, node: Node, d: Dialect, notes: _Notes) -> None:
        tokens = node.text.split()
        path = (node.text.strip(),)
        if "vrf" in tokens:  # FRR `router bgp ASN vrf NAME`
            self._walk(node.children, d, notes, afi=None, context=" ".join(tokens[tokens.index("vrf"):]), path=path)
        else:
            self._walk(node.children, d, notes, afi=None, context=None, path=path)

    def _walk(self, nodes: list[Node], d: Dialect, notes: _Notes, afi: AFI | None, context: str | None,
              neighbor: str | None = None, path: tuple[str, ...] = ()) -> None:
        for n in nodes:
            t = n.text.split()
            head = t[0]
            here = path + (n.text.strip(),)
            if head == "address-family":
                sub_afi, sub_context = _address_family(t[1:])
                self._walk(n.children, d, notes, sub_afi, context or sub_context, neighbor, here)
            elif head == "vrf" and len(t) > 1:
                self._walk(n.children, d, notes, afi, f"vrf {t[1]}", neighbor, here)
            elif head in ("template", "neighbor-group", "session-template"):
                self._walk(n.children, d, notes, afi, " ".join(t[:3]), neighbor, here)
            elif head == "neighbor" and len(t) >= 2:
                if d.nxos_neighbor_blocks and (len(t) == 2 or n.children):
                    # NX-OS: a `neighbor X [remote-as N]` block (both forms open one; its lines are the neighbor's)
                    if len(t) > 2:
                        self._neighbor_line(t[1], t[2:], n.text, afi, context, notes, path, offset=2)
                    self._walk(n.children, d, notes, afi, context, t[1], here)
                else:
                    self._neighbor_line(t[1], t[2:], n.text, afi, context, notes, path, offset=2)
            elif neighbor is not None and head in ("route-map", "inherit", "filter-list", "prefix-list"):
                self._neighbor_line(neighbor, t, n.text, afi, context, notes, path, offset=0)
            else:
                self._other_line(t, n.text, path)

    def _other_line(self, t: list[str], line: str, path: tuple[str, ...]) -> None:
        for i, word in enumerate(t[:-1]):
            if word in _ROUTE_MAP_WORDS and name_problem(t[i + 1]) is None:
                self.uses.append(Use("route_map", t[i + 1], path, tuple(t), i + 1, who=f"'{line.strip()}'"))

    def _neighbor_line(self, who: str, rest: list[str], line: str, afi: AFI | None, context: str | None,
                       notes: _Notes, path: tuple[str, ...] = (), offset: int = 0) -> None:
        if rest in (["peer-group"], ["peer", "group"]):
            self.groups.add(who)
            return
        if len(rest) >= 2 and (rest[0] == "peer-group" or rest[:2] == ["peer", "group"]):
            self.members[who] = rest[-1]
            return
        if not rest:
            return
        tokens = tuple(line.split())
        if rest[0] in ("prefix-list", "filter-list") and len(rest) == 3 and name_problem(rest[1]) is None:
            kind: Kind = "prefix_list" if rest[0] == "prefix-list" else "as_path_list"
            self.uses.append(Use(kind, rest[1], path, tokens, offset + 1, who=f"neighbor {who} {rest[0]} {rest[2]}"))
        if rest[0] == "route-map" and len(rest) == 3 and rest[2] in _DIRECTIONS:
            if context:
                notes.add("bgp", context, "route-map binding outside the default VRF's unicast families is "
                                          "not modelled", line)
                if name_problem(rest[1]) is None:
                    self.uses.append(Use("route_map", rest[1], path, tokens, offset + 1,
                                         who=f"neighbor {who} {rest[2]} ({context})"))
                return
            self.direct[(who, afi, rest[2])] = (rest[1], line, path)
            return
        if rest[0] in ("filter-list", "prefix-list", "distribute-list", "unsuppress-map", "inherit",
                       "advertise-map", "attribute-map"):
            notes.add("bgp", f"neighbor {who}", f"'{rest[0]}' policy is not modelled", line)
        self._other_line(list(tokens), line, path)

    def peer_groups(self) -> dict[str, tuple[str, ...]]:
        """Groups holding at least one address neighbor, with their members (addresses only)."""
        out: dict[str, list[str]] = {}
        for member, group in self.members.items():
            addr = _address(member)
            if group in self.groups and addr is not None and not name_problem(group):
                out.setdefault(group, []).append(str(addr))
        return {g: tuple(sorted(m)) for g, m in sorted(out.items())}

    def bindings(self, d: Dialect, notes: _Notes) -> list[NeighborBinding]:
        """A neighbor's own bindings and a peer-group's bindings, each where it is written (a member without
        its own takes the group's: DevicePolicy.binding_for). An address-family statement wins over the
        top level. Each direct statement becomes a `Use` covering the bindings it decides."""
        resolved: dict[tuple[str, AFI, str], tuple[str, str, tuple]] = {}
        groups = self.peer_groups()

        def families_of(who: str) -> list[AFI]:
            """A top-level statement's families where the platform takes them from the neighbor: an
            address's own, a group's members' (each family present)."""
            a = _address(who.split("%")[0])
            versions = {a.version} if a is not None else {ipaddress.ip_address(m).version for m in groups.get(who, ())}
            fams: list[AFI] = ["ipv4", "ipv6"]
            return [f for v, f in zip((4, 6), fams) if v in versions]

        # A group whose name netchange cannot manage is not modelled: its statements resolve onto its members,
        # under their own. Precedence (strongest last): such a group's top level, its AF, own top level, own AF.
        unmodelled = {g: sorted(m for m, mg in self.members.items() if mg == g and _address(m) is not None)
                      for g in self.groups - set(groups)}
        for own in (False, True):
            for level_is_af in (False, True):
                for (who, afi, direction), (rm, line, _) in self.direct.items():
                    if (who not in unmodelled) != own or (afi is not None) != level_is_af:
                        continue
                    for target in (unmodelled[who] if who in unmodelled else [who]):
                        level_afi = afi or d.bgp_toplevel_afi
                        for fam in ([level_afi] if level_afi else families_of(target)):
                            resolved[(target, fam, direction)] = (rm, line, (who, afi, direction))
        for group, members in sorted(unmodelled.items()):
            used = sorted({(rm, afi or "top level", dr) for (w, afi, dr), (rm, _, _) in self.direct.items() if w == group})
            for rm, level, direction in used:
                notes.add("bgp", f"peer-group {group}",
                          f"route-map {rm} {direction} ({level}) resolved onto members {', '.join(members) or '(none)'}; "
                          "the peer-group binding itself is not modelled")
        out = []
        covers: dict[tuple, list[tuple[str, str, str]]] = {}
        for (who, afi, direction), (rm, line, src) in resolved.items():
            addr = _address(who)
            if addr is None and who not in groups:
                notes.add("bgp", f"neighbor {who}", "binding on a neighbor that is not an IP address (interface, "
                                                    "peer-group without members or undefined) is not modelled", line)
                continue
            if problem := name_problem(rm):
                notes.add("bgp", f"neighbor {who}", f"route-map name cannot be managed ({problem})", line)
                continue
            b = NeighborBinding(neighbor=addr if addr is not None else who, afi=afi, direction=direction,
                                route_map=rm)
            out.append(b)
            covers.setdefault(src, []).append(b.key)
        for src, (rm, line, path) in self.direct.items():
            if name_problem(rm) is not None:
                continue
            who, afi, direction = src
            tokens = tuple(line.split())
            at = next((i for i in range(len(tokens) - 1) if tokens[i] == "route-map" and tokens[i + 1] == rm), None)
            if at is None:
                continue
            at_level = afi or "router level"
            what = f"peer-group {who}" if who in self.groups else f"neighbor {who}"
            self.uses.append(Use("route_map", rm, path, tokens, at + 1, tuple(sorted(covers.get(src, ()))),
                                 who=f"{what} {at_level} {direction}"))
        return out


def _address_family(t: list[str]) -> tuple[AFI | None, str | None]:
    """`address-family` arguments -> (afi, context that makes bindings unmodelled or None)."""
    if "vrf" in t:
        return None, f"vrf {t[t.index('vrf') + 1]}" if t.index("vrf") + 1 < len(t) else "vrf"
    if t and t[0] in ("ipv4", "ipv6") and (len(t) == 1 or t[1:] == ["unicast"]):
        return cast(AFI, t[0]), None
    return None, f"address-family {' '.join(t)}"


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------

def parse_config(text: str, dialect: Dialect, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    """Running-config text of one device -> its DevicePolicy (never raises on device input).

    `focus` (fast engine only) reads just what a plan needs; see Focus."""
    with _gc_paused():
        builder = _Builder(dialect)
        deferred: list[list[tuple[int, str]]]
        if focus is None or engine != "fast":
            nodes, deferred, skipped = SECTIONERS[engine](text, dialect, notes=builder.notes.items), [], 0
        else:
            nodes, deferred, skipped = sections_focused(text, dialect, focus, builder.notes.items)
        for node in nodes:
            _build(builder, node)
        if deferred and focus is not None:  # (only a focused read defers)
            wanted = focus.lists | builder.referenced_lists()
            for lines in deferred:
                if wanted_header(lines[0][1], wanted):
                    for node in nest(lines):
                        _build(builder, node)
                else:
                    skipped += 1
        policy = builder.finish()
        if skipped:
            policy.skipped.append(f"focused parse: {skipped} section(s) the change does not touch were not read")
        return policy


def _build(builder: "_Builder", node: Node) -> None:
    try:
        builder.section(node)
    except Exception as e:  # a parser bug must cost one section, never the device's whole policy
        builder.notes.add("section", repr(node.text), f"internal parser error ({type(e).__name__}: {e})")
        owner = _section_owner(node.text, builder.d)
        if owner:  # the section's object may be touched: a plan must not rewrite what was not read
            builder.notes.items[-1] = Skipped(builder.notes.items[-1], *owner, node.text)


def _section_owner(header: str, d: Dialect) -> tuple[Kind, str] | None:
    """The object a section header opens, where the header says it plainly."""
    t = header.split()
    if t[:2] in (["ip", "prefix-list"], ["ipv6", "prefix-list"]) and len(t) > 2:
        return "prefix_list", t[2]
    if t[:1] == ["route-map"] and len(t) > 1:
        return "route_map", t[1]
    for pattern, _, _ in d.acl_headers:
        if m := pattern.match(header):
            return "filter", m.group("name")
    return None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing allocates many small objects that all stay alive (no cycles to find), so the cyclic
    collector's passes are pure overhead: ~25% of a large config's parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def acl_header(pattern: str, family: AFI, standard: bool = False) -> tuple[re.Pattern, AFI, bool]:
    return re.compile(pattern), family, standard
