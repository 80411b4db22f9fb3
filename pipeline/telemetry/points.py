"""A change's `verify.traffic` resolved against the inventory's observation points (no topology).

Where to look:
- `at: {host, interface, direction}`: that host's agent; a host without an agent is watched from the
  point that `sees` it, with the direction mirrored (what srv1 receives, fw1 sends on its link to srv1).
- `expect: via` with `via: {host: X}`: the agent whose point sees X, egress on any interface, counting
  the samples that leave through X's interface; `via.interface` / `via.next_hop` need `at:`.
- otherwise: the point whose prefixes hold the destination most specifically, egress (the traffic leaves
  the agent towards it).
The reference point is, on the same agent, the point whose prefixes hold the source (ingress): its live
rate tells how much of the flow was offered.  Host names are the hosts that points `see`; their addresses
are their probe addresses, else their points' prefixes.

Active expectations send test traffic from the source's probe (inventory `probe:`); passive ones judge the
live traffic that matches.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

from .errors import TelemetryError
from .hostdata import ObservationPoint, Probe
from .verify import Point, TrafficExpectation, detail_of

_MIRROR: dict[str, Literal["ingress", "egress"]] = {"ingress": "egress", "egress": "ingress"}
DEFAULT_PORT = 9


@dataclass(frozen=True)
class InventoryPoint:
    agent: str
    point: ObservationPoint

    @property
    def interface(self) -> str:
        return self.point.interface

    @property
    def name(self) -> str:
        return f"{self.agent}:{self.point.interface}"

    def best_match(self, net: ipaddress._BaseNetwork) -> int:
        """Prefix length of the most specific of this point's prefixes holding `net`, -1 if none does."""
        return max((p.prefixlen for p in self.point.prefixes if p.version == net.version and net.subnet_of(p)), default=-1)


@dataclass(frozen=True)
class ProbePlan:
    host: str
    probe: Probe
    src: str
    dst: str
    protocol: str
    port: int


@dataclass(frozen=True)
class Resolved:
    wanted: Any                        # model.verify.TrafficExpectation
    expectation: TrafficExpectation
    mode: str                          # passive | active
    probe: ProbePlan | None
    where: str                         # e.g. "fw1:to-srv1 egress"


class Points:
    """The inventory's observation points."""

    def __init__(self, inventory: Any) -> None:  # an Inventory
        self.points: list[InventoryPoint] = []
        for name, host in inventory.hosts.items():
            tel = getattr(host.data, "telemetry", None)
            for p in (tel.points if tel is not None else ()):
                self.points.append(InventoryPoint(name, p))
        self.agents = {p.agent for p in self.points}

    def __bool__(self) -> bool:
        return bool(self.points)

    def interfaces(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for p in self.points:
            if p.point.ifindex is not None:
                out.setdefault(p.agent, {})[p.interface] = p.point.ifindex
        return out

    def names(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for p in self.points:
            out.setdefault(p.agent, {})[p.interface] = p.name
        return out

    def seeing(self, host: str) -> list[InventoryPoint]:
        return [p for p in self.points if p.point.sees == host]

    def probe_of(self, host: str) -> Probe | None:
        return next((p.point.probe for p in self.seeing(host) if p.point.probe is not None), None)

    def hosts(self) -> set[str]:
        return {p.point.sees for p in self.points if p.point.sees}

    def holding(self, net, agent: str | None = None, defaults: bool = True) -> list[InventoryPoint]:
        """Points (of `agent`) whose prefixes hold `net`, most specific first."""
        scored = [(p.best_match(net), p) for p in self.points if agent is None or p.agent == agent]
        scored = [(s, p) for s, p in scored if s >= (0 if defaults else 1)]
        if not scored:
            return []
        best = max(s for s, _ in scored)
        return [p for s, p in scored if s == best]


def _version(w) -> int:
    for ep in (w.source, w.destination):
        if not isinstance(ep, str):
            return ep.version
    return 6 if w.protocol == "icmpv6" else 4


def _endpoint(points: Points, ep: Any, version: int, what: str) -> tuple[ipaddress._BaseNetwork, str | None]:
    """(network to match, host name if `ep` named one)."""
    if not isinstance(ep, str):
        return ipaddress.ip_network(str(ep), strict=False), None
    probe = points.probe_of(ep)
    if probe is not None:
        addr = next((a for a in probe.addresses if a.version == version), None)
        if addr is not None:
            return ipaddress.ip_network(addr), ep
    nets = [n for p in points.seeing(ep) for n in p.point.prefixes if n.version == version and n.prefixlen > 0]
    if not nets:
        known = ", ".join(sorted(points.hosts())) or "none"
        raise TelemetryError(f"{what} {ep!r} is neither an address nor a host an observation point sees (known: {known})")
    return min(nets, key=lambda n: n.num_addresses), ep


def _unique(found: list[InventoryPoint], what: str) -> InventoryPoint:
    if not found:
        raise TelemetryError(f"no observation point sees {what}")
    agents = sorted({p.name for p in found})
    if len(agents) > 1:
        raise TelemetryError(f"{what} is seen by several points ({', '.join(agents)}): choose one with `at:`")
    return found[0]


def _point(points: Points, w, src, dst) -> tuple[Point, str | None, str | None]:
    """(where to look, via interface, via next hop)."""
    at = w.at
    base: Point | None = None
    if at is not None:
        if at.host in points.agents:
            base = Point(at.host, at.interface, at.direction)
        else:
            seen = [p for p in points.seeing(at.host)]
            p = _unique(seen, f"host {at.host}")
            base = Point(p.agent, p.interface, _MIRROR.get(at.direction) if at.direction else None)
    if w.expect == "via":
        v = w.via
        if v.host:
            hops = points.seeing(v.host)
            if base is not None:
                hops = [p for p in hops if p.agent == base.agent]
            hop = _unique(hops, f"via host {v.host}")
            return base or Point(hop.agent, None, "egress"), hop.interface, None
        if base is None:
            raise TelemetryError("via an interface or a next hop needs `at:` (which agent to watch)")
        if v.interface:
            return base, v.interface, None
        nh = ipaddress.ip_network(str(v.next_hop))
        holders = points.holding(nh, base.agent, defaults=False)
        return base, (holders[0].interface if holders else None), (None if holders else str(v.next_hop))
    if base is not None:
        return base, None, None
    found = points.holding(dst, defaults=False)
    if isinstance(w.destination, str):  # a host: the points that see it come first
        found = [p for p in found if p.point.sees == w.destination] or found
    p = _unique(found, f"destination {w.destination}")
    return Point(p.agent, p.interface, "egress"), None, None


def _reference(points: Points, point: Point, src) -> Point | None:
    found = [p for p in points.holding(src, point.agent) if p.interface != point.interface]
    return Point(point.agent, found[0].interface, "ingress") if len(found) == 1 else None


def resolve(change, inventory, points: Points | None = None) -> list[Resolved]:
    """Every `verify.traffic` entry of the change on the inventory's points; a TelemetryError names the
    first that cannot be resolved (before anything is deployed)."""
    points = points or Points(inventory)
    if change.verify.traffic and not points:
        raise TelemetryError("the inventory has no observation points (host data telemetry.points)")
    out = []
    for w in change.verify.traffic:
        try:
            out.append(_resolve_one(points, w))
        except TelemetryError as e:
            raise TelemetryError(f"verify.traffic {w.name}: {e}") from None
    return out


def _resolve_one(points: Points, w) -> Resolved:
    version = _version(w)
    src, src_host = _endpoint(points, w.source, version, "source")
    dst, dst_host = _endpoint(points, w.destination, version, "destination")
    point, via_if, via_nh = _point(points, w, src, dst)
    if point.agent not in points.agents:
        raise TelemetryError(f"{point.agent} runs no agent with observation points")
    ported = w.protocol in ("tcp", "udp")
    mode = getattr(w, "mode", None) or "passive"
    exp = TrafficExpectation(src=str(src), dst=str(dst), expect=w.expect, point=point, protocol=w.protocol,
                             dst_port=w.port.lo if (ported and w.port) else None, via_interface=via_if,
                             via_next_hop=via_nh, confidence=w.confidence, reference=_reference(points, point, src),
                             name=w.name, **detail_of(w))
    plan = None
    if mode == "active" and w.is_reply:
        raise TelemetryError("active: a reply (TCP with ACK, an echo-reply) is the answer to traffic its destination "
                             "starts; a probe sends from the source only: check it passively (mode: passive)")
    if mode == "active":
        plan = _probe_plan(points, w, src, src_host, dst, ported)
    where = " ".join(str(x) for x in (point.agent, point.interface, point.direction) if x)
    return Resolved(w, exp, mode, plan, where)


def _probe_plan(points: Points, w, src, src_host, dst, ported: bool) -> ProbePlan:
    if w.protocol not in ("tcp", "udp", "icmp", "icmpv6"):
        raise TelemetryError(f"a probe cannot send {w.protocol} (tcp, udp, icmp, icmpv6)")
    host = src_host or next((h for h in sorted(points.hosts()) if (pr := points.probe_of(h))
                             and any(ipaddress.ip_address(a) in src for a in pr.addresses)), None)
    probe = points.probe_of(host) if host else None
    if probe is None or host is None:
        raise TelemetryError(f"active: no probe host in the inventory sends from {w.source}")
    src_addr = next((str(a) for a in probe.addresses if ipaddress.ip_address(a) in src), None)
    if src_addr is None:
        raise TelemetryError(f"active: probe {host} has no address in {src}")
    # test traffic goes only to what an observation point names as reached through it (never a default route)
    targets = [a for h in sorted(points.hosts()) if (pr := points.probe_of(h)) for a in pr.addresses
               if ipaddress.ip_address(a) in dst]
    dst_addr = str(targets[0]) if targets else (str(dst.network_address) if dst.prefixlen == dst.max_prefixlen else None)
    if dst_addr is None or not points.holding(ipaddress.ip_network(dst_addr), defaults=False):
        raise TelemetryError(f"active: no known address in {w.destination} that an observation point reaches to send to")
    port = (w.port.lo if w.port else DEFAULT_PORT) if ported else 0
    return ProbePlan(host, probe, src_addr, dst_addr, w.protocol, port)
