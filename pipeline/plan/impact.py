"""Route-policy impact preview: run the old and the new policy over a neighbor's received routes.

This is the dry-run answer a text diff cannot give: which prefixes a change newly accepts or rejects,
and which attributes it changes. Semantics follow FRR (a match on a missing list does not match); the
IOS behaviour (a missing prefix-list matches everything) is selectable.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from .. import devregex
from ..model.policy import DevicePolicy
from ..model.route import Route as Route  # also this module's name for it
from ..model.routing import RouteMap, SetClause

ATTRS = ("local_pref", "med", "weight", "communities", "large_communities", "as_path", "next_hop")


def _device_regex(expr: str) -> Any:  # an RE2 pattern (re2 ships no types)
    """AS-path and community expressions as the device reads them (`_` = delimiter), run by RE2: linear
    time whatever the pattern, so a running config's or a change's expression cannot hang a plan."""
    return devregex.compile(expr)


def _prefix_list_permits(policy: DevicePolicy, name: str, prefix: str, missing_matches: bool) -> bool:
    pl = policy.prefix_lists.get(name)
    if pl is None:
        return missing_matches
    net = ipaddress.ip_network(prefix, strict=False)
    for e in sorted(pl.entries, key=lambda e: e.seq):
        if e.prefix.version != net.version or not net.subnet_of(e.prefix):  # type: ignore[arg-type]  # same version
            continue
        lo = e.ge if e.ge is not None else e.prefix.prefixlen
        hi = e.le if e.le is not None else (net.max_prefixlen if e.ge is not None else e.prefix.prefixlen)
        if lo <= net.prefixlen <= hi:
            return e.action == "permit"
    return False


def _community_list_permits(policy: DevicePolicy, name: str, route: Route) -> bool:
    cl = policy.community_lists.get(name)
    if cl is None:
        return False
    values = route.large_communities if cl.kind.startswith("large") else route.communities
    text = " ".join(sorted(values))
    for e in cl.entries:
        hit = _device_regex(e.regex).search(text) is not None if e.regex else set(e.communities) <= values
        if hit:
            return e.action == "permit"
    return False


def _as_path_permits(policy: DevicePolicy, name: str, route: Route) -> bool:
    al = policy.as_path_lists.get(name)
    if al is None:
        return False
    text = " ".join(str(a) for a in route.as_path)
    for e in al.entries:
        if _device_regex(e.regex).search(text):
            return e.action == "permit"
    return False


def _deleted(policy: DevicePolicy, list_name: str, communities: frozenset[str]) -> frozenset[str]:
    cl = policy.community_lists.get(list_name)
    if cl is None:
        return communities
    keep = set()
    for c in communities:
        single = Route(prefix="0.0.0.0/0", communities=frozenset({c}))
        if not _community_list_permits(policy, list_name, single):
            keep.add(c)
    return frozenset(keep)


def evaluate(policy: DevicePolicy, rm_name: str | None, route: Route, missing_prefix_list_matches: bool = False) -> Route | None:
    """The route after the route-map, or None when it is denied."""
    if rm_name is None:
        return route
    rm: RouteMap | None = policy.route_maps.get(rm_name)
    if rm is None:
        return None  # binding a missing route-map denies everything (FRR and IOS alike)
    entries = sorted(rm.entries, key=lambda e: e.seq)
    i = 0
    matched_any = False
    while i < len(entries):
        e = entries[i]
        m = e.match
        ok = True
        if m.prefix_list and not _prefix_list_permits(policy, m.prefix_list, route.prefix, missing_prefix_list_matches):
            ok = False
        if ok and m.next_hop_prefix_list and not (route.next_hop and _prefix_list_permits(policy, m.next_hop_prefix_list, route.next_hop, missing_prefix_list_matches)):
            ok = False
        if ok and m.community_list and not _community_list_permits(policy, m.community_list, route):
            ok = False
        if ok and m.large_community_list and not _community_list_permits(policy, m.large_community_list, route):
            ok = False
        if ok and m.as_path and not _as_path_permits(policy, m.as_path, route):
            ok = False
        if not ok:
            i += 1
            continue
        if e.action == "deny":
            return None
        matched_any = True
        route = _apply_set(policy, e.set, route)
        if e.continue_ is None:
            return route
        i = next((j for j, x in enumerate(entries) if x.seq >= e.continue_ and j > i), len(entries))
    return route if matched_any else None


def _apply_set(policy: DevicePolicy, s: SetClause, route: Route) -> Route:
    upd: dict[str, Any] = {}
    if s.local_preference is not None:
        upd["local_pref"] = s.local_preference
    if s.med is not None:
        upd["med"] = s.med
    if s.weight is not None:
        upd["weight"] = s.weight
    comms = route.communities
    if s.community_replace:
        comms = frozenset(s.community_replace)
    elif s.community_add:
        comms = comms | frozenset(s.community_add)
    if s.community_delete:
        comms = _deleted(policy, s.community_delete, comms)
    if comms != route.communities:
        upd["communities"] = comms
    if s.large_community_add:
        upd["large_communities"] = route.large_communities | frozenset(s.large_community_add)
    if s.as_path_prepend:
        upd["as_path"] = tuple(s.as_path_prepend) + route.as_path
    if s.next_hop is not None and s.next_hop not in ("self", "peer-address"):
        upd["next_hop"] = str(s.next_hop)
    return replace(route, **upd) if upd else route


class AcceptedRoutes(list[Route]):
    """Routes read from the table of what BGP accepted from a neighbor (FRR `show bgp ... neighbors X routes`),
    after the current inbound policy ran: what a router without `soft-reconfiguration inbound` (no
    Adj-RIB-In) can show. A plain list of routes is the Adj-RIB-In (received routes, before any policy)."""


# Where a preview's routes came from, for the plan's readers.
BASIS = {
    "received": "received routes (Adj-RIB-In): every route the neighbor sent, before policy",
    "accepted": ("no Adj-RIB-In (soft-reconfiguration inbound is off): previewed from the {n} route(s) accepted now; "
                 "routes the current policy rejects are not kept, so newly accepted routes cannot be known, and an "
                 "attribute the current policy set but the new one leaves alone shows as 'received (unknown)'"),
    "none": "no routes could be read for this session: {why}",
}
UNKNOWN = "received (unknown)"  # an attribute whose value after the change is the neighbor's, which was not kept


@dataclass
class NeighborImpact:
    neighbor: str
    afi: str
    direction: str
    newly_accepted: list[str] = field(default_factory=list)
    newly_rejected: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    total: int = 0
    basis: str = "received"  # received | accepted | none
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"neighbor": self.neighbor, "afi": self.afi, "direction": self.direction, "routes": self.total,
                "basis": self.basis, "note": self.note or BASIS[self.basis],
                "newly_accepted": self.newly_accepted, "newly_rejected": self.newly_rejected,
                "changed": {p: {a: [_j(o), _j(n)] for a, (o, n) in d.items()} for p, d in self.changed.items()}}


def _j(v: object) -> object:
    return sorted(v) if isinstance(v, frozenset) else (list(v) if isinstance(v, tuple) else v)


def _route_maps(before: DevicePolicy, after: DevicePolicy, key: tuple[str, str, str]) -> tuple[str | None, str | None]:
    old, new = before.binding_for(*key), after.binding_for(*key)  # a member takes its group's binding
    return (old.route_map if old is not None else None), (new.route_map if new is not None else None)


def impact(before: DevicePolicy, after: DevicePolicy, neighbor: str, afi: str, direction: str, routes: list[Route]) -> NeighborImpact:
    if isinstance(routes, AcceptedRoutes):
        return impact_on_accepted(before, after, neighbor, afi, direction, routes)
    old_rm, new_rm = _route_maps(before, after, (neighbor, afi, direction))
    out = NeighborImpact(neighbor, afi, direction, total=len(routes))
    for r in routes:
        a = evaluate(before, old_rm, r)
        b = evaluate(after, new_rm, r)
        if a is None and b is not None:
            out.newly_accepted.append(r.prefix)
        elif a is not None and b is None:
            out.newly_rejected.append(r.prefix)
        elif a is not None and b is not None and a != b:
            out.changed[r.prefix] = {k: (getattr(a, k), getattr(b, k)) for k in ATTRS if getattr(a, k) != getattr(b, k)}
    return out


# Scalar attributes a route-map sets outright: whether a policy sets one is seen by evaluating it on a copy
# of the route holding a value no device reports.
_SCALARS = ("local_pref", "med", "weight")
_MARK = -1


def impact_on_accepted(before: DevicePolicy, after: DevicePolicy, neighbor: str, afi: str, direction: str,
                       routes: list[Route]) -> NeighborImpact:
    """What the new policy does to the routes accepted now (no Adj-RIB-In): which it would drop, and how their
    attributes would change. A route the current policy set an attribute on, which the new policy leaves
    alone, gets the neighbor's own value back, which the router did not keep: shown as UNKNOWN, never guessed."""
    old_rm, new_rm = _route_maps(before, after, (neighbor, afi, direction))
    out = NeighborImpact(neighbor, afi, direction, total=len(routes), basis="accepted",
                         note=BASIS["accepted"].format(n=len(routes)))
    for r in routes:
        b = evaluate(after, new_rm, r)
        if b is None:
            out.newly_rejected.append(r.prefix)
            continue
        marks: dict[str, Any] = {k: _MARK for k in _SCALARS}
        marked = replace(r, **marks)
        old_sets = evaluate(before, old_rm, marked)
        new_sets = evaluate(after, new_rm, marked)
        diff = {k: (getattr(r, k), getattr(b, k)) for k in ATTRS if getattr(r, k) != getattr(b, k)}
        for k in _SCALARS:
            if old_sets is not None and getattr(old_sets, k) != _MARK and new_sets is not None and getattr(new_sets, k) == _MARK:
                diff[k] = (getattr(r, k), UNKNOWN)
        if diff:
            out.changed[r.prefix] = diff
    return out


def unavailable(neighbor: str, afi: str, direction: str, why: str) -> NeighborImpact:
    """A session whose impact cannot be previewed, said so in the plan rather than left out."""
    return NeighborImpact(neighbor, afi, direction, basis="none", note=BASIS["none"].format(why=why))
