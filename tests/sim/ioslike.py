"""The mode-based CLI engine shared by the IOS-family simulators (IOS/IOS-XE, EOS, NX-OS, AOS-CX, FRR).

A simulator holds the running configuration as typed policy objects (prefix-lists, ACLs, community and
AS-path lists, route-maps) plus verbatim line trees for everything else (`router bgp`, interfaces, the
rest), in the order the device prints them. It changes that state the way the platform's CLI does, one
command at a time, and prints `show running-config` from it.

Two ways in:
- `load(text)`: a running config as the device printed it. Indentation says which mode a line belongs
  to; what the simulator does not model is kept verbatim and printed back.
- `apply(command)`: one configuration command as sent over SSH. Indentation means nothing (the CLI
  ignores it); a command the current mode does not know is tried in the parent modes, as IOS, EOS and
  NX-OS do (the documented "mode fall-through" of their parsers), else refused. A command the
  simulator does not model raises `Unmodelled`, never a guess.

Platform modules subclass `IosLike` and override the grammar pieces that differ.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from .errors import Rejected, Unmodelled
from .policy import REF_KIND, Ace, CLEntry, PLEntry, Ref, RMEntry, Rules, View


# ---------------------------------------------------------------- state

@dataclass
class Line:
    """A verbatim configuration line and its sub-lines."""

    text: str
    children: list["Line"] = field(default_factory=list)
    raw: bool = False  # printed exactly as read (banner text)

    def clone(self) -> "Line":
        return Line(self.text, [c.clone() for c in self.children], self.raw)


@dataclass(frozen=True)
class PrefixList:
    afi: str
    name: str
    entries: tuple[PLEntry, ...] = ()
    description: str | None = None
    block: bool = False  # EOS: created by `ip prefix-list NAME` and printed even without entries


@dataclass(frozen=True)
class AclEntry:
    seq: int | None
    text: str  # the line without its sequence number


@dataclass(frozen=True)
class Acl:
    afi: str
    name: str
    kind: str  # extended | standard | numbered | "" (platform default)
    entries: tuple[AclEntry, ...] = ()
    options: tuple[str, ...] = ()  # e.g. `counters per-entry`, `statistics per-entry`

    @property
    def last(self) -> int:
        """The highest sequence number (entries are kept sorted, unnumbered remarks aside)."""
        for e in reversed(self.entries):
            if e.seq is not None:
                return e.seq
        return 0


@dataclass(frozen=True)
class ListEntry:
    seq: int | None
    action: str
    value: str  # community members / regex / AS-path regex, as typed


@dataclass(frozen=True)
class CommunityList:
    name: str
    kind: str  # standard | expanded | large | large-expanded
    entries: tuple[ListEntry, ...] = ()


@dataclass(frozen=True)
class AsPathList:
    name: str
    entries: tuple[ListEntry, ...] = ()


@dataclass(frozen=True)
class RouteMapEntry:
    seq: int
    action: str
    clauses: tuple[str, ...] = ()  # as printed: description, match ..., continue, set ...


@dataclass(frozen=True)
class RouteMap:
    name: str
    entries: tuple[RouteMapEntry, ...] = ()

    def entry(self, seq: int) -> RouteMapEntry | None:
        return next((e for e in self.entries if e.seq == seq), None)


KINDS = ("prefix_list", "acl", "community_list", "as_path_list", "route_map")


@dataclass
class State:
    order: list[Any] = field(default_factory=list)  # Line | (kind, key)
    prefix_lists: dict[tuple[str, str], PrefixList] = field(default_factory=dict)
    acls: dict[tuple[str, str], Acl] = field(default_factory=dict)
    community_lists: dict[str, CommunityList] = field(default_factory=dict)
    as_path_lists: dict[str, AsPathList] = field(default_factory=dict)
    route_maps: dict[str, RouteMap] = field(default_factory=dict)
    trailer: list[str] = field(default_factory=list)

    def table(self, kind: str) -> dict:
        return getattr(self, {"prefix_list": "prefix_lists", "acl": "acls", "community_list": "community_lists",
                              "as_path_list": "as_path_lists", "route_map": "route_maps"}[kind])

    def put(self, kind: str, key: Any, obj: Any) -> None:
        table = self.table(kind)
        if key not in table:
            self.order.append((kind, key))
        table[key] = obj

    def drop(self, kind: str, key: Any) -> None:
        if self.table(kind).pop(key, None) is not None:
            self.order.remove((kind, key))

    def clone(self) -> "State":
        """A copy to edit apart (sessions, snapshots): policy objects are immutable and shared, line trees copied."""
        order = [x.clone() if isinstance(x, Line) else x for x in self.order]
        return State(order, dict(self.prefix_lists), dict(self.acls), dict(self.community_lists), dict(self.as_path_lists),
                     dict(self.route_maps), list(self.trailer))

    def top(self, pattern: str) -> list[Line]:
        rx = re.compile(pattern)
        return [x for x in self.order if isinstance(x, Line) and rx.match(x.text)]


NOT_HERE = object()  # a handler's answer: this mode does not know the command
EXIT = object()  # a handler's answer: leave this mode (at the top: leave configuration mode)
STAY = None


def words(line: str) -> list[str]:
    return line.split()


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


# ---------------------------------------------------------------- the engine

class IosLike:
    platform = "ios_like"
    indent_step = 1
    separator = "!"  # printed between top-level blocks (ignored when comparing configs)
    rules = Rules()
    pl_seq_step = 5
    acl_seq_step = 10
    acl_shows_seq = False  # does `show running-config` print ACE sequence numbers
    acl_keyword = {"ipv4": "ip access-list", "ipv6": "ipv6 access-list"}
    live_each_command = True  # line mode: every accepted command is live at once

    ge_may_equal_len = False

    def __init__(self, text: str = ""):
        self.loading = False
        self.state = State()
        self.stack: list[tuple] = [("global",)]
        self.in_config = True
        self.log: list[str] = []
        self.warnings: list[tuple[str, str]] = []  # (command, message) the device printed but applied
        if text:
            self.load(text)

    # -- public API --------------------------------------------------------------------------
    def load(self, text: str) -> None:
        """A running configuration as printed by the device (lenient: unknown lines kept verbatim)."""
        stack: list[tuple[int, tuple]] = [(-1, ("global",))]
        self.loading = True
        banner: tuple[Line, str] | None = None
        for raw in text.splitlines():
            if banner is not None:  # banner text runs verbatim up to its delimiter
                banner[0].children.append(Line(raw, raw=True))
                if banner[1] in raw:
                    banner = None
                continue
            stripped = raw.strip()
            m = re.match(r"banner (\S+) (\^C|\S)(.*)$", stripped) if not raw.startswith(" ") else None
            if m:
                node = Line(stripped, raw=True)
                self.state.order.append(node)
                if m.group(2) not in m.group(3):
                    banner = (node, m.group(2))
                stack = [(-1, ("global",))]
                continue
            if not stripped or self.is_comment(stripped):
                continue
            if stripped == "end" and not raw.startswith(" "):
                self.state.trailer = ["end"]
                continue
            ind = len(raw) - len(raw.lstrip(" "))
            while stack[-1][0] >= ind:
                stack.pop()
            mode = stack[-1][1]
            line = " ".join(stripped.split())
            res = self.dispatch(mode, line, strict=False)
            if res is NOT_HERE or res is EXIT:
                res = self.keep_verbatim(mode, stripped)
            if res is not STAY:
                stack.append((ind, res))
        self.stack = [("global",)]
        self.loading = False

    def apply(self, command: str) -> None:
        """One configuration command, as sent to the device in configuration mode."""
        line = " ".join(command.strip().split())
        self.log.append(line)
        if not line or self.is_comment(line):
            return
        if not self.in_config:
            raise Rejected(line, "% Invalid input detected (not in configuration mode)")
        if line == "end":
            self.stack = [("global",)]
            self.in_config = False
            return
        for depth in range(len(self.stack) - 1, -1, -1):
            res = self.dispatch(self.stack[depth], line, strict=True)
            if res is NOT_HERE:
                continue
            if res is EXIT:
                if depth == 0:
                    self.in_config = False
                del self.stack[max(depth, 1):]
                return
            del self.stack[depth + 1:]
            if res is not STAY:
                self.stack.append(res)
            return
        self.unknown(line)

    def apply_all(self, commands: Iterable[str]) -> None:
        for c in commands:
            self.apply(c)

    def push(self, commands: list[str], tag: str):
        """Deliver one batch as the deployer does on a line-mode platform (netmiko send_config_set:
        `configure terminal`, the lines, `end`); yields after each command, whose effect is live."""
        self.enter_config()
        for c in commands:
            self.apply(c)
            yield c
        self.in_config = False

    def live_view(self) -> View:
        """What the device runs now (a session platform's uncommitted edits are not live)."""
        return self.view()

    def bgp_facts(self) -> tuple[int, dict[str, int]] | None:
        """(local ASN, {neighbor address: remote AS}) as configured, for building an inventory host."""
        return None

    def enter_config(self, command: str | None = None) -> None:
        """`configure terminal`, or the platform's other way in (*command*, as a commit mode sends it)."""
        self.in_config = True
        self.stack = [("global",)]
        if command is not None and " ".join(command.split()) != "configure terminal":
            line = " ".join(command.split())
            self.log.append(line)
            if not self.enter_with(line):
                raise Unmodelled(line, f"{self.platform} simulator: this way into configuration mode is not modelled")

    def enter_with(self, line: str) -> bool:
        """Hook: a platform's other way into configuration mode (True: taken)."""
        return False

    def leave_config(self) -> None:
        """`end`: back to exec mode."""
        self.in_config = False
        self.stack = [("global",)]

    def execute(self, command: str) -> None:
        """One exec-mode command (outside configuration mode), as a commit mode sends it."""
        line = " ".join(command.split())
        self.log.append(line)
        if not self.exec_command(line):
            raise Unmodelled(line, f"{self.platform} simulator: exec command not modelled")

    def exec_command(self, line: str) -> bool:
        """Hook: a platform's exec commands (True: taken)."""
        return False

    def show(self) -> str:
        out: list[str] = []
        for item in self.state.order:
            lines = self.print_line(item, 0) if isinstance(item, Line) else self.print_object(*item)
            if lines:
                out += lines
                if self.separator:
                    out.append(self.separator)
        out += self.state.trailer
        return "\n".join(out) + "\n"

    def fork(self):
        """An independent simulator holding the same running configuration (cheaper than loading it again)."""
        other = type(self)()
        other.state = self.state.clone()
        return other

    def snapshot(self) -> State:
        return self.state.clone()

    def restore(self, state: State) -> None:
        self.state = state.clone()

    # -- dispatch ----------------------------------------------------------------------------
    def is_comment(self, line: str) -> bool:
        return line.startswith("!")

    def dispatch(self, mode: tuple, line: str, strict: bool) -> Any:
        handler: Callable = getattr(self, f"in_{mode[0]}")
        return handler(mode, line, strict)

    def unknown(self, line: str) -> None:
        raise Unmodelled(line, f"{self.platform} simulator: command not modelled in any enclosing mode")

    def in_opaque(self, mode: tuple, line: str, strict: bool) -> Any:
        if strict:
            return NOT_HERE
        parent: Line = mode[1]
        child = Line(line)
        parent.children.append(child)
        return ("opaque", child)

    def keep_verbatim(self, mode: tuple, text: str) -> Any:
        """Load: a line no handler took. Top level: a verbatim block; in a modelled mode: that mode's own."""
        line = " ".join(text.split())
        if mode[0] == "global":
            node = Line(line)
            self.state.order.append(node)
            return ("opaque", node)
        keep = getattr(self, f"keep_{mode[0]}", None)
        if keep is None:
            raise Unmodelled(line, f"{self.platform} simulator: cannot keep a line in mode {mode[0]}")
        return keep(mode, line)

    # -- printing ----------------------------------------------------------------------------
    def pad(self, depth: int) -> str:
        return " " * (self.indent_step * depth)

    def print_line(self, line: Line, depth: int) -> list[str]:
        if line.raw:
            return [line.text] + [c.text for c in line.children]
        out = [self.pad(depth) + line.text]
        for c in line.children:
            out += self.print_line(c, depth + 1)
        return out

    def print_object(self, kind: str, key: Any) -> list[str]:
        obj = self.state.table(kind)[key]
        return getattr(self, f"print_{kind}")(obj)

    # -- the semantic view -------------------------------------------------------------------
    def view(self) -> View:
        s = self.state
        v = View(platform=self.platform, rules=self.rules)
        refs: list[Ref] = []
        v.prefix_lists = {k: pl.entries for k, pl in s.prefix_lists.items()}
        v.community_lists = {n: tuple(self.community_entry(cl, e) for e in cl.entries) for n, cl in s.community_lists.items()}
        v.as_path_lists = {n: tuple((e.action, e.value) for e in al.entries) for n, al in s.as_path_lists.items()}
        v.acls = {k: tuple(a for a in (self.ace(acl, e) for e in acl.entries) if a is not None) for k, acl in s.acls.items()}
        for name, rm in s.route_maps.items():
            entries = []
            for e in rm.entries:
                sem = self.route_map_semantics(rm, e)
                entries.append(sem)
                for m in sem.matches:
                    for n in m.names:
                        refs.append(Ref(f"route-map {name} {e.action} {e.seq}", REF_KIND.get(m.kind, m.kind), n))
                for what, value in sem.sets:
                    if what == "community-list delete":
                        refs.append(Ref(f"route-map {name} {e.action} {e.seq}", "community_list", value))
            v.route_maps[name] = tuple(entries)
        attachments, more_refs = self.attachments()
        v.attachments = attachments
        v.refs = tuple(refs + more_refs)
        return v

    # hooks the platforms fill in
    def community_entry(self, cl: CommunityList, e: ListEntry) -> CLEntry:
        if cl.kind.endswith("expanded"):
            return CLEntry(e.action, regex=e.value.strip('"'))
        return CLEntry(e.action, members=tuple(e.value.split()))

    def ace(self, acl: Acl, e: AclEntry) -> Ace | None:
        raise NotImplementedError

    def route_map_semantics(self, rm: RouteMap, e: RouteMapEntry) -> RMEntry:
        raise NotImplementedError

    def attachments(self) -> tuple[dict, list[Ref]]:
        raise NotImplementedError


# ---------------------------------------------------------------- shared helpers for the platforms

def insert_by_seq(entries: Iterable[Any], new: Any) -> tuple:
    """Entries sorted by seq with `new` replacing the entry of the same seq."""
    out = [e for e in entries if e.seq != new.seq]
    out.append(new)
    return tuple(sorted(out, key=lambda e: e.seq))


def next_seq(entries: Iterable[Any], step: int) -> int:
    seqs = [e.seq for e in entries if e.seq is not None]
    return (max(seqs) // step + 1) * step if seqs else step


def parse_prefix_entry(toks: list[str], line: str, max_len_check: bool = True, ge_eq_len: bool = False,
                       any_family: str = "0.0.0.0/0") -> tuple[str, Any, dict]:
    """`permit|deny P [ge N] [le N] [eq N]` -> (action, network, {ge, le, eq}); raises Rejected if malformed."""
    if len(toks) < 2 or toks[0] not in ("permit", "deny"):
        raise Rejected(line, "% Invalid input detected")
    opts: dict[str, Any] = {}
    if toks[1] == "any" and len(toks) == 2:
        return toks[0], net(any_family), {"le": 32 if any_family.startswith("0") else 128, "any": True}
    try:
        p = net(toks[1])
    except ValueError:
        raise Rejected(line, "% Invalid input detected (prefix)") from None
    rest = toks[2:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("ge", "le", "eq") or not rest[1].isdigit():
            raise Rejected(line, "% Invalid input detected")
        opts[rest[0]] = int(rest[1])
        rest = rest[2:]
    if max_len_check:
        lo, hi = opts.get("ge"), opts.get("le")
        top = p.max_prefixlen
        # IOS: "len < ge-value <= le-value <= 32" (Cisco IOS IP Configuration Guide, Configuring a
        # Prefix List Entry); a range outside it is refused.
        ge_ok = lo is None or ((p.prefixlen <= lo) if ge_eq_len else (p.prefixlen < lo)) and lo <= top
        le_ok = hi is None or p.prefixlen <= hi <= top
        if not ge_ok or not le_ok or (lo is not None and hi is not None and lo > hi):
            raise Rejected(line, "% Invalid prefix range")
    return toks[0], p, opts


def ports(tokens: list[str], i: int, names: dict[str, int]) -> tuple[tuple[int, int] | None, int]:
    """Parse an optional port operator at tokens[i] -> (range, next index)."""
    def num(t: str) -> int:
        if t.isdigit():
            return int(t)
        if t in names:
            return names[t]
        raise ValueError(t)
    if i >= len(tokens):
        return None, i
    op = tokens[i]
    if op == "eq":
        p = num(tokens[i + 1])
        return (p, p), i + 2
    if op == "range":
        return (num(tokens[i + 1]), num(tokens[i + 2])), i + 3
    if op == "gt":
        return (num(tokens[i + 1]) + 1, 65535), i + 2
    if op == "lt":
        return (0, num(tokens[i + 1]) - 1), i + 2
    if op == "neq":
        raise ValueError("neq")
    return None, i


PORT_NAMES = {"www": 80, "http": 80, "https": 443, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "ftp": 21,
              "ftp-data": 20, "bgp": 179, "ntp": 123, "snmp": 161, "snmptrap": 162, "tftp": 69, "syslog": 514,
              "pop3": 110, "imap": 143, "ldap": 389, "isakmp": 500, "bootps": 67, "bootpc": 68, "echo": 7}
PROTO_NAMES = {"ip": None, "ipv6": None, "any": None, "tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6",
               "gre": "gre", "esp": "esp", "ahp": "ah", "ah": "ah", "ospf": "ospf", "sctp": "sctp", "pim": "pim",
               "igmp": "igmp", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "47": "gre", "50": "esp", "51": "ah",
               "89": "ospf", "132": "sctp"}


def address(tokens: list[str], i: int, version: int) -> tuple[tuple[int, int] | None, int]:
    """Parse an ACL address at tokens[i]: any | host A | A/len | A/dotted-mask | A wildcard | bare A (host)."""
    t = tokens[i]
    bits = 32 if version == 4 else 128
    full = (1 << bits) - 1
    if t in ("any", "any4", "any6"):
        return None, i + 1
    if t == "host":
        return (int(ipaddress.ip_address(tokens[i + 1])), 0), i + 2
    if "/" in t:
        a, _, m = t.partition("/")
        if "." in m and version == 4:
            mask = int(ipaddress.IPv4Address(m))
            return (int(ipaddress.ip_address(a)) & mask, full ^ mask), i + 1
        n = ipaddress.ip_network(t, strict=False)
        return (int(n.network_address), int(n.hostmask)), i + 1
    addr = ipaddress.ip_address(t)
    if version == 4 and i + 1 < len(tokens) and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", tokens[i + 1]):
        wild = int(ipaddress.IPv4Address(tokens[i + 1]))
        return (int(addr) & ~wild & full, wild), i + 2
    return (int(addr), 0), i + 1


@functools.lru_cache(maxsize=1 << 16)
def parse_ace(text: str, version: int, harmless: frozenset[str] = frozenset({"log", "log-input", "count"}),
              standard: bool = False) -> Ace | None:
    """An ACE in the common Cisco-style grammar; remarks/comments -> None; anything else unknown -> opaque."""
    toks = text.split()
    if not toks or toks[0] in ("remark", "comment", "description"):
        return None
    action = toks[0]
    if action not in ("permit", "deny"):
        return Ace("deny", opaque=text)
    try:
        if standard:
            src, i = address(toks, 1, version)
            if i < len(toks) and not set(toks[i:]) <= harmless:
                return Ace(action, opaque=text, version=version)
            return Ace(action, src=src, version=version)
        proto = toks[1]
        if proto not in PROTO_NAMES:
            return Ace(action, opaque=text, version=version)
        pr = PROTO_NAMES[proto]
        src, i = address(toks, 2, version)
        sp, i = ports(toks, i, PORT_NAMES)
        dst, i = address(toks, i, version)
        dp, i = ports(toks, i, PORT_NAMES)
        if i < len(toks) and not set(toks[i:]) <= harmless:
            return Ace(action, opaque=text, version=version)
        return Ace(action, pr, src, dst, sp, dp, version=version)
    except (ValueError, IndexError):
        return Ace(action, opaque=text, version=version)


def with_clause(clauses: tuple[str, ...], new: str, key: Callable[[str], str], order: Callable[[str], int]) -> tuple[str, ...]:
    """Replace the clause with the same key, or insert `new` where its group (description, match,
    continue, set) goes, after the last clause of the same group."""
    k = key(new)
    out = list(clauses)
    for i, c in enumerate(out):
        if key(c) == k:
            out[i] = new
            return tuple(out)
    rank = order(new)
    pos = len(out)
    for i, c in enumerate(out):
        if order(c) > rank:
            pos = i
            break
    out.insert(pos, new)
    return tuple(out)


def clause_group(c: str) -> int:
    return 0 if c.startswith("description") else 1 if c.startswith("match") else 2 if c.startswith(("continue", "sub-route-map", "on-match")) else 3


def replace_entries(obj: Any, entries: Iterable[Any]) -> Any:
    return replace(obj, entries=tuple(entries))
