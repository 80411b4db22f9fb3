"""Running configs for plan fuzzing: what the fleet's devices hold before a change.

Per host a random valid policy under the names the change generator also uses (changes.py), printed by
the host's own driver as its running config (nftables: as `nft -j list ruleset` JSON, built here), plus
configuration the model does not hold, the kind a real device carries: unmodelled clauses inside
objects a change may touch, route-maps and bindings the change does not name that use its lists, host
bits, banners, foreign nft tables, base-chain policies and conditions. BGP hosts also get received routes
(FRR JSON) with long AS paths for the impact preview.
"""

from __future__ import annotations

import ipaddress
import json

from pipeline.drivers import get_driver
from pipeline.inventory import Attachment
from pipeline.model import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, ConcreteFilter, DevicePolicy, Match,
                            NeighborBinding, PrefixList, PrefixListEntry, RouteMap, RouteMapEntry, Rule, ServiceSpec, SetClause)
from pipeline.model.resolve import Desired

from .changes import COMMUNITY_LISTS, FILTERS, NEIGHBORS, PREFIX_LISTS, ROUTE_MAPS, Gen, prefix

BGP_HOSTS = ("r1", "ios1", "eos1", "cx1", "junos1", "nx1")
ASN = {"r1": 65001, "ios1": 65101, "eos1": 65102, "cx1": 65103, "junos1": 65104, "nx1": 65105}
IFACE = {"ios1": "GigabitEthernet0/1", "eos1": "Ethernet1", "cx1": "lag1", "junos1": "ge-0/0/1", "nx1": "Ethernet1/1"}

# Configuration the model cannot hold, per platform (`{asn}` and `{iface}` filled in). Several sit inside
# objects a change may touch (PL-A, RM-IN, F1): a plan must refuse or keep them, never drop them silently.
FOREIGN = {
    "frr": [
        "ip prefix-list PL-A seq 3 permit 198.51.100.1/24",
        "route-map RM-IN permit 5\n match tag 100\n set origin igp\nexit",
        "route-map RM-USER permit 10\n match ip address prefix-list PL-A\nexit\n"
        "router bgp {asn}\n address-family ipv4 unicast\n  neighbor 198.51.100.6 route-map RM-USER out\n exit-address-family\nexit",
        "router bgp {asn}\n neighbor 198.51.100.2 remote-as 65002\n neighbor 198.51.100.2 password s3cret\nexit",
        "bgp community-list standard CL-A seq 99 permit 65001:1 65001:2",
        "ip route 203.0.113.0/24 Null0",
    ],
    "cisco_ios": [
        "ip prefix-list PL-A seq 3 permit 198.51.100.1/24",
        "route-map RM-IN permit 5\n match tag 100\n set origin igp",
        "route-map RM-USER permit 10\n match ip address prefix-list PL-A\n"
        "router bgp {asn}\n address-family ipv4\n  neighbor 198.51.100.2 route-map RM-USER out\n exit-address-family",
        "banner motd ^C\nip prefix-list PL-B seq 5 permit 198.18.0.0/24\n^C",
        "ip access-list extended F1\n permit tcp any any established\n deny ip any any fragments",
        "interface {iface}\n ip access-group OTHER-ACL in",
    ],
    "arista_eos": [
        "banner login\nip prefix-list PL-A\n   seq 10 permit 198.18.0.0/24\nEOF",
        "ip prefix-list PL-A\n   seq 3 permit 198.51.100.1/24",
        "route-map RM-IN permit 5\n   match tag 100",
        "route-map RM-USER permit 10\n   match ip address prefix-list PL-A\n"
        "router bgp {asn}\n   address-family ipv4\n      neighbor 198.51.100.2 route-map RM-USER out",
        "ip access-list F1\n   10 permit tcp any any established",
    ],
    "aruba_aoscx": [
        "ip prefix-list PL-A seq 3 permit 198.51.100.1/24",
        "route-map RM-IN permit seq 5\n    match tag 100",
        "route-map RM-USER permit seq 10\n    match ip address prefix-list PL-A\n"
        "router bgp {asn}\n    address-family ipv4 unicast\n        neighbor 198.51.100.2 route-map RM-USER out\n    exit-address-family",
        "access-list ip F1\n    10 permit tcp any any established",
    ],
    "cisco_nxos": [
        "ip prefix-list PL-A seq 3 permit 198.51.100.1/24",
        "route-map RM-IN permit 5\n  match tag 100\n  set origin igp",
        "route-map RM-USER permit 10\n  match ip address prefix-list PL-A\n"
        "router bgp {asn}\n  neighbor 198.51.100.2\n    address-family ipv4 unicast\n      route-map RM-USER out",
        "router bgp {asn}\n  neighbor 198.51.100.2\n    remote-as 65002\n    password 3 0123456789abcdef",
        "ip access-list F1\n  10 permit tcp any any established\n  20 deny ip any any fragments",
        "interface {iface}\n  ip access-group OTHER-ACL in",
        "feature bgp\nip community-list standard CL-A seq 99 permit 65001:1 65001:2",
    ],
    "juniper_junos": [
        "set policy-options policy-statement RM-IN term 5 from tag 100",
        "set policy-options policy-statement RM-IN term 5 then accept",
        "set policy-options policy-statement RM-USER term 10 from prefix-list PL-A",
        "set policy-options policy-statement RM-USER term 10 then accept",
        "set protocols bgp group AS65002 neighbor 198.51.100.2 export RM-USER",
        "set policy-options prefix-list PL-A apply-path \"interfaces <*> unit <*> family inet address <*>\"",
        "set firewall family inet filter F1 term x from tcp-flags syn",
        "set firewall family inet filter F1 term x then accept",
    ],
}


def _entries_pl(g, fam: str) -> tuple[PrefixListEntry, ...]:
    out = []
    for i in range(g.int(1, 3)):
        p = prefix(g, fam, percent_hostile=0)
        out.append(PrefixListEntry(seq=(i + 1) * 10, action="permit", prefix=p))
    return tuple(out)


def bgp_policy(g: Gen, host: str) -> DevicePolicy:
    """A valid BGP policy under the shared names; objects the platform refuses are dropped in render_running."""
    p = DevicePolicy()
    for n in g.subset(PREFIX_LISTS[:3]):
        fam = "ipv6" if n == "PL-V6" else "ipv4"
        p.prefix_lists[n] = PrefixList(name=n, afi=fam, entries=_entries_pl(g, fam))
    for n in g.subset(COMMUNITY_LISTS[:2]):
        p.community_lists[n] = CommunityList(name=n, entries=(
            CommunityListEntry(seq=10, action="permit", communities=(f"65001:{g.int(1, 99)}",)),))
    al_names = ("100", "200") if host == "ios1" else ("AS-A",)
    for n in g.subset(al_names):
        p.as_path_lists[n] = AsPathList(name=n, entries=(AsPathEntry(seq=10, action="permit", regex=g.pick(["^65002 .*", "^65003$"])),))
    for n in g.subset(ROUTE_MAPS[:3]):
        entries = []
        for i in range(g.int(1, 2)):
            m = {}
            if p.prefix_lists and g.chance(70):
                pl = g.pick(sorted(p.prefix_lists))
                m["prefix_list"] = pl
            if p.community_lists and g.chance(30):
                m["community_list"] = g.pick(sorted(p.community_lists))
            if p.as_path_lists and g.chance(30):
                m["as_path"] = g.pick(sorted(p.as_path_lists))
            s = SetClause(local_preference=g.int(100, 300)) if g.chance(50) else SetClause()
            entries.append(RouteMapEntry(seq=(i + 1) * 10, action="permit", match=Match(**m), set=s))
        p.route_maps[n] = RouteMap(name=n, entries=tuple(entries))
    if p.route_maps:
        for afi in ("ipv4", "ipv6"):
            for nbr in NEIGHBORS[afi]:
                if host != "r1" and nbr.endswith((".6", "13::2")):
                    continue  # only r1 has the second upstream
                for direction in ("in", "out"):
                    if g.chance(35):
                        b = NeighborBinding(neighbor=nbr, afi=afi, direction=direction,
                                            route_map=g.pick(sorted(p.route_maps)))
                        p.bindings[b.key] = b
    return p


def firewall_policy(g: Gen, attachment: Attachment) -> DevicePolicy:
    p = DevicePolicy()
    names = g.subset(FILTERS[:2] + ("OTHER",))
    for n in sorted(names):
        rules = []
        for i in range(g.int(1, 3)):
            fam = g.pick(["ipv4", "ipv6"])
            src = (ipaddress.ip_network(prefix(g, fam, percent_hostile=0)),) if g.chance(50) else ()
            specs = (ServiceSpec(protocol="tcp", destination_ports=(g.pick([22, 80, 443]),)),) if g.chance(60) else ()
            rules.append(Rule(name=f"t{i}", family=fam, sources=src, specs=specs, action=g.pick(["accept", "deny"]),
                              counter=g.chance(30)))
        p.filters[n] = ConcreteFilter(name=n, rules=tuple(rules), attachments=(attachment,) if g.chance(70) else ())
    return p


def render_running(host, policy: DevicePolicy, foreign: list[str]) -> str:
    """The host's driver prints the policy (objects it refuses are left out), then the foreign lines."""
    driver = get_driver(host.platform)
    desired = [Desired(kind, key, obj) for kind, key, obj in policy.items()]
    try:
        return (driver.render(desired, host, known=policy) if desired else "") + "".join(f"{line}\n" for line in foreign)
    except Exception:  # noqa: BLE001 - some object is beyond the platform: find which, below
        pass
    kept = DevicePolicy()
    for kind, key, obj in policy.items():
        trial = kept.copy()
        trial.put(kind, key, obj)
        try:
            driver.render([Desired(kind, key, obj)], host, known=trial)
        except Exception:  # noqa: BLE001 - a platform limit (e.g. Junos deny entries): leave the object out
            continue
        kept.put(kind, key, obj)
    desired = [Desired(kind, key, obj) for kind, key, obj in kept.items()]
    text = driver.render(desired, host, known=kept) if desired else ""
    return text + "".join(f"{line}\n" for line in foreign)


# ------------------------------------------------------------------ nftables: `nft -j list ruleset` JSON

def _m(left: dict, right, op: str = "==") -> dict:
    return {"match": {"op": op, "left": left, "right": right}}


def _net(n) -> object:
    return str(n.network_address) if n.prefixlen == n.max_prefixlen else {"prefix": {"addr": str(n.network_address), "len": n.prefixlen}}


def _rule_exprs(r: Rule, spec: ServiceSpec | None) -> list[dict]:
    kw = "ip" if r.family == "ipv4" else "ip6"
    ex: list[dict] = []
    if not (r.sources or r.destinations):
        ex.append(_m({"meta": {"key": "nfproto"}}, r.family))
    for field, nets in (("saddr", r.sources), ("daddr", r.destinations)):
        if nets:
            ex.append(_m({"payload": {"protocol": kw, "field": field}},
                         _net(nets[0]) if len(nets) == 1 else {"set": [_net(n) for n in nets]}))
    if spec:
        ex.append(_m({"meta": {"key": "l4proto"}}, spec.protocol))
        if spec.destination_ports:
            ports = [p.lo if p.lo == p.hi else {"range": [p.lo, p.hi]} for p in spec.destination_ports]
            ex.append(_m({"payload": {"protocol": spec.protocol, "field": "dport"}}, ports[0] if len(ports) == 1 else {"set": ports}))
    if r.counter:
        ex.append({"counter": {"packets": 0, "bytes": 0}})
    ex.append({{"accept": "accept", "deny": "drop", "reject": "reject"}[r.action]: None})
    return ex


# Rules and chains a real firewall has that the model cannot hold: a plan must leave them exactly alone.
NFT_FOREIGN = ("lo-accept", "ct-state", "named-set", "not-equal", "limit", "policy-drop", "other-table", "nat-table")


def nft_ruleset(policy: DevicePolicy, foreign: set[str]) -> str:
    items: list[dict] = [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}]
    handle = iter(range(1, 10 ** 6))
    T = {"family": "inet", "table": "netchange"}
    items.append({"table": {"family": "inet", "name": "netchange", "handle": next(handle)}})
    if "named-set" in foreign:
        items.append({"set": {**T, "name": "blocklist", "type": "ipv4_addr", "handle": next(handle),
                              "elem": ["198.51.100.66"]}})
    rules: list[dict] = []
    hooks: dict[str, list[list[dict]]] = {"input": [], "forward": [], "output": []}
    for f in policy.filters.values():
        items.append({"chain": {**T, "name": f.name, "handle": next(handle)}})
        for r in f.rules:
            for spec in r.specs or (None,):
                rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": r.name, "expr": _rule_exprs(r, spec)}})
        if f.name == "F1" and "ct-state" in foreign:
            rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": "established",
                                   "expr": [_m({"ct": {"key": "state"}}, ["established", "related"], "in"), {"accept": None}]}})
        if f.name == "F1" and "not-equal" in foreign:
            rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": "not-mgmt",
                                   "expr": [_m({"payload": {"protocol": "ip", "field": "saddr"}},
                                               {"prefix": {"addr": "198.18.0.0", "len": 24}}, "!="), {"drop": None}]}})
        if f.name == "F1" and "limit" in foreign:
            rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": "ping-limit",
                                   "expr": [_m({"meta": {"key": "l4proto"}}, "icmp"),
                                            {"limit": {"rate": 10, "per": "second"}}, {"accept": None}]}})
        if f.name == "F1" and "named-set" in foreign:
            rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": "blocklist",
                                   "expr": [_m({"payload": {"protocol": "ip", "field": "saddr"}}, "@blocklist"), {"drop": None}]}})
        rules.append({"rule": {**T, "chain": f.name, "handle": next(handle), "comment": "netchange-implicit-deny",
                               "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"drop": None}]}})
        for a in f.attachments:
            if a.hook:
                hooks[a.hook].append([{"jump": {"target": f.name}}])
    if "lo-accept" in foreign:
        hooks["input"].insert(0, [_m({"meta": {"key": "iifname"}}, "lo"), {"accept": None}])
    for hook, jumps in hooks.items():
        if not jumps and not (hook == "input" and "policy-drop" in foreign):
            continue
        policy_word = "drop" if hook == "input" and "policy-drop" in foreign else "accept"
        items.append({"chain": {**T, "name": f"hook-{hook}", "handle": next(handle), "type": "filter", "hook": hook,
                                "prio": 0, "policy": policy_word}})
        for ex in jumps:
            rules.append({"rule": {**T, "chain": f"hook-{hook}", "handle": next(handle), "expr": ex}})
    if "other-table" in foreign:
        items.append({"table": {"family": "inet", "name": "filter", "handle": next(handle)}})
        items.append({"chain": {"family": "inet", "table": "filter", "name": "input", "handle": next(handle), "type": "filter",
                                "hook": "input", "prio": 0, "policy": "drop"}})
        rules.append({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": next(handle),
                               "expr": [_m({"payload": {"protocol": "tcp", "field": "dport"}}, 22), {"accept": None}]}})
    if "nat-table" in foreign:
        items.append({"table": {"family": "ip", "name": "nat", "handle": next(handle)}})
        items.append({"chain": {"family": "ip", "table": "nat", "name": "postrouting", "handle": next(handle), "type": "nat",
                                "hook": "postrouting", "prio": 100, "policy": "accept"}})
        rules.append({"rule": {"family": "ip", "table": "nat", "chain": "postrouting", "handle": next(handle),
                               "expr": [{"masquerade": None}]}})
    return json.dumps({"nftables": items + rules}, indent=1)


# ------------------------------------------------------------------ received routes (FRR JSON)

def received_routes(g: Gen, afi: str) -> str:
    routes = {}
    for _ in range(g.int(1, 4)):
        p = prefix(g, afi, percent_hostile=0)
        path = " ".join(str(g.pick([65002, 65003, 65010, 64512, 65001])) for _ in range(g.int(1, 24)))
        routes[p] = {"path": path, "nextHop": NEIGHBORS[afi][0],
                     "community": {"string": " ".join(f"65001:{g.int(1, 200)}" for _ in range(g.int(0, 2)))}}
    return json.dumps({"receivedRoutes": routes, "defaultLocPrf": 100})


def fleet_state(g: Gen, inventory) -> dict:
    """{"snapshots": {host: text}, "routes": {host: {"<neighbor>_<afi>": json}}} for every fleet host."""
    snaps: dict[str, str] = {}
    routes: dict[str, dict[str, str]] = {}
    for name in BGP_HOSTS:
        host = inventory.hosts[name]
        platform = host.platform.value
        policy = bgp_policy(g, name)
        if name != "r1":
            att = host.data.firewall.attachments.get("server-edge")
            if att is not None and g.chance(50):
                policy.filters.update(firewall_policy(g, att).filters)
        foreign = [line.format(asn=ASN[name], iface=IFACE.get(name, "")) for line in FOREIGN[platform] if g.chance(25)]
        snaps[name] = render_running(host, policy, foreign)
        routes[name] = {}
        for afi in ("ipv4", "ipv6"):
            for nbr in NEIGHBORS[afi]:
                if g.chance(60):
                    routes[name][f"{nbr}_{afi}"] = received_routes(g, afi)
    fw = inventory.hosts["fw1"]
    policy = firewall_policy(g, fw.data.firewall.attachments["server-edge"])
    foreign = {f for f in NFT_FOREIGN if g.chance(25)}
    snaps["fw1"] = nft_ruleset(policy, foreign)
    return {"snapshots": snaps, "routes": routes}
