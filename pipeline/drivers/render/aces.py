"""Firewall rules -> platform-neutral ACE fields: the cross product a line-per-match ACL needs, numbered."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterable


from ...model.base import AFI, Network
from ...model.firewall import PortRange, ServiceSpec
from ...model.policy import ConcreteFilter, Rule
from . import UnsupportedConstruct



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
