"""Which policy entry decided a flow: the firewall term (first match) or the route-map entry.

Firewall: netchange's filters are evaluated as the model defines them for one hook — the first attached
filter decides: its first matching term, else its implicit deny at the end (the nftables driver writes it
as a closing `drop`, like an ACL's). A flow says what its packets are (ICMP type and code, TCP flags) and
which connection tracking state they are in (the first packet of a connection or a ping is `new`, the
answers `established`), so a stateful accept (`ct state established,related`) is named as the deciding
term of a reply. Chains of the host's own tables (`table/chain`) are parsed only loosely (interface
matches, named sets are not modelled), so they are named, never judged; where netchange's chain sits in
netchange's own table, an accept there is not final and the decision says which host chain judges next.

Routing: the best path (read by the router's driver observer) names the neighbor whose binding gives the
inbound route-map; its first matching entry (FRR semantics, via `plan.impact.evaluate`) is the one that set
the path's attributes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..model.firewall import PROTOCOL_NUMBERS, ServiceSpec
from ..model.policy import ConcreteFilter, DevicePolicy, Rule
from ..model.route import Route
from ..plan.impact import evaluate
from ..model.routing import RouteMap


@dataclass(frozen=True)
class Flow:
    src: str                      # address
    dst: str
    protocol: str | None = None   # tcp, udp, icmp, icmpv6, or a number as text
    dst_port: int | None = None
    src_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    tcp_flags: int | None = None  # the flags byte of the segments (None: unknown, flag matches cannot hold)
    state: str = "new"            # connection tracking state of its packets on the firewall
    dscp: int = 0
    hop_limit: int = 64


@dataclass(frozen=True)
class Decision:
    device: str
    what: str                     # e.g. "filter BLOCK-WEB term deny-web" or "route-map RM-R3-IN entry 10"
    action: str                   # accept | deny | reject | permit | none
    note: str = ""

    def __str__(self) -> str:
        verdict = self.action if self.action != "none" else ""
        detail = ": ".join(x for x in (verdict, self.note) if x)
        return f"{self.device}: {self.what}" + (f" ({detail})" if detail else "")


def _proto_number(p: str | None) -> int | None:
    if p is None:
        return None
    return int(p) if p.isdigit() else PROTOCOL_NUMBERS.get(p.lower())


def _spec_matches(spec: ServiceSpec, flow: Flow) -> bool:
    if _proto_number(spec.protocol) != _proto_number(flow.protocol):
        return False
    if spec.icmp_types and flow.icmp_type not in spec.icmp_types:
        return False
    if spec.icmp_code is not None and flow.icmp_code != spec.icmp_code:
        return False
    if spec.destination_ports and not (flow.dst_port is not None and any(r.lo <= flow.dst_port <= r.hi for r in spec.destination_ports)):
        return False
    if spec.source_ports and not (flow.src_port is not None and any(r.lo <= flow.src_port <= r.hi for r in spec.source_ports)):
        return False
    return True


def rule_matches(rule: Rule, flow: Flow) -> bool:
    src, dst = ipaddress.ip_address(flow.src), ipaddress.ip_address(flow.dst)
    if rule.family != ("ipv4" if dst.version == 4 else "ipv6"):
        return False
    if rule.sources and not any(src in n for n in rule.sources):
        return False
    if any(src in n for n in rule.source_excludes) or any(dst in n for n in rule.destination_excludes):
        return False
    if rule.destinations and not any(dst in n for n in rule.destinations):
        return False
    if rule.states and flow.state not in rule.states:
        return False
    if rule.tcp_flags is not None and (flow.tcp_flags is None or not rule.tcp_flags.matches(flow.tcp_flags)):
        return False
    if rule.fragment is not None:  # test flows are never fragmented
        return False
    if rule.dscp and flow.dscp not in rule.dscp:
        return False
    if rule.hop_limit is not None and not rule.hop_limit.lo <= flow.hop_limit <= rule.hop_limit.hi:
        return False
    return not rule.specs or any(_spec_matches(s, flow) for s in rule.specs)


def matches_text(rule: Rule) -> str:
    """The matches of a rule beyond addresses and services, for a person: `ct state established,related`."""
    parts = []
    if rule.states:
        parts.append(f"ct state {','.join(rule.states)}")
    if rule.tcp_flags is not None:
        parts.append(f"tcp flags {rule.tcp_flags}")
    icmp = [t for s in rule.specs for t in s.icmp_types]
    if icmp:
        parts.append(f"icmp type {','.join(str(t) for t in icmp)}")
    return "; ".join(parts)


def _attached(f: ConcreteFilter, hook: str, in_if: str | None, out_if: str | None) -> bool:
    for a in f.attachments:
        if a.hook == hook:
            return True
        if a.interface and ((a.direction == "in" and a.interface == in_if) or (a.direction == "out" and a.interface == out_if)):
            return True
    return False


def firewall_decision(device: str, policy: DevicePolicy, flow: Flow, hook: str = "forward", in_if: str | None = None,
                      out_if: str | None = None) -> Decision:
    """The netchange term that decides the flow at `hook`: the first attached filter's first match, or its implicit deny."""
    for f in policy.filters.values():
        if "/" in f.name or not _attached(f, hook, in_if, out_if):
            continue
        for r in f.rules:
            if rule_matches(r, flow):
                note = "; ".join(x for x in (matches_text(r), r.description or "", _judged_next(policy, f, hook, r)) if x)
                return Decision(device, f"filter {f.name} term {r.name}", r.action, note)
        return Decision(device, f"filter {f.name} implicit deny (no term matches)", "deny")
    others = sorted(f.name for f in policy.filters.values() if "/" in f.name)
    rest = f"{', '.join(others)} decides (outside netchange's table, not attributed)" if others else "accepted by default"
    return Decision(device, f"no netchange filter on {hook}, {rest}", "none")


def _judged_next(policy: DevicePolicy, f: ConcreteFilter, hook: str, r: Rule) -> str:
    """Where netchange's chain is in its own table, an accept ends only that chain: the host's own base
    chains of the hook judge the packet next (in a host's table, jumped to first, the verdict is final)."""
    layout = policy.device
    if r.action != "accept" or layout is None or getattr(layout, "table_of", lambda _n: None)(f.name) != "inet netchange":
        return ""
    others = [f"{t} {c.name} (policy {c.policy or 'accept'})" for t, tl in sorted(layout.others.items())
              for c in tl.base_chains(hook)]
    return f"then judged by the host's chain(s) {', '.join(others)}" if others else ""


def route_map_entry(policy: DevicePolicy, route_map: str, route: Route) -> str | None:
    """`entry SEQ` of the first entry of `route_map` that matches `route`, or None."""
    rm = policy.route_maps.get(route_map)
    if rm is None:
        return None
    for e in sorted(rm.entries, key=lambda e: e.seq):
        # one entry alone, forced to permit without continue: evaluate() returns a route iff it matches
        probe = DevicePolicy(prefix_lists=policy.prefix_lists, community_lists=policy.community_lists,
                             as_path_lists=policy.as_path_lists,
                             route_maps={route_map: RouteMap(name=route_map, entries=(e.model_copy(update={"action": "permit", "continue_": None}),))})
        if evaluate(probe, route_map, route) is not None:
            return f"entry {e.seq} ({e.action}{': ' + e.description if e.description else ''})"
    return None


def route_decision(device: str, policy: DevicePolicy, observer: Any, address: str) -> Decision:
    """Which neighbor's route wins for `address` on a router (its driver's observer reads the best path), and
    which inbound route-map entry shaped it."""
    found = observer.best_path(address)
    if found is None:
        return Decision(device, f"no BGP route for {address}", "none")
    peer, route = found
    afi = "ipv6" if ":" in route.prefix else "ipv4"
    where = f"best path {route.prefix} via {route.next_hop} (local-preference {route.local_pref})"
    binding = policy.binding_for(str(peer), afi, "in") if peer and peer != "0.0.0.0" else None
    if binding is None or binding.route_map is None:
        return Decision(device, f"{where}, locally originated or without inbound route-map", "none")
    entry = route_map_entry(policy, binding.route_map, route)
    return Decision(device, f"{where} set by route-map {binding.route_map} {entry or '(no entry matches)'}", "none")
