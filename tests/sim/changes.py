"""Change requests that touch what a running configuration holds (test support, netchange's model only).

The objects are read from a simulator's own view of the config (never through netchange's parsers), turned
into netchange change-request data, and mutated the ways operators change policy: widen or narrow a
prefix-list entry, add or drop an entry, change a route-map's local-preference, add a route-map entry,
point a neighbor at a new route-map, replace an interface ACL. An object netchange's model cannot express
(opaque clauses, several lists in one match, odd names) is left alone.
"""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pipeline.model.change import ChangeRequest
from pipeline.names import _check_identifier

from .policy import RMEntry, View


def ident(name: str) -> bool:
    try:
        _check_identifier(name)
        return True
    except ValueError:
        return False


@dataclass
class Candidate:
    """One generated change: what it does in words, the request, the inventory attachments it needs."""

    what: str
    change: ChangeRequest
    attachments: dict[str, dict]


def request(routing: dict | None = None, firewall: dict | None = None, strategy: str = "in_place") -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-9001", "title": "simulated change", "requested_by": "tests/sim",
                                         "targets": {"hosts": ["dut"]}, "strategy": strategy,
                                         "routing": routing or {}, "firewall": firewall or {}})


# ---------------------------------------------------------------- view -> model data

def prefix_list_data(view: View, afi: str, name: str) -> dict | None:
    entries = view.prefix_lists.get((afi, name))
    if not entries or not ident(name) or (("ipv4", name) in view.prefix_lists and ("ipv6", name) in view.prefix_lists):
        return None  # netchange names prefix-lists without their family: one name, one list
    out = []
    for e in entries:
        lo, hi = e.length_range()
        out.append(entry_range({"seq": e.seq, "action": e.action, "prefix": str(e.prefix)}, lo, hi))
    return {"name": name, "afi": afi, "entries": out}


_SET = {"set local-preference": "local_preference", "set metric": "med", "set weight": "weight"}


def route_map_data(view: View, name: str, lists: dict[str, str]) -> dict | None:
    """A route-map as change-request data, or None when a clause has no place in netchange's model.
    `lists`: community-list name -> kind, for large-community matches."""
    if not ident(name) or name not in view.route_maps:
        return None
    entries = []
    for e in view.route_maps[name]:
        d = entry_data(e, lists)
        if d is None:
            return None
        entries.append(d)
    return {"name": name, "entries": entries} if entries else None


def entry_data(e: RMEntry, lists: dict[str, str]) -> dict | None:
    match: dict[str, str] = {}
    for m in e.matches:
        if len(m.names) != 1 or m.exact or not ident(m.names[0]):
            return None
        field = {"prefix_list": "prefix_list", "community_list": "community_list", "as_path_list": "as_path",
                 "nexthop_prefix_list": "next_hop_prefix_list"}.get(m.kind)
        if field is None or field in match:
            return None
        if field == "community_list" and lists.get(m.names[0], "").startswith("large"):
            field = "large_community_list"
        match[field] = m.names[0]
    sets: dict[str, Any] = {}
    for what, value in e.sets:
        if what in _SET and value.isdigit():
            sets[_SET[what]] = int(value)
        elif what == "set community" and re.fullmatch(r"(\d+:\d+ )*\d+:\d+( additive)?", value):
            sets["community_add" if value.endswith("additive") else "community_replace"] = value.replace(" additive", "").split()
        elif what == "community-list delete" and ident(value):
            sets["community_delete"] = value
        elif what == "set as-path prepend" and re.fullmatch(r"\d+( \d+)*", value):
            sets["as_path_prepend"] = [int(x) for x in value.split()]
        else:
            return None
    d: dict[str, Any] = {"seq": e.seq, "action": e.action}
    if e.description:
        d["description"] = e.description
    if match:
        d["match"] = match
    if sets:
        d["set"] = sets
    if isinstance(e.cont, int):
        d["continue"] = e.cont
    elif e.cont is not None:
        return None
    return d


def community_kinds(view: View) -> dict[str, str]:
    out = {}
    for name, entries in view.community_lists.items():
        if any(e.regex for e in entries):
            out[name] = "expanded"
        elif any(m.count(":") == 2 for e in entries for m in e.members):
            out[name] = "large"
        else:
            out[name] = "standard"
    return out


# ---------------------------------------------------------------- mutations

def _bound_route_maps(view: View) -> list[tuple[tuple, str]]:
    return sorted(((p, n) for p, (k, n) in view.attachments.items() if p[0] == "bgp" and k == "route_map"), key=str)


def _lists_used_by(view: View, rm: str) -> list[tuple[str, str]]:
    out = []
    for e in view.route_maps.get(rm, ()):
        for m in e.matches:
            if m.kind == "prefix_list":
                out += [(m.afi, n) for n in m.names]
    return out


def entry_range(entry: dict, lo: int, hi: int) -> dict:
    """An entry matching lengths lo..hi, written the shortest way (`le 24`, `ge 25`, `ge 25 le 28`, exact)."""
    p = ipaddress.ip_network(entry["prefix"])
    e = {k: v for k, v in entry.items() if k not in ("ge", "le")}
    if lo == hi == p.prefixlen:
        return e
    if lo == p.prefixlen:
        return dict(e, le=hi)
    if hi == p.max_prefixlen:
        return dict(e, ge=lo)
    return dict(e, ge=lo, le=hi)


def _widen(entry: dict) -> dict:
    """One more prefix length matched (or, at the limit, the action turned around)."""
    p = ipaddress.ip_network(entry["prefix"])
    lo = entry.get("ge", p.prefixlen)
    hi = entry.get("le", p.max_prefixlen if "ge" in entry else p.prefixlen)
    if hi < p.max_prefixlen:
        return entry_range(entry, lo, hi + 1)
    if lo > p.prefixlen:
        return entry_range(entry, lo - 1, hi)
    if p.prefixlen > 0:  # a host route: its covering /len-1 and everything up to the host
        wider = p.supernet()
        return entry_range(dict(entry, prefix=str(wider)), wider.prefixlen, p.max_prefixlen)
    return dict(entry, action="deny" if entry["action"] == "permit" else "permit")


def candidates(view: View, platform: str, rng: random.Random, kinds: set[str] | None = None,
               neighbors: dict[str, int] | None = None) -> list[Candidate]:
    """Every applicable mutation of this config, one change each (`neighbors`: the simulator's bgp_facts)."""
    out: list[Candidate] = []
    lists = community_kinds(view)
    bound = _bound_route_maps(view)
    nbrs = sorted({p[1] for p in view.attachments if p[0] == "bgp"} | set(neighbors or ()))

    def add(what: str, routing=None, firewall=None, attachments=None):
        if kinds is not None and what.split(":")[0] not in kinds:
            return
        try:
            out.append(Candidate(what, request(routing, firewall), attachments or {}))
        except ValidationError:
            pass  # the model cannot express this object (names, values): not a change netchange can plan

    # prefix-lists: prefer one a bound route-map matches (an edit there is live)
    live = [k for _, rm in bound for k in _lists_used_by(view, rm) if k in view.prefix_lists]
    pls = list(dict.fromkeys(live + sorted(view.prefix_lists)))
    for afi, name in pls[:1] + ([rng.choice(pls)] if len(pls) > 1 else []):
        data = prefix_list_data(view, afi, name)
        if not data:
            continue
        entries = data["entries"]
        i = rng.randrange(len(entries))
        widened = dict(data, entries=[_widen(e) if j == i else e for j, e in enumerate(entries)])
        add(f"prefix_list_edit: {name} seq {entries[i]['seq']}", {"prefix_lists": [widened]})
        net = ipaddress.ip_network("198.18.64.0/24" if afi == "ipv4" else "2001:db8:64::/48")
        last = max(e["seq"] for e in entries)
        grown = dict(data, entries=entries + [{"seq": last + 5, "action": "permit", "prefix": str(net)}])
        add(f"prefix_list_add: {name} seq {last + 5}", {"prefix_lists": [grown]})
        if len(entries) > 1:
            add(f"prefix_list_remove: {name} seq {entries[i]['seq']}",
                {"prefix_lists": [dict(data, entries=[e for j, e in enumerate(entries) if j != i])]})
        break
    # route-maps bound to a neighbor (else any): change or add a local-preference; add an entry
    for _point, rm in bound + [(None, n) for n in sorted(view.route_maps) if n not in {b for _, b in bound}]:
        data = route_map_data(view, rm, lists)
        if not data:
            continue
        entries = data["entries"]
        permits = [j for j, e in enumerate(entries) if e["action"] == "permit"]
        if permits:
            j = permits[0]
            e = dict(entries[j])
            lp = (e.get("set") or {}).get("local_preference")
            e["set"] = dict(e.get("set") or {}, local_preference=250 if lp != 250 else 260)
            add(f"route_map_set: {rm} seq {e['seq']}", {"route_maps": [dict(data, entries=entries[:j] + [e] + entries[j + 1:])]})
        if not entries:
            continue
        pl = next((n for a, n in _lists_used_by(view, rm) if (a, n) in view.prefix_lists and ident(n)), None)
        free = next((s for s in range(5, 65535, 5) if s not in {x["seq"] for x in entries} and s > min(x["seq"] for x in entries)), None)
        if pl and free:
            new = {"seq": free, "action": "permit", "match": {"prefix_list": pl}, "set": {"local_preference": 90}}
            add(f"route_map_add: {rm} seq {free}", {"route_maps": [dict(data, entries=sorted(entries + [new], key=lambda x: x["seq"]))]})
        break
    # a neighbor pointed at a new route-map (with its own new prefix-list)
    for point, _rm in bound[:1] or ([(("bgp", nbrs[0], "ipv4", "in"), None)] if nbrs else []):
        nbr, afi, direction = point[1], point[2], point[3]
        fam = "ipv4" if ipaddress.ip_address(nbr).version == 4 else "ipv6"
        afi = fam
        prefix = "198.18.96.0/20" if fam == "ipv4" else "2001:db8:96::/44"
        routing = {"prefix_lists": [{"name": "PL-SIM-NEW", "afi": fam, "entries": [
                       {"seq": 10, "action": "permit", "prefix": prefix, "le": 24 if fam == "ipv4" else 48}]}],
                   "route_maps": [{"name": "RM-SIM-NEW", "entries": [
                       {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-SIM-NEW"}, "set": {"local_preference": 120}}]}],
                   "bindings": [{"neighbor": nbr, "afi": afi, "direction": direction, "route_map": "RM-SIM-NEW"}]}
        add(f"binding_switch: {nbr} {afi} {direction} -> RM-SIM-NEW", routing)
    # an interface ACL replaced
    if platform != "frr":
        for point, (_kind, acl) in sorted(view.attachments.items(), key=str):
            if point[0] != "interface" or not ident(acl) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}", point[1]):
                continue
            fam = point[2]
            dst = "203.0.113.10/32" if fam == "ipv4" else "2001:db8:100::10/128"
            terms = [{"name": "web", "destinations": [dst], "protocols": ["tcp"], "destination_ports": [443], "action": "accept"},
                     {"name": "ssh", "destinations": [dst], "protocols": ["tcp"], "destination_ports": [22], "action": "accept"},
                     {"name": "rest", "action": "deny"}]
            add(f"filter_replace: {acl} on {point[1]} {point[3]}", firewall={"filters": [{"name": acl, "attach": ["sim-att"], "terms": terms}]},
                attachments={"sim-att": {"interface": point[1], "direction": point[3]}})
            break
    return out


# ---------------------------------------------------------------- Junos (read from the simulator's tree)

def junos_candidates(sim: Any, rng: random.Random) -> list[Candidate]:
    """Prefix-lists used by a BGP import/export policy (widen an entry, add one, drop one); a neighbor's
    import pointed at a new policy; an interface filter replaced."""
    out: list[Candidate] = []
    root = sim.active
    po = root.children.get("policy-options")
    refs, have = sim.references(root)
    bound_policies = {r.name for r in refs if r.kind == "policy"}
    used = [r.name for r in refs if r.kind == "prefix_list" and r.source.startswith("policy-statement ")
            and r.source.split()[1] in bound_policies and r.name in have["prefix_list"]]
    pls = list(dict.fromkeys(used + sorted(have["prefix_list"])))

    def add(what, routing=None, firewall=None, attachments=None):
        try:
            out.append(Candidate(what, request(routing, firewall), attachments or {}))
        except ValidationError:
            pass

    for name in pls[:1]:
        prefixes = [p for p in po.children["prefix-list"].children[name].children if "/" in p or ":" in p or p.count(".") == 3]
        nets = []
        for p in prefixes:
            try:
                nets.append(ipaddress.ip_network(p, strict=False))
            except ValueError:
                break
        if not nets or not ident(name) or len({n.version for n in nets}) != 1:
            continue
        afi = "ipv4" if nets[0].version == 4 else "ipv6"
        entries = [{"seq": 5 * (i + 1), "action": "permit", "prefix": str(n)} for i, n in enumerate(nets)]
        i = rng.randrange(len(entries))
        add(f"prefix_list_edit: {name} {entries[i]['prefix']} widened",
            {"prefix_lists": [{"name": name, "afi": afi, "entries": [_widen(e) if j == i else e for j, e in enumerate(entries)]}]})
        extra = "198.18.64.0/24" if afi == "ipv4" else "2001:db8:64::/48"
        add(f"prefix_list_add: {name} {extra}",
            {"prefix_lists": [{"name": name, "afi": afi, "entries": entries + [{"seq": 5 * (len(entries) + 1), "action": "permit", "prefix": extra}]}]})
        if len(entries) > 1:
            add(f"prefix_list_remove: {name} {entries[i]['prefix']}",
                {"prefix_lists": [{"name": name, "afi": afi, "entries": [e for j, e in enumerate(entries) if j != i]}]})
    facts = sim.bgp_facts()
    if facts and facts[1]:
        nbr = sorted(facts[1])[0]
        fam = "ipv4" if ipaddress.ip_address(nbr).version == 4 else "ipv6"
        prefix = "198.18.96.0/20" if fam == "ipv4" else "2001:db8:96::/44"
        add(f"binding_switch: {nbr} {fam} in -> RM-SIM-NEW", {
            "prefix_lists": [{"name": "PL-SIM-NEW", "afi": fam, "entries": [{"seq": 10, "action": "permit", "prefix": prefix}]}],
            "route_maps": [{"name": "RM-SIM-NEW", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-SIM-NEW"},
                                                               "set": {"local_preference": 120}}]}],
            "bindings": [{"neighbor": nbr, "afi": fam, "direction": "in", "route_map": "RM-SIM-NEW"}]})
    for r in refs:
        if r.kind == "filter_inet" and ident(r.name) and r.name in have["filter_inet"]:
            path = r.source.split()
            iface = path[1] + ("." + path[3] if len(path) > 3 and path[2] == "unit" else "")
            terms = [{"name": "web", "destinations": ["203.0.113.10/32"], "protocols": ["tcp"], "destination_ports": [443], "action": "accept"},
                     {"name": "rest", "action": "deny"}]
            add(f"filter_replace: {r.name} on {iface} {r.source.split()[-1]}",
                firewall={"filters": [{"name": r.name, "attach": ["sim-att"], "terms": terms}]},
                attachments={"sim-att": {"interface": iface, "direction": "in" if r.source.endswith("input") else "out"}})
            break
    return out
