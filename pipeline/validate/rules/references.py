"""Every name a change uses must resolve: network and service objects, routing lists, route-maps."""

from __future__ import annotations

import ipaddress

from ...errors import InputError
from ...model.base import afi_of
from ...model.firewall import Term
from ...model.resolve import TermMismatch, term_rules
from ..context import Context

_MATCH_KEYS = (("prefix_list", "prefix_list", "prefix-list"), ("next_hop_prefix_list", "prefix_list", "prefix-list"),
               ("community_list", "community_list", "community-list"),
               ("large_community_list", "community_list", "large community-list"),
               ("as_path", "as_path_list", "as-path list"))
_KIND_ATTR = {"prefix_list": "prefix_lists", "community_list": "community_lists", "as_path_list": "as_path_lists",
              "route_map": "route_maps"}


def is_name(ref) -> bool:
    return isinstance(ref, str)


def term_resolvable(term: Term, ctx: Context) -> bool:
    refs = term.sources + term.destinations + term.source_exclude + term.destination_exclude
    return all(r in ctx.store.networks for r in refs if is_name(r)) and \
        all(s in ctx.store.services for s in term.services)


def check(ctx: Context) -> None:
    _firewall(ctx)
    _routing(ctx)


def _firewall(ctx: Context) -> None:
    for fi, f in enumerate(ctx.change.firewall.filters):
        if f.state != "present":
            continue
        for ti, t in enumerate(f.terms):
            base = ("firewall", "filters", fi, "terms", ti)
            for side in ("sources", "destinations", "source_exclude", "destination_exclude"):
                for ri, ref in enumerate(getattr(t, side)):
                    if is_name(ref) and ref not in ctx.store.networks:
                        ctx.report("NC101", f"network object '{ref}' is not defined in policies/objects/networks.yaml", base + (side, ri))
            for si, s in enumerate(t.services):
                if s not in ctx.store.services:
                    ctx.report("NC102", f"service object '{s}' is not defined in policies/objects/services.yaml", base + ("services", si))
            if term_resolvable(t, ctx):
                _families(ctx, f.name, t, base)


def _families(ctx: Context, filter_name: str, t: Term, base: tuple) -> None:
    """A term whose sources are IPv4 and destinations IPv6 would be split into 'v4 source to any' and
    'any to v6 destination': wider than written. Say so rather than render it."""
    try:
        srcs = [n for r in t.sources for n in ctx.store.addresses(r)]
        dsts = [n for r in t.destinations for n in ctx.store.addresses(r)]
        for r in t.source_exclude + t.destination_exclude:
            ctx.store.addresses(r)
        rules = term_rules(t, ctx.store)
    except TermMismatch as e:
        ctx.report("NC123", f"{e} (filter {filter_name})", base + ("services",))
        return
    except (InputError, KeyError) as e:
        ctx.report("NC101", f"term {t.name}: a network object cannot be expanded ({e})", base)
        return
    sf, df = {afi_of(n) for n in srcs}, {afi_of(n) for n in dsts}
    if srcs and dsts and sf != df:
        ctx.report("NC121", f"term {t.name} of {filter_name}: sources are {'/'.join(sorted(sf))} but destinations are "
                   f"{'/'.join(sorted(df))}; the unmatched family would match any address on the other side. "
                   f"Split the term per address family", base)
    if not rules:
        ctx.report("NC122", f"term {t.name} of {filter_name} matches nothing: its protocols fit none of its address "
                   f"families (icmp is IPv4-only, icmpv6 IPv6-only)", base)


def _gone(ctx: Context, kind: str) -> dict[str, tuple[str, int]]:
    """Names the change removes (`state: absent`) or leaves without entries -> (how, index in the change)."""
    out: dict[str, tuple[str, int]] = {}
    for i, o in enumerate(getattr(ctx.change.routing, _KIND_ATTR[kind])):
        if o.state == "absent":
            out[o.name] = ("removes", i)
        elif not o.entries:
            out[o.name] = ("empties", i)
    return out


def _routing(ctx: Context) -> None:
    r = ctx.change.routing
    gone = {kind: _gone(ctx, kind) for kind in _KIND_ATTR}
    for ri, rm in enumerate(r.route_maps):
        if rm.state != "present":
            continue
        for ei, e in enumerate(rm.entries):
            base = ("routing", "route_maps", ri, "entries", ei)
            for key, kind, what in _MATCH_KEYS:
                name = getattr(e.match, key)
                if not name:
                    continue
                if name in gone[kind]:
                    ctx.report("NC105", f"route-map {rm.name} entry {e.seq} matches {what} {name}, which this change "
                               f"{gone[kind][name][0]}", base + ("match", key))
                elif name not in ctx.routing_names(kind):
                    ctx.report("NC103", f"route-map {rm.name} entry {e.seq} matches {what} {name}, defined neither in this "
                               f"change nor in policies/objects/routing.yaml; on IOS a match on a missing list silently "
                               f"matches everything", base + ("match", key))
            cd = e.set.community_delete
            if cd and (cd in gone["community_list"] or cd not in ctx.routing_names("community_list")):
                rule = "NC105" if cd in gone["community_list"] else "NC103"
                ctx.report(rule, f"route-map {rm.name} entry {e.seq} deletes communities matching community-list {cd}, "
                           f"which is not defined (the set would do nothing or fail to apply)", base + ("set", "community_delete"))
    maps = ctx.routing_names("route_map")
    for bi, b in enumerate(r.bindings):
        if b.state != "present" or not b.route_map:
            continue
        if b.route_map in gone["route_map"]:
            ctx.report("NC105", f"binding for {b.neighbor} {b.afi} {b.direction} uses route-map {b.route_map}, which this "
                       f"change {gone['route_map'][b.route_map][0]}", ("routing", "bindings", bi, "route_map"))
        elif b.route_map not in maps:
            ctx.report("NC104", f"binding for {b.neighbor} {b.afi} {b.direction} uses route-map {b.route_map}, which this change "
                       f"does not define: it must already exist on every target (a missing route-map blocks or passes "
                       f"all routes depending on the platform)", ("routing", "bindings", bi, "route_map"))
    _baseline_users(ctx, gone)


def _baseline_users(ctx: Context, gone: dict[str, dict[str, tuple[str, int]]]) -> None:
    """Users in policies/objects/routing.yaml (what every router carries) that the change leaves in place:
    the plan would refuse on every target, so say it now. Route-maps and bindings the change redefines
    are the change's, checked above."""
    base, r = ctx.store.routing, ctx.change.routing
    own_maps = {rm.name for rm in r.route_maps}
    own_bindings = {b.key for b in r.bindings}
    for rm in base.route_maps:
        if rm.name in own_maps:
            continue
        for e in rm.entries:
            for kind, name in e.references():
                if name in gone[kind]:
                    how, i = gone[kind][name]
                    ctx.report("NC105", f"this change {how} {kind.replace('_', '-')} {name}, but route-map {rm.name} entry "
                               f"{e.seq} of the baseline (policies/objects/routing.yaml) uses it on every router: remove "
                               f"or change {rm.name} in this change too", ("routing", _KIND_ATTR[kind], i, "name"))
    for b in base.bindings:
        if b.state == "present" and b.key not in own_bindings and b.route_map in gone["route_map"]:
            how, i = gone["route_map"][b.route_map]
            ctx.report("NC105", f"this change {how} route-map {b.route_map}, but the baseline (policies/objects/routing.yaml) "
                       f"binds it to neighbor {b.neighbor} {b.afi} {b.direction}: rebind or unbind that neighbor in this "
                       f"change too", ("routing", "route_maps", i, "name"))


def any_prefix(n: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return n.prefixlen == 0
