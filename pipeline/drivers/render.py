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

import functools
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, ClassVar, Iterable

import jinja2

from ..addresses import parse_address
from ..errors import NetchangeError
from ..inventory import Host
from ..model.base import AFI, Network
from ..model.firewall import PortRange, ServiceSpec
from ..model.policy import KIND_ORDER, ConcreteFilter, DevicePolicy, Rule
from ..model.resolve import Desired
from ..model.routing import Match, NeighborBinding, PrefixList, RouteMapEntry, SetClause
from ..names import _check_identifier, _check_text, control_char, find_line_breaking, shown
from ..model import ops as O
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
        return value
    if kind is int:  # seq numbers, lengths, ASNs: the commonest values, and never a line break
        return str(value)
    text = value if kind is str else str(value)
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
    env.filters.update(junos_quote=junos_quote, nft_quote=nft_quote, device_text=device_text, wildcard=wildcard,
                       netmask=netmask)
    env.globals.update(seq_of=seq_of, numbered=numbered, is_host=is_host, proto=proto)
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

_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


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
    if _LINE_BREAKS.search(json.dumps(obj.model_dump(mode="json"), ensure_ascii=False)):
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
            type(obj).model_validate(obj.model_dump(by_alias=True))
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
    """One access-control line before platform formatting: None means 'any'."""

    rule: Rule
    src: Network | None
    dst: Network | None
    protocol: str | None
    sport: PortRange | None
    dport: PortRange | None

    @property
    def action(self) -> str:
        return self.rule.action


def expand_rule(rule: Rule) -> list[Ace]:
    """The cross product a line-per-match ACL needs: sources x destinations x specs x ports."""
    specs: Iterable[ServiceSpec | None] = rule.specs or (None,)
    out = []
    for src in rule.sources or (None,):
        for dst in rule.destinations or (None,):
            for spec in specs:
                for sp in (spec.source_ports if spec and spec.source_ports else (None,)):
                    for dp in (spec.destination_ports if spec and spec.destination_ports else (None,)):
                        out.append(Ace(rule, src, dst, spec.protocol if spec else None, sp, dp))
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
            for ace in expand_rule(r):
                specs = (ServiceSpec(protocol=ace.protocol, source_ports=(ace.sport,) if ace.sport else (),
                                     destination_ports=(ace.dport,) if ace.dport else ()),) if ace.protocol else ()
                rules.append(r.model_copy(update={
                    "name": label, "description": None, "specs": specs, "counter": counter,
                    "sources": (ace.src,) if ace.src else (), "destinations": (ace.dst,) if ace.dst else ()}))
    return f.model_copy(update={"rules": tuple(rules)})


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
        for ace in expand_rule(rule):
            seq += step
            out.append(AclLine(seq, ace=ace))
    return out


def families(f: ConcreteFilter) -> list[AFI]:
    return [fam for fam in ("ipv4", "ipv6") if f.family_rules(fam)]


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

    def check_once(self, kind: str, obj: Any, ctx: Context) -> None:
        """`check`, once per object per render: n entry ops on one list would otherwise re-check it n times."""
        if ctx.checked.get(id(obj)) is not obj:
            self.check(kind, obj, ctx)
            ctx.checked[id(obj)] = obj

    def check_interface_filter(self, f: ConcreteFilter, actions: frozenset[str] = frozenset({"accept", "deny"})) -> None:
        """Interface ACL platforms: attachments need interface + direction; only the actions they can express."""
        for att in f.attachments:
            if att.interface is None:
                self.refuse(f"filter {f.name}: attachment to nftables hook {att.hook} has no meaning here (needs an interface)")
        for r in f.rules:
            if r.action not in actions:
                self.refuse(f"filter {f.name} term {r.name}: action {r.action} cannot be expressed "
                            f"(this platform's ACLs only {' / '.join(sorted(actions))})")

    def unsupported_kind_message(self, kind: str, name: object) -> str:
        return f"{self.platform.value} cannot carry a {kind.replace('_', '-')} ({name})"

    def refuse(self, what: str) -> None:
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
        ctx = self.context(host, intended)
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
            lines += self.op_lines(op, ctx)
            i += 1
        return lines

    # -- one op
    def op_lines(self, op: O.Op, ctx: Context) -> list[str]:
        kind = op.kind
        if isinstance(op, O.Delete) and op.obj is None and kind not in self.kinds:
            return self.note(f"{kind.replace('_', '-')} {op.name} absent: {self.platform.value} carries none, nothing to remove")
        if isinstance(op, O.ReplaceFilter):
            return self.replace_filter(op.old, op.new, ctx)
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
        if kind == "route_map":
            if old.action != new.action:  # a changed action recreates the entry on every CLI
                return self.emit("no_route_map_entry", obj, old, ctx) + self.emit("route_map_entry", obj, new, ctx)
            gone, come = clause_diff(old, new)
            return self.emit("route_map_entry_edit", obj, gone, come, ctx)
        if not self.entry_addressable(kind):
            return self.rewrite(kind, with_entry(obj, new, old), obj, ctx)
        if kind == "prefix_list" and self.prefix_list_seq_overwrite:
            return self.emit("prefix_list_entry", obj, new, ctx)
        return self.emit(f"no_{kind}_entry", obj, old, ctx) + self.emit(f"{kind}_entry", obj, new, ctx)

    def delete_by_name(self, kind: str, name: str, ctx: Context) -> list[str]:
        """Removal when only the name is known (render of an absent object): macro no_<kind>_named."""
        guard_identifier(name, f"{kind} name")
        return self.emit(f"no_{kind}_named", name, ctx)

    # -- bindings
    def binding_lines(self, group: list[O.Op], ctx: Context) -> list[str]:
        changes = []
        for op in group:
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
        """Per family: `no SEQ` for lines that changed or went, then the new lines, inside the ACL."""
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
                return self.emit("acl_line", a, fam, ctx) == self.emit("acl_line", b, fam, ctx)

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

    def versioned_swap(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Define NAME-v<N+1>, re-point every attachment at it (one command each), then drop the old one."""
        fresh = next_version(old.name, new.name)
        return (self.define_filter(new, ctx, fresh) + self.attach_all(new, fresh, ctx)
                + [line for att in old.attachments if att not in new.attachments for fam in families(old)
                   for line in self.emit("detach_filter", old.name, att, fam, ctx)]
                + self.undefine_filter(old, old.name, ctx))

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
        if kind == "filter" and obj is not None and self.acl_counters is not None:
            return ace_canonical(obj, self.acl_counters)
        return obj

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


def next_version(device_name: str, base: str) -> str:
    """SERVER-EDGE -> SERVER-EDGE-v1 -> SERVER-EDGE-v2 (the base name is the model's)."""
    m = re.fullmatch(re.escape(base) + r"-v(\d+)", device_name)
    return f"{base}-v{int(m.group(1)) + 1 if m else 1}"


def _key_name(key: object) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _absent_binding(key: object) -> NeighborBinding:
    nbr, afi, direction = key  # type: ignore[misc]
    return NeighborBinding(neighbor=nbr, afi=afi, direction=direction, state="absent")

