"""Shared rendering machinery: the jinja2 environment, what templates may look up, and the driver base.

Drivers compute (Python), templates print (jinja2 macros in templates/<platform>/macros.j2). Every op
and every full render goes through the same macros, so `netchange render` and `netchange plan` print
a construct identically.

Injection defence at the printer, after the model's own types: every `{{ value }}` a template prints
passes `print_gate` (the environment's `finalize`), which refuses a value with a control character or
line break instead of letting it start a line of its own; free text goes through the platform's text
filter (`device_text`, `nft_quote`, `junos_quote`), which escapes it or refuses what the CLI cannot carry;
and `single_lines`, last, splits only the template's own line breaks and refuses any line that still holds
a control character or an unbalanced quote.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, ClassVar, Iterable, NoReturn, TypeGuard, cast

import jinja2

from ..addresses import parse_address
from ..errors import NetchangeError
from ..inventory import Host
from ..model.base import AFI, Network
from ..model.firewall import PortRange, ServiceSpec
from ..model.policy import KIND_ORDER, ConcreteFilter, DevicePolicy, Kind, Rule
from ..model.resolve import Desired
from ..model.routing import Match, NeighborBinding, PrefixList, RouteMapEntry, SetClause
from ..parsers.acl_words import dscp_word, icmp_word, ttl_words
from ..names import _check_identifier, _check_text, control_char, find_line_breaking, shown
from ..model import ops as O
from ..model.staging import NoRoom, staged_edit
from ..parsers import canonical as canonical_lists
from . import guarded
from .base import Driver

# templates/ at the top of the repository installs as the package `pipeline.templates` (see pyproject.toml):
# loading it as package data makes a wheel render from any directory.
TEMPLATES_PACKAGE = "pipeline.templates"


class UnsupportedConstruct(NetchangeError):
    """The platform cannot express something the change asks for (refused, never silently dropped)."""

    exit_code = 1


# ---------------------------------------------------------------- jinja2 environment and filters

def junos_quote(text: object) -> str:
    """A Junos string token: always double-quoted, with quote and backslash escaped."""
    s = _one_line(str(text), "juniper_junos")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def junos_word(text: object) -> str:
    """A token of a Junos statement read from the device, printed back: bare when it can be, else quoted."""
    s = str(text)
    return s if re.fullmatch(r"[A-Za-z0-9_./:+@-]+", s) else junos_quote(s)


def nft_quote(text: object, limit: int = 127) -> str:
    """An nftables string (comment, log prefix), length capped. nft strings have no escape for '"' (a quote
    ends the string whatever precedes it): such text is refused, never silently changed."""
    s = _one_line(str(text), "nftables")
    if '"' in s:
        raise UnsupportedConstruct(f"nftables: the comment {shown(s)} contains '\"', which an nft string cannot hold; "
                                   "reword it")
    if len(s.encode()) > limit:
        s = s.encode()[: limit - 3].decode(errors="ignore") + "..."
    return f'"{s}"'


# Interactive Cisco-style CLIs (vtysh, IOS, EOS, AOS-CX) read these two characters as syntax in any command,
# descriptions included. Measured on FRR 8.4 vtysh over a terminal: `?` prints help and is dropped from the
# line; `| ` starts an output filter (`% Unknown action`, or the rest of the line silently becomes a regex).
INTERACTIVE_CLI_TEXT = {
    "?": "the CLI reads as its help key (the character would be lost)",
    "|": "the CLI reads as an output pipe (the rest of the line would be lost)",
}


@jinja2.pass_context
def device_text(context: Any, text: object, field: str = "text") -> str:
    """Free text (description, remark, comment) printed as the rest of a CLI line: unquoted, so each
    character the platform's CLI reads as syntax (its `text_refused`) is refused with the reason."""
    platform = context.get("platform", "this platform")
    s = _one_line(str(text), platform)
    for ch, why in (context.get("text_refused") or {}).items():
        if ch in s:
            raise UnsupportedConstruct(f"{platform}: the {field} {shown(s)} contains {ch!r}, which {why}; reword it")
    return s


def _one_line(s: str, platform: str) -> str:
    bad = control_char(s)
    if bad is not None:
        raise UnsupportedConstruct(f"{platform}: refusing to print text with a control character or line break "
                                   f"({bad!r}): {shown(s)}")
    return s


def wildcard(net: Network) -> str:
    return str(net.hostmask)


def netmask(net: Network) -> str:
    return str(net.netmask)


class Printed(str):
    """What a macro (or a `{% set %}` block) produced: template text plus values that already passed
    `print_gate`. Only this type may carry the template's own line breaks through `{{ }}`."""

    __slots__ = ()


def print_gate(value: object) -> str:
    """jinja2 `finalize`: every `{{ value }}` ends up here. A value is printed inside a line, so a control
    character or line break in it would start a command of its own: refused, never split."""
    kind = type(value)
    if kind is Printed:
        return cast(Printed, value)
    if kind is int:  # seq numbers, lengths, ASNs: the commonest values, and never a line break
        return str(value)
    text = cast(str, value) if kind is str else str(value)
    bad = find_line_breaking(text)
    if bad is not None:
        raise UnsupportedConstruct(f"refusing to print a value with a control character or line break "
                                   f"({bad.group(0)!r}): {shown(text)}")
    return text


class _GatedEnvironment(jinja2.Environment):
    # Macros and blocks join their output with `concat`: marking it lets print_gate tell a macro's
    # multi-line output (built from gated values) from a value that carries a line break itself.
    concat = staticmethod(lambda parts: Printed("".join(parts)))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = _GatedEnvironment(
        loader=jinja2.PackageLoader(TEMPLATES_PACKAGE, "."),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=print_gate,
    )
    env.filters.update(junos_quote=junos_quote, junos_word=junos_word, nft_quote=nft_quote, device_text=device_text, wildcard=wildcard,
                       netmask=netmask)
    env.globals.update(seq_of=seq_of, numbered=numbered, is_host=is_host, proto=proto, icmp_word=icmp_word,
                       dscp_word=dscp_word, ttl_words=ttl_words)
    return env


def single_lines(text: str, quoted_strings: bool = True) -> list[str]:
    """The last check: split template output on the template's own line breaks (values cannot carry one
    past print_gate), drop blank lines, and refuse any line that is not one clean line. Where `"` opens a
    string (`quoted_strings`: Junos, nft), a line's quotes must also balance."""
    out = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            continue
        bad = control_char(line, allow="\t")  # tabs indent nft files
        if bad is not None:
            raise UnsupportedConstruct(f"refusing to print a line with a control character or line break ({bad!r}): "
                                       f"{shown(line)}")
        if quoted_strings and line.count('"') % 2:
            raise UnsupportedConstruct(f"refusing to print a line with an unbalanced quote: {shown(line)}")
        out.append(line)
    return out


# ---------------------------------------------------------------- names re-checked at the printer


def guard_identifier(value: str, what: str) -> None:
    try:
        _check_identifier(value)
    except ValueError as e:
        raise UnsupportedConstruct(f"refusing to print {what} {value!r}: {e}") from None


def guard(kind: str, obj: Any) -> None:
    """Objects reach templates re-validated, so one built with model_construct (no validation) or a
    resolved filter (plain str fields) cannot smuggle a line break, quote or CLI keyword into a command."""
    if obj is None or isinstance(obj, str) or _GUARDED.get(id(obj)) is obj:
        return
    if guarded.has_line_break(obj):
        raise UnsupportedConstruct(f"refusing to print {kind} {getattr(obj, 'name', '')!r}: it contains a Unicode line break")
    try:
        if isinstance(obj, ConcreteFilter):
            _check_identifier(obj.name)
            for text in [obj.description] + [r.description for r in obj.rules]:
                if text is not None:
                    _check_text(text)
            for r in obj.rules:
                _check_identifier(r.name)
            ConcreteFilter.model_validate(obj.model_dump())
        else:
            guarded.revalidate(obj)  # each entry of a list once, however many copies of the list are printed
    except (ValueError, TypeError) as e:
        raise UnsupportedConstruct(f"refusing to print {kind} {getattr(obj, 'name', '')!r}: {e}") from None
    if len(_GUARDED) >= 8:
        _GUARDED.clear()
    _GUARDED[id(obj)] = obj


# Objects that passed `guard` (models are frozen): a plan prints one large list in several renders (commands,
# rollback, diff), and re-validating 20,000 entries each time is most of a plan's time. Kept alive while
# cached, so an id is never reused for another object; at most 8 (a plan guards 2-4 objects per list).
_GUARDED: dict[int, Any] = {}


# ---------------------------------------------------------------- what templates may look up

@dataclass
class Context:
    """The host and the objects known around the one being printed (for families, kinds, neighbor groups)."""

    host: Host
    known: DevicePolicy = field(default_factory=DevicePolicy)
    platform: str = ""
    numbering: Callable[[ConcreteFilter, AFI], list["AclLine"]] | None = None
    # Objects already checked in this render (by id; entry ops of one list share its object).
    checked: dict[Any, Any] = field(default_factory=dict)

    def acl_lines(self, f: ConcreteFilter, family: AFI) -> list["AclLine"]:
        return (self.numbering or acl_lines)(f, family)

    @property
    def asn(self) -> int:
        if self.host.data.bgp is None:
            raise UnsupportedConstruct(f"host {self.host.name} has no bgp section in the inventory: cannot bind route-maps")
        return self.host.data.bgp.asn

    def prefix_list(self, name: str) -> PrefixList:
        pl = self.known.prefix_lists.get(name)
        if pl is None:
            raise UnsupportedConstruct(f"prefix-list {name} is referenced but neither in the change nor in the shared objects: "
                                       "its address family is unknown")
        return pl

    def pl_family(self, name: str) -> AFI:
        return self.prefix_list(name).family

    def community_kind(self, name: str) -> str:
        cl = self.known.community_lists.get(name)
        return cl.kind if cl else "standard"

    def neighbor(self, b: NeighborBinding):
        bgp = self.host.data.bgp
        n = bgp.neighbor(str(b.neighbor)) if bgp else None
        if n is None:
            raise UnsupportedConstruct(f"{b.neighbor} is not a BGP neighbor of {self.host.name} in the inventory")
        return n

    def extra(self, key: str, default: Any = None) -> Any:
        """Host data the user added for one platform (HostData allows extra keys)."""
        return (self.host.data.model_extra or {}).get(key, default)


# ---------------------------------------------------------------- firewall rules -> platform-neutral ACE fields

@dataclass(frozen=True)
class Ace:
    """One access-control line before platform formatting: None means 'any'. Matches an ACL line holds one
    value of (ICMP type, DSCP) are split out here; the rest (state, TCP flags, fragment, hop limit) is the
    rule's, printed on every line of it."""

    rule: Rule
    src: Network | None
    dst: Network | None
    protocol: str | None
    sport: PortRange | None
    dport: PortRange | None
    icmp_type: int | None = None
    icmp_code: int | None = None
    dscp: int | None = None

    @property
    def action(self) -> str:
        return self.rule.action


# One term of a line-per-match ACL may expand to this many entries. Beyond it, printing (and diffing) the
# cross product takes seconds per platform (60 x 60 x 60 = 216,000 lines held `render` for a minute) and
# the ACL would not fit a device's hardware anyway; nftables keeps such a term as one rule with sets.
MAX_TERM_ACES = 10_000


def remaining(nets: Iterable[Network], excludes: Iterable[Network], family: AFI) -> list[Network]:
    """`nets` (none: any address of `family`) minus `excludes`, as prefixes: what a line-per-match ACL,
    which has no exceptions, must list. Empty when everything is excluded (the rule then matches nothing)."""
    excludes = list(excludes)
    out = list(nets) or [ipaddress.ip_network("0.0.0.0/0" if family == "ipv4" else "::/0")]
    xs: list[Any] = excludes  # all of `family`: the stubs type this set algebra for IPv4 or IPv6 alone, not the union
    for x in ipaddress.collapse_addresses(xs) if xs else ():
        nxt: list[Network] = []
        for n in out:
            if n.subnet_of(x):
                continue
            if x.subnet_of(n):
                nxt.extend(n.address_exclude(x))
            else:
                nxt.append(n)
        out = sorted(nxt, key=lambda n: (int(n.network_address), n.prefixlen))
    return out


def _endpoints(nets: tuple[Network, ...], excludes: tuple[Network, ...], family: AFI) -> list[Network | None]:
    if not excludes:
        return list(nets) or [None]
    return [None if n.prefixlen == 0 else n for n in remaining(nets, excludes, family)]


def expand_rule(rule: Rule, where: str = "") -> list[Ace]:
    """The cross product a line-per-match ACL needs: sources x destinations (exclusions subtracted) x specs
    x ports (or ICMP types) x DSCP values."""
    specs: Iterable[ServiceSpec | None] = rule.specs or (None,)
    sources = _endpoints(rule.sources, rule.source_excludes, rule.family)
    destinations = _endpoints(rule.destinations, rule.destination_excludes, rule.family)
    size = len(sources) * len(destinations) * max(len(rule.dscp), 1) * sum(
        max(len(s.source_ports), 1) * max(len(s.destination_ports), 1) * max(len(s.icmp_types), 1) if s else 1
        for s in specs)
    if size > MAX_TERM_ACES:
        raise UnsupportedConstruct(f"{where}term {rule.name} expands to {size:,} ACL entries (sources x destinations x services x "
                                   f"ports; limit {MAX_TERM_ACES:,} per term): split it or use fewer, wider prefixes")
    out = []
    for src in sources:
        for dst in destinations:
            for spec in specs:
                icmp = [(t, spec.icmp_code) for t in spec.icmp_numbers] if spec and spec.icmp_types else [(None, None)]
                for sp in (spec.source_ports if spec and spec.source_ports else (None,)):
                    for dp in (spec.destination_ports if spec and spec.destination_ports else (None,)):
                        for itype, icode in icmp:
                            for d in rule.dscp or (None,):
                                out.append(Ace(rule, src, dst, spec.protocol if spec else None, sp, dp, itype, icode, d))
    return out


_PARSER_LABEL = re.compile(r"(line|seq)\d+")  # names IOS-style parsers give entries no remark named


def ace_canonical(f: ConcreteFilter, counters: str = "entry") -> ConcreteFilter:
    """A filter as a line-per-match ACL keeps it: one rule per ACE (expand_rule), IPv4 before IPv6, each
    named by the remark the renderer writes before it (`name` or `name: description`; a parser reads the
    latter back as the description of an unnamed entry). `counters`: "entry" (per ACE), "family" (one
    switch per ACL: EOS `counters per-entry`) or "implicit" (IOS counts every entry anyway)."""
    rules: list[Rule] = []
    for fam in ("ipv4", "ipv6"):
        fam_rules = f.family_rules(fam)
        any_counter = any(r.counter for r in fam_rules)
        for r in fam_rules:
            if r.description:
                label = r.description if _PARSER_LABEL.fullmatch(r.name) else f"{r.name}: {r.description}"
            else:
                label = r.name
            counter = {"entry": r.counter, "family": any_counter, "implicit": False}[counters]
            for ace in expand_rule(r, f"filter {f.name} "):
                specs = (ace_spec(ace),) if ace.protocol else ()
                rules.append(r.model_copy(update={
                    "name": label, "description": None, "specs": specs, "counter": counter,
                    "sources": (ace.src,) if ace.src else (), "destinations": (ace.dst,) if ace.dst else (),
                    "source_excludes": (), "destination_excludes": (),
                    "dscp": (ace.dscp,) if ace.dscp is not None else ()}))
    return f.model_copy(update={"rules": tuple(rules)})


@functools.lru_cache(maxsize=4096)
def _spec(protocol: str, sport: PortRange | None, dport: PortRange | None, itype: int | None,
          icode: int | None) -> ServiceSpec:
    return ServiceSpec(protocol=protocol, source_ports=(sport,) if sport else (), destination_ports=(dport,) if dport else (),
                       icmp_types=(itype,) if itype is not None else (), icmp_code=icode)


def ace_spec(ace: Ace) -> ServiceSpec:
    """The one-line service of an ACE (what an IOS-style parser reads back from it)."""
    return _spec(ace.protocol, ace.sport, ace.dport, ace.icmp_type, ace.icmp_code)


@dataclass(frozen=True)
class AclLine:
    seq: int
    remark: str | None = None
    ace: Ace | None = None


def acl_lines(f: ConcreteFilter, family: AFI, remark_takes_seq: bool = True, step: int = 10) -> list[AclLine]:
    """Numbered ACL lines: a remark naming each rule, then its ACEs. Positional numbering (10, 20, ...)."""
    out: list[AclLine] = []
    seq = 0
    for rule in f.family_rules(family):
        text = f"{rule.name}: {rule.description}" if rule.description else rule.name
        if remark_takes_seq:
            seq += step
        out.append(AclLine(seq if remark_takes_seq else seq + step, remark=text))
        for ace in expand_rule(rule, f"filter {f.name} "):
            seq += step
            out.append(AclLine(seq, ace=ace))
    return out


def families(f: ConcreteFilter) -> list[AFI]:
    return [fam for fam in ("ipv4", "ipv6") if f.family_rules(fam)]


# ---------------------------------------------------------------- what a platform can match: capabilities as data

# Stateless ACL platforms: `established` is the TCP test (ACK or RST set), nothing else of conntrack exists.
STATELESS_REFUSALS = {
    **{f"state:{s}": f"connection_state {s} needs connection tracking, and these filters are stateless: only "
                     "established (TCP with ACK or RST set) can be expressed" for s in ("new", "related", "invalid", "untracked")},
    "state:established-not-tcp": "connection_state established means TCP with ACK or RST set on this stateless "
                                 "platform: give protocols: [tcp]",
    "fragment+established": "fragments cannot be combined with established",
    "log_rate": "log_rate: logging is rate-limited for the whole device, not per entry",
}
NO_REJECT = {"action:reject": "action reject cannot be expressed (this platform's ACLs only accept / deny)"}

def term_features(rule: Rule) -> list[str]:
    """Every match feature a rule uses beyond addresses, protocols and ports, as keys a driver's
    `term_refusals` may name (each also with `:<family>` appended: a platform may refuse it in one family)."""
    keys: list[str] = []
    if rule.action == "reject":
        keys.append("action:reject")
    for st in rule.states:
        keys.append(f"state:{st}")
    if "established" in rule.states and (not rule.specs or any(s.protocol != "tcp" for s in rule.specs)):
        keys.append("state:established-not-tcp")
    if rule.tcp_flags is not None:
        f = rule.tcp_flags
        keys += ["tcp_flags"] + (["tcp_flags:clear"] if f.clear else []) + (["tcp_flags:several-set"] if len(f.set) > 1 else [])
        if "established" in rule.states:
            keys.append("tcp_flags+established")
    if any(s.icmp_types for s in rule.specs):
        keys.append("icmp_type")
    if any(s.icmp_code is not None for s in rule.specs):
        keys.append("icmp_code")
    if rule.fragment:
        keys.append(f"fragment:{rule.fragment}")
        if "established" in rule.states:
            keys.append("fragment+established")
    if rule.source_excludes or rule.destination_excludes:
        keys.append("exclude")
    if rule.dscp:
        keys.append("dscp")
        if len(rule.dscp) > 1:
            keys.append("dscp:several")
    if rule.hop_limit is not None:
        h = rule.hop_limit
        keys.append("hop_limit")
        if h.lo != h.hi:
            keys.append("hop_limit:range")
            if h.lo != 0 and h.hi != 255:
                keys.append("hop_limit:closed-range")
    if rule.log_rate is not None:
        keys.append("log_rate")
    return keys + [f"{k}:{rule.family}" for k in keys]


def term_problems(platform: str, refusals: dict[str, str], f: ConcreteFilter) -> list[str]:
    """Every term of `f` this platform cannot express, each with the platform's reason (all of them, not
    the first: one validate run or one refused plan lists everything to fix)."""
    out: list[str] = []
    for r in f.rules:
        seen: set[str] = set()
        for key in term_features(r):
            why = refusals.get(key)
            if why is not None and why not in seen:
                seen.add(why)
                out.append(f"{platform}: filter {f.name} term {r.name} ({r.family}): {why}")
    return out


def proto(protocol_names: dict[str, dict[str, str]], protocol: str | None, family: str, any_word: str) -> str:
    """A protocol as the platform spells it: its keyword, else the IANA number."""
    from ..model.firewall import PROTOCOL_NUMBERS

    if protocol is None:
        return any_word
    names = protocol_names.get(family, {})
    if protocol in names:
        return names[protocol]
    return str(PROTOCOL_NUMBERS.get(protocol, protocol))


def is_host(net: Network | None) -> bool:
    return net is not None and net.prefixlen == net.max_prefixlen


# ---------------------------------------------------------------- route-map entry diffs

# How IOS-style CLIs key route-map clauses: a line with the same key replaces the clause (or, for a match on
# IOS, adds a name to it); anything else is a clause of its own.
_CLAUSE_KEYS = sorted(("match ip address prefix-list", "match ipv6 address prefix-list", "match ip next-hop prefix-list",
                       "match ipv6 next-hop prefix-list", "match community", "match large-community", "match as-path",
                       "match aspath-list", "match community-list", "set local-preference", "set metric", "set weight",
                       "set as-path prepend", "set comm-list", "set community", "set large-community", "set ip next-hop",
                       "set ipv6 next-hop", "description", "continue", "on-match goto"), key=len, reverse=True)


def clause_key(line: str) -> str:
    return next((k for k in _CLAUSE_KEYS if line == k or line.startswith(k + " ")), line)


def clause_diff(old: RouteMapEntry, new: RouteMapEntry) -> tuple[RouteMapEntry, RouteMapEntry]:
    """(clauses only in old or changed, clauses only in new or changed) as partial entries of the same seq."""
    def split(a, b, cls):
        gone, come = {}, {}
        for name in cls.model_fields:
            va, vb = getattr(a, name), getattr(b, name)
            if va != vb:
                if va not in (None, ()):
                    gone[name] = va
                if vb not in (None, ()):
                    come[name] = vb
        return cls(**gone), cls(**come)

    m_gone, m_come = split(old.match, new.match, Match)
    s_gone, s_come = split(old.set, new.set, SetClause)
    desc_gone = old.description if old.description != new.description and old.description else None
    desc_come = new.description if old.description != new.description and new.description else None
    cont_gone = old.continue_ if old.continue_ != new.continue_ else None
    cont_come = new.continue_ if old.continue_ != new.continue_ else None
    gone = RouteMapEntry(seq=old.seq, action=old.action, description=desc_gone, match=m_gone, set=s_gone, **{"continue": cont_gone})
    come = RouteMapEntry(seq=new.seq, action=new.action, description=desc_come, match=m_come, set=s_come, **{"continue": cont_come})
    return gone, come


def numbered(entries: Iterable[Any], step: int = 5) -> list[tuple[int, Any]]:
    """Entries with their sequence numbers; a missing seq continues from the last one (as FRR numbers them)."""
    out, last = [], 0
    for e in entries:
        seq = e.seq if getattr(e, "seq", None) else last + step
        out.append((seq, e))
        last = seq
    return out


def seq_of(obj: Any, entry: Any) -> int:
    """The seq an entry has (or gets) within its list."""
    if getattr(entry, "seq", None):  # its own (no scan of the list: printing n entries stays O(n))
        return entry.seq
    for seq, e in numbered(obj.entries):
        if e == entry:
            return seq
    return entry.seq if getattr(entry, "seq", None) else numbered(obj.entries)[-1][0] + 5 if obj.entries else 5


def with_entry(obj: Any, old: Any, new: Any | None) -> Any:
    """obj with entry `old` replaced by `new` (or removed, or `new` appended when `old` is None)."""
    entries = [e for e in obj.entries if e != old] if old is not None else list(obj.entries)
    if new is not None and new not in entries:
        entries.append(new)
        if all(getattr(e, "seq", None) for e in entries):
            entries.sort(key=lambda e: e.seq)
    return obj.model_copy(update={"entries": tuple(entries)})


def _holds_at_seq(obj: Any, old: Any, new: Any, ctx: Context) -> bool:
    """Is `obj` already `with_entry(obj, old, new)` (the diff's ModifyEntry carries the edited object)?
    Answered from a per-render seq index, so n entry edits of one list cost O(n), not O(n^2)."""
    seq = getattr(new, "seq", None)
    if seq is None or getattr(old, "seq", None) != seq:
        return False
    key = ("seq-index", id(obj))
    cached = ctx.checked.get(key)
    if cached is None or cached[0] is not obj:
        cached = (obj, {getattr(e, "seq", None): e for e in obj.entries})
        ctx.checked[key] = cached
    return cached[1].get(seq) is new


# ---------------------------------------------------------------- the driver base

def _desired_policy(desired: list[Desired], known: DevicePolicy | None) -> DevicePolicy:
    pol = known.copy() if known else DevicePolicy()
    for d in desired:
        if d.obj is not None:
            pol.put(d.kind, d.key, d.obj)
    return pol


class TemplateDriver(Driver):
    """A driver whose text comes from templates/<platform>/macros.j2; platform modules declare data and checks."""

    # Line-per-match ACL platforms: how they keep counters (see ace_canonical); None: filters are not ACLs.
    acl_counters: ClassVar[str | None] = None
    # Which object kinds the platform can carry at all (FRR: no traffic filters; nftables: no BGP).
    kinds: ClassVar[frozenset[str]] = frozenset(KIND_ORDER)
    # Line-mode platforms that reject a duplicate prefix-list seq need remove-then-add for a changed entry.
    prefix_list_seq_overwrite: ClassVar[bool] = False
    # A second `match ... prefix-list|community|as-path` adds its name to the clause (IOS) instead of replacing it.
    match_names_accumulate: ClassVar[bool] = False
    # Community/AS-path entries addressable by seq; otherwise an entry edit rewrites the whole list.
    community_list_seq: ClassVar[bool] = True
    as_path_list_seq: ClassVar[bool] = True
    # How ReplaceFilter is printed: "sequence" edits, a "versioned" name swap, "rewrite" (atomic commit).
    filter_replace: ClassVar[str] = "rewrite"
    # The unbind command needs the bound route-map's name.
    unbind_needs_name: ClassVar[bool] = True
    # Protocol keywords per family where the CLI has one; numbers otherwise.
    protocol_names: ClassVar[dict[str, dict[str, str]]] = {"ipv4": {}, "ipv6": {}}
    # Characters free text (descriptions, remarks) cannot carry on this CLI, each with the reason: the
    # `device_text` filter refuses them. Everything else prints literally as the rest of the line.
    text_refused: ClassVar[dict[str, str]] = {}
    # Term matches this platform cannot express, keyed as `term_features` names them, each with the reason
    # a refusal gives (the same table `netchange validate` reports from, rule NC180). See docs/FIREWALL.md.
    term_refusals: ClassVar[dict[str, str]] = {}
    # Whether `"` delimits strings on this CLI (Junos, nft): then every printed line's quotes must balance.
    # Cisco-style CLIs take a description as the rest of the line, quotes included (FRR 8.4: measured).
    quoted_strings: ClassVar[bool] = True

    # -- template access
    @cached_property
    def macros(self) -> Any:
        return environment().get_template(f"{self.platform.value}/macros.j2").make_module(self.template_vars())

    def template_vars(self) -> dict[str, Any]:
        """Platform data the macros print from (protocol names, keywords): declared by the platform module."""
        return {"protocol_names": self.protocol_names, "platform": self.platform.value,
                "text_refused": self.text_refused}

    def emit(self, macro: str, *args: Any) -> list[str]:
        fn = getattr(self.macros, macro, None)
        if fn is None:
            raise UnsupportedConstruct(f"{self.platform.value}: no template for {macro}")
        return single_lines(str(fn(*args)), self.quoted_strings)

    def note(self, text: str) -> list[str]:
        """A comment line in the platform's syntax (only identifiers and fixed words reach it)."""
        return self.emit("note", text)

    # -- capability checks, per platform (raise UnsupportedConstruct)
    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        guard(kind, obj)
        if kind not in self.kinds:
            raise UnsupportedConstruct(self.unsupported_kind_message(kind, getattr(obj, "name", obj)))
        why = self.capability_refusal(kind, obj) if obj is not None and not isinstance(obj, str) else None
        if why:
            self.refuse(why)
        if kind == "filter":
            problems = self.filter_problems(obj)
            if problems:
                raise UnsupportedConstruct("\n".join(problems))

    def check_once(self, kind: str, obj: Any, ctx: Context) -> None:
        """`check`, once per object per render: n entry ops on one list would otherwise re-check it n times."""
        if ctx.checked.get(id(obj)) is not obj:
            self.check(kind, obj, ctx)
            ctx.checked[id(obj)] = obj

    def check_interface_filter(self, f: ConcreteFilter) -> None:
        """Interface ACL platforms: attachments need interface + direction."""
        for att in f.attachments:
            if att.interface is None:
                self.refuse(f"filter {f.name}: attachment to nftables hook {att.hook} has no meaning here (needs an interface)")

    def filter_problems(self, f: ConcreteFilter) -> list[str]:
        """Every term of `f` this platform cannot express (its `term_refusals`), each with the reason."""
        return term_problems(self.platform.value, self.term_refusals, f)

    def unsupported_kind_message(self, kind: str, name: object) -> str:
        return f"{self.platform.value} cannot carry a {kind.replace('_', '-')} ({name})"

    def refuse(self, what: str) -> NoReturn:
        raise UnsupportedConstruct(f"{self.platform.value}: {what}")

    # -- public API
    def context(self, host: Host, known: DevicePolicy | None = None) -> Context:
        return Context(host=host, known=known or DevicePolicy(), platform=self.platform.value, numbering=self.numbered_acl)

    def render(self, desired: list[Desired], host: Host, known: DevicePolicy | None = None) -> str:
        """Absent objects are removed first (bindings before what they use), then present ones are defined."""
        policy = _desired_policy(desired, known)
        ops: list[O.Op] = []
        order = {k: i for i, k in enumerate(KIND_ORDER)}
        for d in sorted((d for d in desired if d.obj is None), key=lambda d: -order[d.kind]):
            ops.append(O.Unbind(d.kind, _key_name(d.key), _absent_binding(d.key)) if d.kind == "binding"
                       else O.Delete(d.kind, str(d.key), None))
        for d in sorted((d for d in desired if d.obj is not None), key=lambda d: order[d.kind]):
            ops.append(O.Bind(d.kind, _key_name(d.key), d.obj) if d.kind == "binding" else O.Create(d.kind, str(d.key), d.obj))
        lines = self.render_ops(ops, policy, host)
        return "\n".join(lines) + "\n" if lines else ""

    def render_ops(self, ops: list[O.Op], intended: DevicePolicy, host: Host) -> list[str]:
        """Ops in their order, except that the entry ops of one list print together where its first one
        stands (`list_edit`: staged where every line is live, one rewrite where entries have no seq)."""
        ctx = self.context(host, intended)
        lists = _list_edits(ops)
        lines: list[str] = []
        i = 0
        while i < len(ops):
            op = ops[i]
            if isinstance(op, (O.Bind, O.Unbind)):
                group = []
                while i < len(ops) and isinstance(ops[i], (O.Bind, O.Unbind)):
                    group.append(ops[i])
                    i += 1
                lines += self.binding_lines(group, ctx)
                continue
            if isinstance(op, O.Repoint):
                lines += self.repoint(op, ctx)
                i += 1
                continue
            key = (op.kind, op.name)
            if _entry_op(op) and key in lists:
                edits = lists[key]
                if op is edits[0]:  # the list's other entry ops print with it
                    lines += self.list_edit(op.kind, edits, ctx)
            else:
                lines += self.op_lines(op, ctx)
            i += 1
        return lines

    # -- lists, line by line
    @property
    def live_lines(self) -> bool:
        """Every line is live as it is typed (no configure session, no candidate, no atomic file)."""
        return not self.commit_mode.atomic

    def list_edit(self, kind: Kind, ops: list[EntryOp], ctx: Context) -> list[str]:
        """All entry ops of one list. Where lines apply one by one they are staged (model.staging.staged_edit):
        no input ever gets a result neither version of the list gives; where a commit applies them at once,
        one op after the other. Lists without addressable entries are rewritten once, old to new."""
        old, new = _before_after(ops)
        if not self.entry_addressable(kind):
            return self.rewrite_list(kind, old, new, ctx)
        if not self.live_lines:
            return [line for op in ops for line in self.op_lines(op, ctx)]
        self.check_once(kind, new, ctx)
        try:
            steps = staged_edit({e.seq: e for e in old.entries}, {e.seq: e for e in new.entries},
                                lambda o, n: self.prefix_list_seq_overwrite, _same_match)
        except NoRoom as e:
            self.refuse(f"{kind.replace('_', '-')} {new.name}: the entry at seq {e.seq} changes, and without a free "
                        "sequence number beside it the edit cannot be made without a moment where the list matches "
                        "what neither version matches; leave gaps between sequence numbers, or use strategy: versioned")
        out: list[str] = []
        for st in steps:
            ent = st.entry if st.entry.seq == st.seq else st.entry.model_copy(update={"seq": st.seq})
            out += self.emit(f"{kind}_entry", new, ent, ctx) if st.verb == "add" else self.emit(f"no_{kind}_entry", old, ent, ctx)
        return out

    def rewrite_list(self, kind: Kind, old: Any, new: Any, ctx: Context) -> list[str]:
        """A list whose entries the device keeps without sequence numbers, from `old` to `new`. Where a commit
        applies the lines at once: delete and define. Line by line, such lists only take entries at their end:
        new entries are appended; anything else would leave the list missing while route-maps match it (on
        IOS a route-map matching a missing list matches every route), so it is refused while in use."""
        self.check_once(kind, new, ctx)
        if not self.live_lines:
            return self.rewrite(kind, old, new, ctx)
        if list(new.entries[:len(old.entries)]) == list(old.entries):
            return [line for e in new.entries[len(old.entries):] for line in self.emit(f"{kind}_entry", new, e, ctx)]
        users = ctx.known.route_maps_using(kind, new.name)
        if users:
            self.refuse(f"{kind.replace('_', '-')} {new.name}: its entries have no sequence numbers, so a line-by-line CLI "
                        "only appends to it; removing or reordering entries means rewriting the list, which route-map "
                        f"{', '.join(users)} would meanwhile see missing; use strategy: versioned")
        return self.rewrite(kind, old, new, ctx)

    # -- one op
    def op_lines(self, op: O.Op, ctx: Context) -> list[str]:
        kind = op.kind
        if isinstance(op, O.Delete) and op.obj is None and kind not in self.kinds:
            return self.note(f"{kind.replace('_', '-')} {op.name} absent: {self.platform.value} carries none, nothing to remove")
        if isinstance(op, O.ReplaceFilter):
            return self.replace_filter(op.old, op.new, ctx)
        if isinstance(op, O.Rewrite):
            return self.rewrite_list(kind, op.old, op.new, ctx)
        if kind == "filter":
            return self.filter_op(op, ctx)
        if isinstance(op, O.Create):
            self.check_once(kind, op.obj, ctx)
            return self.emit(kind, op.obj, ctx)
        if isinstance(op, O.Delete):
            if op.obj is None:
                return self.delete_by_name(kind, op.name, ctx)
            return self.emit(f"no_{kind}", op.obj, ctx)
        if isinstance(op, O.AddEntry):
            self.check_once(kind, op.obj, ctx)
            return self.add_entry(kind, op.obj, op.entry, ctx)
        if isinstance(op, O.RemoveEntry):
            return self.remove_entry(kind, op.obj, op.entry, ctx)
        if isinstance(op, O.ModifyEntry):
            after = op.obj if _holds_at_seq(op.obj, op.old, op.new, ctx) else with_entry(op.obj, op.old, op.new)
            self.check_once(kind, after, ctx)
            return self.modify_entry(kind, after, op.old, op.new, ctx)
        raise UnsupportedConstruct(f"{self.platform.value}: cannot print {op.verb} {kind} {op.name}")

    def entry_addressable(self, kind: str) -> bool:
        return {"community_list": self.community_list_seq, "as_path_list": self.as_path_list_seq}.get(kind, True)

    def rewrite(self, kind: str, before: Any, after: Any, ctx: Context) -> list[str]:
        """Whole-list replacement for lists whose entries have no addressable seq."""
        return self.emit(f"no_{kind}", before, ctx) + (self.emit(kind, after, ctx) if after.entries else [])

    def add_entry(self, kind: str, obj: Any, entry: Any, ctx: Context) -> list[str]:
        if not self.entry_addressable(kind):
            return self.rewrite(kind, with_entry(obj, entry, None), obj, ctx)
        return self.emit(f"{kind}_entry", obj, entry, ctx)

    def remove_entry(self, kind: str, obj: Any, entry: Any, ctx: Context) -> list[str]:
        if not self.entry_addressable(kind):
            return self.rewrite(kind, obj, with_entry(obj, entry, None), ctx)
        return self.emit(f"no_{kind}_entry", obj, entry, ctx)

    def modify_entry(self, kind: str, obj: Any, old: Any, new: Any, ctx: Context) -> list[str]:
        if kind == "route_map" and self.live_lines:
            return self.route_map_entry_in_place(obj, old, new, ctx)
        if kind == "route_map":
            if old.action != new.action:  # inside a session or candidate: recreate the entry
                return self.emit("no_route_map_entry", obj, old, ctx) + self.emit("route_map_entry", obj, new, ctx)
            gone, come = clause_diff(old, new)
            return self.emit("route_map_entry_edit", obj, gone, come, ctx)
        if not self.entry_addressable(kind):
            return self.rewrite(kind, with_entry(obj, new, old), obj, ctx)
        if kind == "prefix_list" and self.prefix_list_seq_overwrite:
            return self.emit("prefix_list_entry", obj, new, ctx)
        return self.emit(f"no_{kind}_entry", obj, old, ctx) + self.emit(f"{kind}_entry", obj, new, ctx)

    def clause_lines(self, e: RouteMapEntry, ctx: Context) -> list[str]:
        """An entry's clauses as the platform prints them, one line each."""
        return [ln.strip() for ln in str(self.macros.entry_clauses(e, ctx)).split("\n") if ln.strip()]

    def clause_edits(self, old: RouteMapEntry, new: RouteMapEntry, ctx: Context) -> tuple[list[tuple[str, str]], int]:
        """The lines that make entry `old` into `new` in place, (verb, clause) with verb "add" | "no", and how
        many of them change what a route gets (a description changes nothing; on IOS a match that swaps one
        name for another takes two lines but one step: routes match the old name or the new one throughout)."""
        before = {clause_key(ln): ln for ln in self.clause_lines(old, ctx)}
        after = self.clause_lines(new, ctx)
        edits: list[tuple[str, str]] = []
        gone: list[tuple[str, str]] = []
        steps = int(old.action != new.action)
        for ln in after:
            k = clause_key(ln)
            was = before.get(k)
            if was == ln:
                continue
            edits.append(("add", ln))
            steps += k != "description"
            if was is not None and k.startswith("match ") and self.match_names_accumulate:
                gone.append(("no", was))
        keys = {clause_key(ln) for ln in after}
        for k, ln in before.items():
            if k not in keys:
                gone.append(("no", ln))
                steps += k != "description"
        return edits + gone, steps

    def route_map_entry_in_place(self, rm: Any, old: RouteMapEntry, new: RouteMapEntry, ctx: Context) -> list[str]:
        """Where each line is live: enter the entry with its new action (an existing entry keeps its clauses),
        write each changed or new clause (a `set`, a description, a continue, and on CLIs whose match takes one
        name a `match`, replace their old value where they stand), then take away what went (on IOS, where a
        second `match ... prefix-list` adds a name, the old name after the new one is in)."""
        edits, _ = self.clause_edits(old, new, ctx)
        return self.emit("route_map_entry_lines", rm, new.seq, new.action, edits, ctx)

    def route_map_edit_in_place(self, old: Any, new: Any, ctx: Context) -> bool:
        """Whether route-map `old` becomes `new` line by line with every intermediate route-map giving each
        route its old or its new result: one step (an entry removed, an entry without clauses added, one
        clause of one entry written or taken away, an action flipped), or several entries each changing one
        `set` clause only, where no entry continues to another (each route then meets one changed entry).
        A new entry with clauses never is: its header line makes it match every route before its `match`
        arrives. Otherwise plan/shadow.py edits the route-map while nothing uses it."""
        olds, news = {e.seq: e for e in old.entries}, {e.seq: e for e in new.entries}
        changed = sorted(s for s in olds.keys() | news.keys() if olds.get(s) != news.get(s))
        steps, set_only = [], True
        for s in changed:
            o, n = olds.get(s), news.get(s)
            if o is None:
                steps.append(1 if not self.clause_lines(news[s], ctx) else 2)
                set_only = False
            elif n is None:
                steps.append(1)
                set_only = False
            else:
                steps.append(self.clause_edits(o, n, ctx)[1])
                set_only = set_only and o.action == n.action and o.match == n.match and o.continue_ == n.continue_
        if len(changed) <= 1:
            return sum(steps) <= 1
        no_continue = all(e.continue_ is None for e in (*old.entries, *new.entries))
        return set_only and no_continue and all(n <= 1 for n in steps)

    def delete_by_name(self, kind: str, name: str, ctx: Context) -> list[str]:
        """Removal when only the name is known (render of an absent object): macro no_<kind>_named."""
        guard_identifier(name, f"{kind} name")
        return self.emit(f"no_{kind}_named", name, ctx)

    # -- lines that name objects
    def repoint(self, op: O.Repoint, ctx: Context) -> list[str]:
        """The device's own line (and the lines that open its mode), re-issued naming `op.to`."""
        if not op.use.repointable:
            self.refuse(f"{op.use.who} names {op.use.kind.replace('_', '-')} {op.use.name} in a way netchange "
                        "cannot re-point (a policy expression)")
        guard_identifier(op.to, f"{op.use.kind} name")
        return self.emit("repoint", op.use, op.to, ctx)

    # -- bindings
    def binding_lines(self, group: list[O.Op], ctx: Context) -> list[str]:
        changes = []
        for op in group:
            assert isinstance(op, (O.Bind, O.Unbind))  # render_ops groups only these
            self.check("binding", op.binding, ctx)
            if not op.binding.is_group:  # a group's members are the device's own (DevicePolicy.peer_groups)
                ctx.neighbor(op.binding)
            if isinstance(op, O.Bind):
                changes.append(("bind", op.binding, op.old))
            elif op.binding.route_map is None and self.unbind_needs_name:
                changes.append(("unknown", op.binding, None))
            else:
                changes.append(("unbind", op.binding, None))
        return self.emit("bgp_bindings", ctx.asn, changes, ctx)

    # -- filters
    def filter_op(self, op: O.Op, ctx: Context) -> list[str]:
        if isinstance(op, O.Create):
            self.check("filter", op.obj, ctx)
            return self.define_filter(op.obj, ctx) + self.attach_all(op.obj, op.obj.name, ctx)
        if isinstance(op, O.Delete):
            if op.obj is None:
                return self.delete_by_name("filter", op.name, ctx)
            return self.detach_all(op.obj, op.obj.name, ctx) + self.undefine_filter(op.obj, op.obj.name, ctx)
        raise UnsupportedConstruct(f"{self.platform.value}: filters change through ReplaceFilter, not {op.verb}")

    def define_filter(self, f: ConcreteFilter, ctx: Context, name: str | None = None) -> list[str]:
        out = []
        for fam in families(f):
            out += self.emit("acl", f, fam, name or f.name, ctx)
        return out

    def undefine_filter(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for fam in families(f) or ["ipv4"] for line in self.emit("no_acl", f, fam, name, ctx)]

    def attach_all(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for att in f.attachments for fam in families(f) for line in self.emit("attach_filter", name, att, fam, ctx)]

    def detach_all(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for att in f.attachments for fam in families(f) for line in self.emit("detach_filter", name, att, fam, ctx)]

    def replace_filter(self, old: ConcreteFilter | None, new: ConcreteFilter, ctx: Context) -> list[str]:
        self.check("filter", new, ctx)
        if old is None:
            return self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)
        if self.filter_replace == "sequence":
            return self.sequence_edit(old, new, ctx)
        if self.filter_replace == "versioned":
            return self.versioned_swap(old, new, ctx)
        return self.undefine_filter(old, old.name, ctx) + self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)

    def sequence_edit(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Per family: `no SEQ` for lines that changed or went, then the new lines, inside the ACL (inside a
        configure session: the commit applies them at once). Where every line is live: `staged_acl_edit`."""
        if self.live_lines:
            return self.staged_acl_edit(old, new, ctx)
        out: list[str] = []
        for fam in ("ipv4", "ipv6"):
            # keyed by (seq, is-remark): on AOS-CX a comment shares its ACE's seq number
            before = {(ln.seq, ln.remark is None): ln for ln in self.numbered_acl(old, fam)}
            after = {(ln.seq, ln.remark is None): ln for ln in self.numbered_acl(new, fam)}
            if not after:
                if before:
                    out += self.emit("no_acl", old, fam, old.name, ctx)
                continue

            def same(a: AclLine, b: AclLine) -> bool:
                return self.emit("acl_line", a, fam, ctx) == self.emit("acl_line", b, fam, ctx)  # noqa: B023 (used in this iteration only)

            gone = [before[k] for k in sorted(before) if k not in after or not same(before[k], after[k])]
            gone_seqs = sorted({g.seq for g in gone})  # `no SEQ` removes everything under that seq
            come = [after[k] for k in sorted(after) if k not in before or k[0] in gone_seqs]
            if gone or come:
                out += self.emit("acl_edit", new, fam, gone_seqs, come, ctx)
        old_atts = {(a.interface, a.direction, a.hook) for a in old.attachments}
        out += [line for att in new.attachments if (att.interface, att.direction, att.hook) not in old_atts
                for fam in families(new) for line in self.emit("attach_filter", new.name, att, fam, ctx)]
        return out

    def numbered_acl(self, f: ConcreteFilter, family: AFI) -> list[AclLine]:
        return acl_lines(f, family)

    def staged_acl_edit(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Sequence edits of an attached ACL where each line is live at once (AOS-CX): the sequence numbers
        are positions of a first-match list, staged like a list edit (model.staging.staged_edit): new lines and
        copies of changed ones (at a free number beside them) go in first, ascending; old lines go after,
        descending. No packet is ever judged by a list neither version of the filter would be."""
        out: list[str] = []
        for fam in ("ipv4", "ipv6"):
            before = _acl_positions(self.numbered_acl(old, fam))
            after = _acl_positions(self.numbered_acl(new, fam))
            if not after:
                if before:
                    out += self.emit("no_acl", old, fam, old.name, ctx)
                continue

            def text(pos: tuple[AclLine, ...], fam: str = fam) -> tuple[str, ...]:
                return tuple(line for ln in pos for line in self.emit("acl_line", ln, fam, ctx))

            b_text = {s: text(p) for s, p in before.items()}
            a_text = {s: text(p) for s, p in after.items()}
            try:
                steps = staged_edit({s: (b_text[s], p) for s, p in before.items()}, {s: (a_text[s], p) for s, p in after.items()},
                                    in_place=lambda o, n: _remark_of(o[1]) is None or _remark_of(n[1]) is not None,
                                    same_match=lambda o, n: _ace_match(o[1]) == _ace_match(n[1]) is not None,
                                    max_seq=4294967295)
            except NoRoom as e:
                self.refuse(f"filter {new.name}: line {e.seq} changes and no free sequence number is next to it for a "
                            "copy; without one the edit opens a moment where the ACL is neither version; renumber it")
            edits: list[tuple[str, int | AclLine]] = []
            for st in steps:
                if st.verb == "remove":
                    edits.append(("no", st.seq))
                    continue
                lines = st.entry[1] if st.seq in after and after[st.seq] is st.entry[1] else \
                    tuple(dataclasses.replace(ln, seq=st.seq) for ln in st.entry[1] if ln.remark is None)
                edits += [("line", ln) for ln in lines]
            if edits:
                out += self.emit("acl_staged", new, fam, edits, ctx)
        old_atts = {(a.interface, a.direction, a.hook) for a in old.attachments}
        out += [line for att in new.attachments if (att.interface, att.direction, att.hook) not in old_atts
                for fam in families(new) for line in self.emit("attach_filter", new.name, att, fam, ctx)]
        return out

    def versioned_swap(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Replace a filter through a temporary copy: define NAME-v<N> with the new rules and point every
        attachment at it (one command each), redefine NAME while nothing uses it, point the attachments back
        and drop the copy. At every moment an interface is filtered by the old or the new rules, and the device
        keeps the change's name, so planning again finds nothing (a swap that kept NAME-v<N> never converged)."""
        taken = set(ctx.known.filters) | {old.name, new.name}
        tmp = next_version(old.name, new.name)
        while tmp in taken:
            tmp = next_version(tmp, new.name)
        gone = [line for att in old.attachments if att not in new.attachments for fam in families(old)
                for line in self.emit("detach_filter", old.name, att, fam, ctx)]
        return (self.define_filter(new, ctx, tmp) + self.attach_all(new, tmp, ctx) + gone
                + self.undefine_filter(old, old.name, ctx) + self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)
                + self.undefine_filter(new, tmp, ctx))

    # -- refresh
    def refresh_commands(self, neighbor: str, afi: str, direction: str) -> list[str]:
        nbr = str(parse_address(neighbor))  # refuses anything that is not a global address (no scope)
        if afi not in ("ipv4", "ipv6") or direction not in ("in", "out"):
            raise ValueError(f"afi must be ipv4|ipv6 and direction in|out, not {afi}/{direction}")
        if self.refresh_mode in ("on_commit", "none") or (direction == "out" and not self.capabilities.soft_out):
            return []
        return self.emit("refresh", nbr, afi, direction)

    # -- parse delegates to pipeline.parsers.<platform>
    def canonical(self, kind: str, obj: Any) -> Any:
        """Filters as the platform's ACLs keep them (ace_canonical); prefix-lists with one spelling of each
        length range; community and AS-path lists without the sequence numbers a platform does not keep."""
        if obj is None:
            return obj
        if kind == "filter":
            return ace_canonical(obj, self.acl_counters) if self.acl_counters is not None else obj
        if kind == "prefix_list":
            return canonical_lists.prefix_list(obj)
        if kind in ("community_list", "as_path_list") and not self.keeps_seq(kind):
            return canonical_lists.unnumbered(obj)
        return obj

    def keeps_seq(self, kind: str) -> bool:
        """Whether the device keeps (and prints) the entries' sequence numbers of this list kind."""
        return {"community_list": self.community_list_seq, "as_path_list": self.as_path_list_seq}.get(kind, True)

    def prepare(self) -> None:
        import importlib

        importlib.import_module(f"pipeline.parsers.{self.platform.value}")
        self.macros  # noqa: B018 - compiles the platform's templates

    def parse(self, text: str, focus: Any = None) -> DevicePolicy:
        """`focus` (pipeline.parsers.iosstyle.Focus) lets IOS-style parsers read only what a plan needs."""
        import importlib

        module = importlib.import_module(f"pipeline.parsers.{self.platform.value}")
        if focus is not None and hasattr(module, "Focus"):
            return module.parse(text, focus=focus)
        return module.parse(text)


LIST_KINDS = ("prefix_list", "community_list", "as_path_list")


EntryOp = O.AddEntry | O.RemoveEntry | O.ModifyEntry


def _entry_op(op: O.Op) -> TypeGuard[EntryOp]:
    return isinstance(op, (O.AddEntry, O.RemoveEntry, O.ModifyEntry))


def _list_edits(ops: list[O.Op]) -> dict[tuple[str, str], list[EntryOp]]:
    """Entry ops of each list, in order; a list whose entries lack sequence numbers is left to op_lines."""
    out: dict[tuple[str, str], list[EntryOp]] = {}
    for op in ops:
        if _entry_op(op) and op.kind in LIST_KINDS:
            out.setdefault((op.kind, op.name), []).append(op)
    return {k: v for k, v in out.items() if all(_edited(op).seq is not None for op in v)}


def _edited(op: EntryOp) -> Any:
    """The entry an entry op writes or removes."""
    return op.new if isinstance(op, O.ModifyEntry) else op.entry


def _acl_positions(lines: list[AclLine]) -> dict[int, tuple[AclLine, ...]]:
    """Numbered ACL lines by sequence number (an AOS-CX comment shares its ACE's number), remark first."""
    out: dict[int, tuple[AclLine, ...]] = {}
    for ln in lines:
        out[ln.seq] = tuple(sorted(out.get(ln.seq, ()) + (ln,), key=lambda x: x.remark is None))
    return out


def _remark_of(pos: tuple[AclLine, ...]) -> str | None:
    return next((ln.remark for ln in pos if ln.remark is not None), None)


def _ace_match(pos: tuple[AclLine, ...]) -> tuple | None:
    """What an ACL position matches (its ACE without action, log or counter), None for a remark alone."""
    a = next((ln.ace for ln in pos if ln.ace is not None), None)
    return None if a is None else (a.src, a.dst, a.protocol, a.sport, a.dport)


def _same_match(old: Any, new: Any) -> bool:
    """Two versions of one list entry that match the same routes (only the action or description differ)."""
    return old.model_copy(update={"action": new.action, "seq": new.seq, "description": getattr(new, "description", None)}
                          if hasattr(new, "description") else {"action": new.action, "seq": new.seq}) == new


def _before_after(ops: list[EntryOp]) -> tuple[Any, Any]:
    """The list before and after its entry ops (each op carries one of the two versions)."""
    base = next((op.obj for op in ops if isinstance(op, (O.AddEntry, O.ModifyEntry))), None)
    if base is not None:
        entries = {e.seq: e for e in base.entries}
        for op in ops:
            if isinstance(op, O.AddEntry):
                entries.pop(op.entry.seq, None)
            elif isinstance(op, O.ModifyEntry):
                entries[op.old.seq] = op.old
            else:
                entries[op.entry.seq] = op.entry
    else:
        base = ops[0].obj
        entries = {e.seq: e for e in base.entries}
    old = dict(entries)
    for op in ops:
        if isinstance(op, (O.AddEntry, O.ModifyEntry)):
            e = op.entry if isinstance(op, O.AddEntry) else op.new
            entries[e.seq] = e
        else:
            entries.pop(op.entry.seq, None)
    order = lambda d: tuple(d[k] for k in sorted(d))  # noqa: E731
    return base.model_copy(update={"entries": order(old)}), base.model_copy(update={"entries": order(entries)})


def next_version(device_name: str, base: str) -> str:
    """SERVER-EDGE -> SERVER-EDGE-v1 -> SERVER-EDGE-v2 (the base name is the model's)."""
    m = re.fullmatch(re.escape(base) + r"-v(\d+)", device_name)
    return f"{base}-v{int(m.group(1)) + 1 if m else 1}"


def _key_name(key: object) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _absent_binding(key: object) -> NeighborBinding:
    nbr, afi, direction = cast("tuple[str, str, str]", key)
    return NeighborBinding(neighbor=nbr, afi=afi, direction=direction, state="absent")

