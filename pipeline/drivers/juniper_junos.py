"""Junos: set-format lines into an exclusive candidate, `commit check`, `commit confirmed N` while the deploy's
checks run, then `commit` to confirm (unconfirmed, Junos rolls back by itself). The commit applies policy
changes itself (no soft clear), and a candidate is all-or-nothing, so whole objects are rewritten freely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..inventory import Platform
from ..model.firewall import PortRange
from ..model.policy import Kind, Rule
from ..model.routing import NeighborBinding, PrefixList, PrefixListEntry, RouteMap, RouteMapEntry
from ..parsers import canonical as canonical_lists
from .commit import CandidateMode
from .observers.junos import JunosObserver
from .render.capabilities import STATELESS_REFUSALS
from .render.context import Context
from .render.driver import TemplateDriver
from .render.guards import guard_identifier

FINAL_TERM = "netchange-final-reject"
_VERSION = re.compile(r"\.nc\d+$")  # versioned names (plan/versioned.py): X.nc3 is a version of X


@dataclass(frozen=True)
class JunosTerm:
    """One filter term: a rule whose specs differ in ports or ICMP types is split into <rule>-1, <rule>-2, ..."""

    name: str
    protocols: tuple[str, ...]
    source_ports: tuple[PortRange, ...]
    destination_ports: tuple[PortRange, ...]
    icmp_types: tuple[int, ...] = ()
    icmp_code: int | None = None


_PROTO = {"ipv4": {"icmpv6": "58"}, "ipv6": {"icmpv6": "icmp6", "icmp": "1"}}
# ICMP message names `show configuration` prints (numbers for the rest), per filter family.
JUNOS_ICMP = {
    "ipv4": {0: "echo-reply", 3: "unreachable", 4: "source-quench", 5: "redirect", 8: "echo-request",
             9: "router-advertisement", 10: "router-solicit", 11: "time-exceeded", 12: "parameter-problem",
             13: "timestamp", 14: "timestamp-reply", 15: "info-request", 16: "info-reply", 17: "mask-request",
             18: "mask-reply"},
    "ipv6": {1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
             128: "echo-request", 129: "echo-reply", 130: "membership-query", 131: "membership-report",
             132: "membership-termination", 133: "router-solicit", 134: "router-advertisement",
             135: "neighbor-solicit", 136: "neighbor-advertisement", 137: "redirect", 138: "router-renumbering",
             139: "node-information-query", 140: "node-information-reply"},
}


def junos_icmp(family: str, itype: int) -> str:
    return JUNOS_ICMP[family].get(itype, str(itype))


def junos_flags(rule: Rule) -> str | None:
    """`syn & !ack`: a tcp-flags expression of the rule's flags (set, then clear)."""
    f = rule.tcp_flags
    return None if f is None else " & ".join([*f.set, *(f"!{x}" for x in f.clear)])


def junos_hop(rule: Rule) -> str | None:
    h = rule.hop_limit
    return None if h is None else str(h)


def junos_terms(rule: Rule) -> list[JunosTerm]:
    def name(p: str) -> str:
        return _PROTO[rule.family].get(p, p)

    if not rule.specs:
        return [JunosTerm(rule.name, (), (), ())]
    shapes = {(s.source_ports, s.destination_ports, s.icmp_numbers, s.icmp_code) for s in rule.specs}
    if len(shapes) == 1:
        sp, dp, it, ic = next(iter(shapes))
        return [JunosTerm(rule.name, tuple(name(s.protocol) for s in rule.specs), sp, dp, it, ic)]
    return [JunosTerm(f"{rule.name}-{i}", (name(s.protocol),), s.source_ports, s.destination_ports, s.icmp_numbers,
                      s.icmp_code) for i, s in enumerate(rule.specs, 1)]


def junos_any(rule: Rule, side: str) -> str | None:
    """The any-address prefix a term needs to carry exclusions when it names no addresses of that side."""
    excludes = rule.source_excludes if side == "source" else rule.destination_excludes
    nets = rule.sources if side == "source" else rule.destinations
    if excludes and not nets:
        return "0.0.0.0/0" if rule.family == "ipv4" else "::/0"
    return None


def _no_any(nets: tuple) -> tuple:
    """`0.0.0.0/0` (or `::/0`) among a term's addresses is any address: the parser reads it so."""
    return () if any(n.prefixlen == 0 for n in nets) else nets


def junos_plain(pl: PrefixList) -> bool:
    """A plain prefix-list (exact prefixes) or a route-filter-list (lengths ranges)."""
    return all(e.ge is None and e.le is None for e in pl.entries)


def junos_length_range(e: PrefixListEntry) -> tuple[int, int]:
    lo = e.ge if e.ge is not None else e.prefix.prefixlen
    hi = e.le if e.le is not None else (e.prefix.max_prefixlen if e.ge is not None else e.prefix.prefixlen)
    return lo, hi


def junos_set_communities(e: RouteMapEntry) -> list[tuple[str, tuple[str, ...]]]:
    """(use, members) for the communities a term adds or sets, each in its own generated object."""
    out = []
    if e.set.community_add:
        out.append(("add", tuple(e.set.community_add)))
    if e.set.community_replace:
        out.append(("set", tuple(e.set.community_replace)))
    if e.set.large_community_add:
        out.append(("large-add", tuple(f"large:{c}" for c in e.set.large_community_add)))
    return out


def junos_generated(rm: RouteMap, e: RouteMapEntry, use: str) -> str:
    return f"{rm.name}-{e.seq}-{use}"


def junos_next_term(rm: RouteMap, e: RouteMapEntry) -> str:
    later = sorted(x.seq for x in rm.entries if x.seq > e.seq)
    return str(later[0]) if later else FINAL_TERM


def junos_entry_of(rm: RouteMap, e: RouteMapEntry) -> RouteMapEntry:
    return next((x for x in rm.entries if x.seq == e.seq), e)


def junos_unit(interface: str) -> tuple[str, str]:
    name, _, unit = interface.partition(".")
    return name, unit or "0"


def junos_group(ctx: Context, b: NeighborBinding) -> str:
    """The BGP group a binding is written in: the group itself for a group binding; for a neighbor, the group
    the running config holds it in (DevicePolicy.peer_groups, else the parser's JunosLayout for groups the
    model does not hold; a neighbor in two groups fails the commit), else host data
    `bgp_groups: {address: group}`, else one group per peer AS."""
    if b.is_group:
        return str(b.neighbor)
    held = ctx.known.group_of(str(b.neighbor)) if ctx.known is not None else None
    if held is not None:
        return held
    device = getattr(getattr(ctx.known, "device", None), "bgp_groups", None) or {}
    if str(b.neighbor) in device:
        return device[str(b.neighbor)]
    groups = ctx.extra("bgp_groups", {}) or {}
    if str(b.neighbor) in groups:
        name = str(groups[str(b.neighbor)])
        guard_identifier(name, "bgp group (host data bgp_groups)")
        return name
    return f"AS{ctx.neighbor(b).remote_as}"


class JuniperJunosDriver(TemplateDriver):
    platform = Platform.JUNIPER_JUNOS
    netmiko_device_type = "juniper_junos"
    fetch_command = "show configuration | display set"
    commit_mode = CandidateMode()
    refresh_mode = "on_commit"
    observer_class = JunosObserver
    error_patterns = (r"^error:", r"syntax error", r"^unknown command", r"^missing argument", r"^invalid (value|interface)")
    filter_replace = "rewrite"  # delete + set inside one candidate: atomic at commit
    term_refusals = {
        **STATELESS_REFUSALS,
        "log_rate": "log_rate: Junos `syslog` has no per-term rate (limit it under system syslog)",
        **{f"fragment:{k}:ipv6": "Junos inet6 filters have no first / non-first fragment match (only any "
                                 "fragment header)" for k in ("first", "non-first")},
    }
    unbind_needs_name = False

    def template_vars(self) -> dict[str, Any]:
        return {**super().template_vars(), "junos_terms": junos_terms, "junos_plain": junos_plain,
                "junos_length_range": junos_length_range, "junos_set_communities": junos_set_communities,
                "junos_generated": junos_generated, "junos_next_term": junos_next_term, "junos_entry_of": junos_entry_of,
                "junos_unit": junos_unit, "junos_group": junos_group, "junos_final_term": FINAL_TERM,
                "junos_icmp": junos_icmp, "junos_flags": junos_flags, "junos_hop": junos_hop, "junos_any": junos_any}

    def canonical(self, kind: str, obj: Any) -> Any:
        """Filters as Junos keeps them: one filter per family (`family inet` terms, then `inet6`), terms
        without a description in set form, and an interface without a unit is unit 0 (`ge-0/0/1` is
        configured and read back as `ge-0/0/1 unit 0`). Prefix-lists, route-filter-lists and as-path-groups
        are sets (sorted, numbered 5, 10, ... as the parser reads them); a community has no sequence number."""
        if obj is None:
            return obj
        if kind == "prefix_list":
            return canonical_lists.as_set(canonical_lists.prefix_list(obj), canonical_lists.prefix_key)
        if kind == "as_path_list":
            return canonical_lists.as_set(obj, lambda e: e.regex)
        if kind == "community_list":
            return canonical_lists.unnumbered(obj)
        if kind != "filter":
            return obj
        rules = [r.model_copy(update={"description": None, "sources": _no_any(r.sources),
                                      "destinations": _no_any(r.destinations)})
                 for fam in ("ipv4", "ipv6") for r in obj.family_rules(fam)]
        return obj.model_copy(update={
            "rules": tuple(rules),
            "attachments": tuple(a.model_copy(update={"interface": ".".join(junos_unit(a.interface))})
                                 if a.interface else a for a in obj.attachments)})

    def entry_addressable(self, kind: str) -> bool:
        return kind == "route_map"  # lists are rewritten whole (candidate + commit makes that atomic)

    def rewrite_list(self, kind: Kind, old: Any, new: Any, ctx: Context) -> list[str]:
        """A prefix-list that gains (or loses) length ranges turns into a route-filter-list (or back): the
        policies' `from prefix-list X` statements become `from route-filter-list X` in the same candidate
        (they are found as the device names its terms: JunosLayout.list_refs)."""
        lines = super().rewrite_list(kind, old, new, ctx)
        if kind == "prefix_list" and new.entries and junos_plain(old) != junos_plain(new):
            word = "prefix-list" if junos_plain(new) else "route-filter-list"
            was = "prefix-list" if junos_plain(old) else "route-filter-list"
            # the layout may be read before the change (a rollback's statements still say what the change wrote):
            # each statement is switched from the form the device holds now
            for stmt in getattr(ctx.known.device, "list_refs", {}).get(new.name, ()):
                lines += self.emit("list_ref_switch", (*stmt[:-2], was, stmt[-1]), word, ctx)
        return lines

    def modify_entry(self, kind: str, obj: Any, old: Any, new: Any, ctx: Context) -> list[str]:
        if kind == "route_map":  # `then accept` replaces `then reject`: an action change is an edit too
            from .render.entries import clause_diff

            gone, come = clause_diff(old, new)
            return self.emit("route_map_entry_edit", obj, gone, come, ctx)
        return super().modify_entry(kind, obj, old, new, ctx)

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        getattr(self, f"_check_{kind}", lambda o, c: None)(obj, ctx)

    def _check_prefix_list(self, pl: PrefixList, ctx: Context) -> None:
        if not junos_plain(pl):
            base = _VERSION.sub("", pl.name)
            fw = [u.who for u in ctx.known.uses if u.kind == "prefix_list" and _VERSION.sub("", u.name) == base
                  and u.line[:1] == ("firewall",)]
            if fw:
                self.refuse(f"prefix-list {pl.name} has length ranges (ge/le), which makes it a route-filter-list on "
                            f"Junos, but firewall filters name it as a prefix-list ({'; '.join(sorted(set(fw)))}): "
                            "a filter matches exact prefixes only; use another list for the ranges")
        for e in pl.entries:
            if e.action == "deny":
                self.refuse(f"prefix-list {pl.name} seq {e.seq} is deny: Junos prefix-lists and route-filter-lists are "
                            "sets without ordered deny entries; express the deny as a route-map entry")

    def _check_community_list(self, cl, ctx: Context) -> None:
        if len(cl.entries) != 1 or cl.entries[0].action != "permit":
            self.refuse(f"community-list {cl.name}: Junos communities are one set of members (AND); "
                        "several entries or deny entries cannot be expressed")
        if cl.kind == "large-expanded":
            self.refuse(f"community-list {cl.name}: large-community regular expressions are not supported here")

    def _check_as_path_list(self, al, ctx: Context) -> None:
        for e in al.entries:
            if e.action != "permit":
                self.refuse(f"as-path list {al.name}: Junos as-path groups have no deny entries")
            if "_" in e.regex:
                self.refuse(f"as-path list {al.name}: regex {e.regex!r} uses the Cisco '_' boundary; Junos AS-path "
                            "regexes work on whole AS numbers (write e.g. '^65003 .*')")

    def _check_route_map(self, rm: RouteMap, ctx: Context) -> None:
        entries = sorted(rm.entries, key=lambda e: e.seq)
        for i, e in enumerate(entries):
            where = f"route-map {rm.name} seq {e.seq}"
            if e.set.weight is not None:
                self.refuse(f"{where}: Junos has no BGP weight")
            if e.match.next_hop_prefix_list:
                self.refuse(f"{where}: match next-hop prefix-list is not supported on Junos")
            if e.match.community_list and e.match.large_community_list:
                self.refuse(f"{where}: two community matches in one term would be ORed on Junos")
            if e.continue_ is not None and (i + 1 >= len(entries) or entries[i + 1].seq != e.continue_):
                self.refuse(f"{where}: Junos can only continue to the next term (`then next term`)")
            if e.match.prefix_list and not junos_plain(ctx.prefix_list(e.match.prefix_list)):
                self._check_prefix_list(ctx.prefix_list(e.match.prefix_list), ctx)

    def _check_binding(self, b: NeighborBinding, ctx: Context) -> None:
        if b.is_group:  # a group's import/export reaches its members in every family: they must agree
            other = "ipv6" if b.afi == "ipv4" else "ipv4"
            theirs = ctx.known.bindings.get((str(b.neighbor), other, b.direction))
            if theirs is not None and theirs.route_map != b.route_map:
                self.refuse(f"binding of BGP group {b.neighbor} {b.afi} {b.direction}: the group's import/export "
                            f"applies to its {other} neighbors too (now {theirs.route_map}): bind both families alike")
            return
        if isinstance(b.neighbor, str) or b.afi != ("ipv4" if b.neighbor.version == 4 else "ipv6"):
            self.refuse(f"binding {b.neighbor} {b.afi}: Junos import/export policies are per neighbor, not per "
                        "address family; bind the neighbor in its own family")

    def _check_filter(self, f, ctx: Context) -> None:
        for att in f.attachments:
            if att.interface is None:
                self.refuse(f"filter {f.name}: attachment to nftables hook {att.hook} has no meaning on Junos")


DRIVER = JuniperJunosDriver()
