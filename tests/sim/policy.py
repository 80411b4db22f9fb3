"""Platform-neutral policy semantics the simulators expose: what a device *does* with its lists,
route-maps and ACLs, evaluated on sample routes and packets, and which references dangle.

Each simulator reads its own state into a `View` (never through netchange's parsers). A View holds
objects by name, the live attachment points (BGP bindings, interface ACLs, redistribution) and every
reference with the object it needs. `Rules` say what the platform does with a missing or empty object.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterable, Union

Net = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


# ---------------------------------------------------------------- objects

@dataclass(frozen=True)
class PLEntry:
    seq: int
    action: str  # permit | deny
    prefix: Net
    ge: int | None = None
    le: int | None = None
    eq: int | None = None  # EOS `eq N`
    any: bool = False  # typed as `any` (FRR): 0.0.0.0/0 le 32 or ::/0 le 128

    def length_range(self) -> tuple[int, int]:
        if self.eq is not None:
            return self.eq, self.eq
        lo = self.ge if self.ge is not None else self.prefix.prefixlen
        hi = self.le if self.le is not None else (self.prefix.max_prefixlen if self.ge is not None else self.prefix.prefixlen)
        return lo, hi

    def matches(self, net: Net) -> bool:
        if net.version != self.prefix.version:
            return False
        lo, hi = self.length_range()
        return lo <= net.prefixlen <= hi and net.prefixlen >= self.prefix.prefixlen and net.subnet_of(self.prefix)


@dataclass(frozen=True)
class CLEntry:
    action: str
    members: tuple[str, ...] = ()  # standard / large: all present (AND)
    regex: str | None = None  # expanded


@dataclass(frozen=True)
class Match:
    """One match clause: OR over `names` (a missing one follows Rules), or an opaque condition."""

    kind: str  # prefix_list | community_list | as_path_list | acl | opaque
    names: tuple[str, ...] = ()
    afi: str = "ipv4"
    exact: bool = False  # community exact-match
    text: str = ""  # opaque: the clause itself


@dataclass(frozen=True)
class RMEntry:
    seq: int
    action: str
    matches: tuple[Match, ...] = ()
    sets: tuple[tuple[str, str], ...] = ()  # (what, value): the effect, compared as such
    cont: int | str | None = None  # continue N | "next" | None
    description: str | None = None  # no effect on routes; kept so a change can carry it over


@dataclass(frozen=True)
class Ace:
    """One ACL line: `opaque` lines (options the simulator does not evaluate) match only a packet tagged
    with their own text, so order and presence still count."""

    action: str  # permit | deny
    proto: str | None = None  # None = any IP
    src: tuple[int, int] | None = None  # (address, wildcard) as ints; None = any
    dst: tuple[int, int] | None = None
    sport: tuple[int, int] | None = None  # inclusive range
    dport: tuple[int, int] | None = None
    opaque: str | None = None
    version: int = 4


@dataclass(frozen=True)
class Ref:
    """`source` (e.g. "route-map RM seq 10", "bgp 198.51.100.2 ipv4 in") needs object (kind, name)."""

    source: str
    kind: str  # prefix_list | community_list | as_path_list | route_map | acl | policy | filter | ...
    name: str


@dataclass(frozen=True)
class Rules:
    """What a platform does where an object is missing or empty (each value cites its source in the simulator)."""

    missing_list_in_match: str = "match"  # match | nomatch  (prefix/community/as-path list named in a route-map)
    missing_route_map_binding: str = "deny"  # deny | permit   (neighbor route-map naming no route-map)
    missing_acl_attached: str = "permit"  # permit | deny  (interface access-group naming no ACL)
    empty_prefix_list: str = "deny"  # permit | deny
    empty_acl: str = "permit"


@dataclass
class View:
    platform: str
    rules: Rules
    prefix_lists: dict[tuple[str, str], tuple[PLEntry, ...]] = field(default_factory=dict)
    community_lists: dict[str, tuple[CLEntry, ...]] = field(default_factory=dict)
    as_path_lists: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    route_maps: dict[str, tuple[RMEntry, ...]] = field(default_factory=dict)
    acls: dict[tuple[str, str], tuple[Ace, ...]] = field(default_factory=dict)
    # live attachment point -> (kind, name): ("bgp", nbr, afi, dir) -> ("route_map", RM);
    # ("interface", ifname, afi, dir) -> ("acl", NAME); ("redistribute", ...) -> ("route_map", RM)
    attachments: dict[tuple, tuple[str, str]] = field(default_factory=dict)
    refs: tuple[Ref, ...] = ()
    # other named objects (Junos policies, filters, ...) by kind, for reference checks only
    others: dict[str, frozenset[str]] = field(default_factory=dict)

    def exists(self, kind: str, name: str) -> bool:
        if kind in self.others:
            return name in self.others[kind]
        if kind == "prefix_list":
            return ("ipv4", name) in self.prefix_lists or ("ipv6", name) in self.prefix_lists
        if kind == "acl":
            return ("ipv4", name) in self.acls or ("ipv6", name) in self.acls
        table = {"community_list": self.community_lists, "as_path_list": self.as_path_lists, "route_map": self.route_maps}.get(kind)
        if table is not None:
            return name in table
        return name in self.others.get(kind, frozenset())

    def dangling(self) -> frozenset[Ref]:
        return frozenset(r for r in self.refs if not self.exists(r.kind, r.name))


# ---------------------------------------------------------------- regexes (Cisco `_` and friends)

@functools.lru_cache(maxsize=4096)
def cisco_regex(rx: str) -> re.Pattern | None:
    """A Cisco-style AS-path/community regex as a Python pattern (`_` = delimiter); None if unusable."""
    py = rx.strip('"').replace("_", r"(?:^|$|[ ,{}()])")
    try:
        return re.compile(py)
    except re.error:
        return None


# ---------------------------------------------------------------- routes

@dataclass(frozen=True)
class Route:
    prefix: Net
    communities: frozenset[str] = frozenset()
    as_path: tuple[int, ...] = ()
    opaque: bool = False  # truth value of every opaque match condition


def prefix_list_permits(view: View, afi: str, name: str, net: Net) -> bool | None:
    """True/False, or None when the list does not exist."""
    entries = view.prefix_lists.get((afi, name))
    if entries is None:
        return None
    if not entries:
        return view.rules.empty_prefix_list == "permit"
    for e in entries:
        if e.matches(net):
            return e.action == "permit"
    return False


def community_list_permits(view: View, name: str, comms: frozenset[str], exact: bool) -> bool | None:
    entries = view.community_lists.get(name)
    if entries is None:
        return None
    text = " ".join(sorted(comms))
    for e in entries:
        if e.regex is not None:
            pat = cisco_regex(e.regex)
            hit = bool(pat and pat.search(text))
        elif exact:
            hit = set(e.members) == set(comms)
        else:
            hit = set(e.members) <= comms
        if hit:
            return e.action == "permit"
    return False


def as_path_permits(view: View, name: str, path: tuple[int, ...]) -> bool | None:
    entries = view.as_path_lists.get(name)
    if entries is None:
        return None
    text = " ".join(str(a) for a in path)
    for action, rx in entries:
        pat = cisco_regex(rx)
        if pat and pat.search(text):
            return action == "permit"
    return False


REF_KIND = {"prefix_list": "prefix_list", "community_list": "community_list", "as_path_list": "as_path_list",
            "acl": "acl", "nexthop_prefix_list": "prefix_list"}


def _clause_matches(view: View, m: Match, r: Route) -> bool:
    if m.kind not in ("prefix_list", "community_list", "as_path_list", "acl"):
        return r.opaque  # conditions on attributes the samples do not carry (next-hop, tags, ...)
    results = []
    for name in m.names:
        if m.kind == "prefix_list":
            if r.prefix.version != (4 if m.afi == "ipv4" else 6):
                res: bool | None = False
            else:
                res = prefix_list_permits(view, m.afi, name, r.prefix)
        elif m.kind == "community_list":
            res = community_list_permits(view, name, r.communities, m.exact)
        elif m.kind == "as_path_list":
            res = as_path_permits(view, name, r.as_path)
        elif m.kind == "acl":
            acl = view.acls.get((m.afi, name))
            res = None if acl is None else acl_permits(view, acl, Packet(src=int(r.prefix.network_address), version=r.prefix.version))
        if res is None:
            res = view.rules.missing_list_in_match == "match"
        results.append(res)
    return any(results) if results else True


@dataclass(frozen=True)
class Outcome:
    action: str  # permit | deny
    sets: tuple[tuple[str, str], ...] = ()


DENY = Outcome("deny")


def run_route_map(view: View, name: str | None, r: Route) -> Outcome:
    """A route through route-map `name` (None: nothing bound = accept unchanged)."""
    if name is None:
        return Outcome("permit")
    entries = view.route_maps.get(name)
    if entries is None:
        return Outcome("permit") if view.rules.missing_route_map_binding == "permit" else DENY
    applied: dict[str, str] = {}
    i = 0
    while i < len(entries):
        e = entries[i]
        if all(_clause_matches(view, m, r) for m in e.matches):
            if e.action == "deny":
                return DENY
            for what, value in e.sets:
                applied[what] = value
            if e.cont is None:
                return Outcome("permit", tuple(sorted(applied.items())))
            nxt = e.seq + 1 if e.cont == "next" else int(e.cont)
            j = next((k for k in range(i + 1, len(entries)) if entries[k].seq >= nxt), None)
            if j is None:
                return Outcome("permit", tuple(sorted(applied.items())))
            i = j
            continue
        i += 1
    return Outcome("permit", tuple(sorted(applied.items()))) if applied else DENY


# ---------------------------------------------------------------- packets

@dataclass(frozen=True)
class Packet:
    src: int = 0
    dst: int = 0
    proto: str = "tcp"
    sport: int = 1024
    dport: int = 80
    version: int = 4
    tag: str | None = None  # matches the opaque ACE with this text


def _in(addr: int, spec: tuple[int, int] | None) -> bool:
    if spec is None:
        return True
    base, wild = spec
    return (addr & ~wild) == (base & ~wild)


def _port_in(port: int, rng: tuple[int, int] | None) -> bool:
    return rng is None or rng[0] <= port <= rng[1]


def ace_matches(a: Ace, p: Packet) -> bool:
    if a.opaque is not None:
        return p.tag == a.opaque
    if p.tag is not None or a.version != p.version:
        return False
    if a.proto is not None and a.proto != p.proto:
        return False
    if (a.sport or a.dport) and p.proto not in ("tcp", "udp", "sctp"):
        return False
    return _in(p.src, a.src) and _in(p.dst, a.dst) and _port_in(p.sport, a.sport) and _port_in(p.dport, a.dport)


def acl_permits(view: View, acl: tuple[Ace, ...], p: Packet) -> bool:
    if not acl:
        return view.rules.empty_acl == "permit"
    for a in acl:
        if ace_matches(a, p):
            return a.action == "permit"
    return False


# ---------------------------------------------------------------- samples

def _subnets_around(e: PLEntry) -> set[Net]:
    out: set[Net] = set()
    p = e.prefix
    lo, hi = e.length_range()
    for length in {p.prefixlen, lo, hi, lo - 1, hi + 1, min(hi + 1, p.max_prefixlen)}:
        if 0 <= length <= p.max_prefixlen:
            for addr in (p.network_address, p.broadcast_address):
                out.add(ipaddress.ip_network(f"{addr}/{length}", strict=False))
    if p.prefixlen > 0:
        out.add(p.supernet())
    return out


def route_samples(views: Iterable[View], route_maps: Iterable[str | None], limit: int = 600) -> list[Route]:
    """Routes that tell the given route-maps apart: every prefix-list edge, each community and AS number
    the lists mention, alone and together, and the opaque conditions true and false."""
    views = list(views)
    names = {n for n in route_maps if n}
    prefixes: set[Net] = {ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("198.18.0.0/24"),
                          ipaddress.ip_network("::/0"), ipaddress.ip_network("2001:db8::/48")}
    comms: set[str] = set()
    asns: set[int] = set()
    uses_comm = uses_asp = False
    for v in views:
        for n in names:
            for e in v.route_maps.get(n, ()):
                for m in e.matches:
                    if m.kind == "prefix_list":
                        for pl in m.names:
                            for ple in v.prefix_lists.get((m.afi, pl), ()):
                                prefixes |= _subnets_around(ple)
                    elif m.kind == "community_list":
                        uses_comm = True
                        for cl in m.names:
                            for ce in v.community_lists.get(cl, ()):
                                comms.update(ce.members)
                                if ce.regex:
                                    comms.update(re.findall(r"\d+:\d+", ce.regex))
                    elif m.kind == "as_path_list":
                        uses_asp = True
                        for al in m.names:
                            for _, rx in v.as_path_lists.get(al, ()):
                                asns.update(int(x) for x in re.findall(r"\d+", rx) if int(x) < 2**32)
    comm_sets: list[frozenset[str]] = [frozenset()]
    if uses_comm:
        comm_sets += [frozenset({c}) for c in sorted(comms)] + [frozenset(comms)]
    paths: list[tuple[int, ...]] = [()]
    if uses_asp:
        for a in sorted(asns):
            paths += [(a,), (a, 64999), (64999, a)]
    out = [Route(p, c, a, o) for p in sorted(prefixes, key=lambda n: (n.version, n)) for c in comm_sets for a in paths for o in (False, True)]
    if len(out) > limit:  # keep every prefix, thin the attribute combinations evenly
        step = len(out) / limit
        out = [out[int(i * step)] for i in range(limit)]
    return out


def _spec_points(spec: tuple[int, int] | None, bits: int) -> set[int]:
    if spec is None:
        return {0}
    base, wild = spec
    lo = base & ~wild & ((1 << bits) - 1)
    hi = lo | wild
    return {lo, hi, (hi + 1) % (1 << bits), (lo - 1) % (1 << bits)}


def packet_samples(acls: Iterable[tuple[Ace, ...]], limit: int = 800) -> list[Packet]:
    """Packets hitting each ACE, and each with one field just outside it."""
    out: set[Packet] = set()
    for acl in acls:
        for a in acl:
            if a.opaque is not None:
                out.add(Packet(tag=a.opaque))
                continue
            bits = 32 if a.version == 4 else 128
            proto = a.proto or "tcp"
            sports = {1024} if a.sport is None else {a.sport[0], a.sport[1], a.sport[0] - 1, a.sport[1] + 1}
            dports = {80} if a.dport is None else {a.dport[0], a.dport[1], a.dport[0] - 1, a.dport[1] + 1}
            for s in _spec_points(a.src, bits):
                for d in _spec_points(a.dst, bits):
                    for pr in {proto, "udp" if proto == "tcp" else "tcp"}:
                        for sp in sports:
                            for dp in dports:
                                out.add(Packet(s, d, pr, sp, dp, a.version))
    pk = sorted(out, key=lambda p: (p.tag or "", p.version, p.src, p.dst, p.proto, p.sport, p.dport))
    if len(pk) > limit:
        step = len(pk) / limit
        pk = [pk[int(i * step)] for i in range(limit)]
    return pk


# ---------------------------------------------------------------- what an attachment point does

def closure(view: View, point: tuple) -> tuple:
    """Everything that decides what attachment `point` does (hashable), to skip re-evaluating an unchanged one."""
    kind, name = view.attachments.get(point, (None, None))
    if kind == "acl":
        afi = point[2]
        return ("acl", name, view.acls.get((afi, name)))
    if kind == "route_map":
        entries = view.route_maps.get(name)
        deps = []
        for e in entries or ():
            for m in e.matches:
                for n in m.names:
                    if m.kind == "prefix_list":
                        deps.append((m.kind, n, view.prefix_lists.get((m.afi, n))))
                    elif m.kind == "community_list":
                        deps.append((m.kind, n, view.community_lists.get(n)))
                    elif m.kind == "as_path_list":
                        deps.append((m.kind, n, view.as_path_lists.get(n)))
                    elif m.kind == "acl":
                        deps.append((m.kind, n, view.acls.get((m.afi, n))))
        return ("route_map", name, entries, tuple(deps))
    return (None,)


def behaviour(view: View, point: tuple, route_sample: list[Route], packet_sample: list[Packet]) -> tuple:
    kind, name = view.attachments.get(point, (None, None))
    if point[0] == "interface":
        afi = point[2]
        acl = view.acls.get((afi, name)) if name else None
        if name is None:
            return tuple(True for _ in packet_sample)
        if acl is None:
            return tuple(view.rules.missing_acl_attached == "permit" for _ in packet_sample)
        return tuple(acl_permits(view, acl, p) for p in packet_sample)
    return tuple(run_route_map(view, name, r) for r in route_sample)


@dataclass(frozen=True)
class Window:
    """At attachment `point`, after `command`, sample `what` got `now`, which is neither `old` nor `new`."""

    command: str
    point: tuple
    what: str
    old: str
    now: str
    new: str

    def __str__(self) -> str:
        return (f"after {self.command!r}: {' '.join(map(str, self.point))}: {self.what} -> {self.now} "
                f"(before the change: {self.old}; after it: {self.new})")


class WindowCheck:
    """Compares every live attachment point of intermediate views against the old and the new view."""

    def __init__(self, old: View, new: View):
        self.old, self.new = old, new
        self.points = sorted(set(old.attachments) | set(new.attachments), key=str)
        self._cache: dict[tuple, tuple] = {}
        self._samples: dict[tuple, tuple[list[Route], list[Packet]]] = {}
        self._known: dict[tuple, tuple] = {}

    def _sample(self, point: tuple, mid: View):
        if point not in self._samples:
            views = (self.old, self.new, mid)
            rms = [v.attachments.get(point, (None, None))[1] for v in views]
            if point[0] == "interface":
                acls = [v.acls.get((point[2], n), ()) for v, n in zip(views, rms, strict=True) if n]
                self._samples[point] = ([], packet_samples(acls))
            else:
                self._samples[point] = (route_samples(views, rms), [])
        return self._samples[point]

    def check(self, mid: View, command: str) -> list[Window]:
        out: list[Window] = []
        for point in sorted(set(self.points) | set(mid.attachments), key=str):
            c_old, c_new, c_mid = closure(self.old, point), closure(self.new, point), closure(mid, point)
            if c_mid in (c_old, c_new):
                continue
            routes, packets = self._sample(point, mid)
            if (point, "old") not in self._known:
                self._known[(point, "old")] = behaviour(self.old, point, routes, packets)
                self._known[(point, "new")] = behaviour(self.new, point, routes, packets)
            b_old, b_new = self._known[(point, "old")], self._known[(point, "new")]
            b_mid = behaviour(mid, point, routes, packets)
            sample = packets if point[0] == "interface" else routes
            for i, (o, m, n) in enumerate(zip(b_old, b_mid, b_new, strict=True)):
                if m != o and m != n:
                    out.append(Window(command, point, _show(sample[i]), _show(o), _show(m), _show(n)))
                    break  # one witness per point is enough to act on
        return out


def _show(x) -> str:
    if isinstance(x, Outcome):
        return x.action + ("" if not x.sets else " " + ", ".join(f"{k} {v}" for k, v in x.sets))
    if isinstance(x, bool):
        return "permit" if x else "deny"
    if isinstance(x, Route):
        bits = [str(x.prefix)] + ([f"communities {' '.join(sorted(x.communities))}"] if x.communities else []) \
            + ([f"as-path {' '.join(map(str, x.as_path))}"] if x.as_path else []) + (["(opaque matches true)"] if x.opaque else [])
        return "route " + " ".join(bits)
    if isinstance(x, Packet):
        if x.tag is not None:
            return f"packet matching only {x.tag!r}"
        ip = ipaddress.ip_address
        return f"packet {x.proto} {ip(x.src) if x.version == 4 else ipaddress.IPv6Address(x.src)}:{x.sport} -> " \
               f"{ip(x.dst) if x.version == 4 else ipaddress.IPv6Address(x.dst)}:{x.dport}"
    return str(x)
