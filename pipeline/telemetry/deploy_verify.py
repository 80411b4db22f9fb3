"""Traffic verification for `netchange deploy` on the lab: the change's `verify.traffic` expectations are
checked on sampled test traffic, with a baseline taken before any commit.

    verifier, hooks, cleanup = verifier_for(change, inventory, lab_prefix)
    try:
        Deployer(change_file, project, Options(verifier=verifier, hooks=hooks), None, inventory).run()
    finally:
        cleanup()

Mapping (see `prepare`): host names become their service addresses; a flow is watched where it reaches the
destination (the router end of the destination host's link, egress), or at `at:`; `via: {host: r3}` is
watched on the node before r3 on the path from the source, and passes when the flow leaves on its
interface towards r3.  A reference point (where the flow enters that node) gives the live offered rate,
so "blocked" passes only while test traffic demonstrably arrives and then vanishes.

Verdicts: pass -> ok; fail -> not ok (the deployer rolls the wave back); inconclusive -> not ok unless the
caller passes allow_inconclusive=True (the change model has no field for it yet).
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..deploy.checks import CheckResult
from ..inventory import Inventory
from ..lab import Lab
from ..lab.topology import Topology
from ..model.change import ChangeRequest
from ..model.verify import TrafficExpectation as Wanted
from .attribution import Decision, Flow, firewall_decision, route_decision
from .errors import TelemetryError
from .lab_agents import LabTelemetry, TrafficGenerator, TrafficSpec, lab_addresses
from .verify import SETTLE_SECONDS, Baseline, Outcome, Point, Tally, TrafficExpectation, Verdict, Verifier, detail_of

DEFAULT_PORT = 9   # tcp/udp expectation without a port: any port matches; the generator uses discard


@dataclass(frozen=True)
class Endpoint:
    network: str                 # what the expectation matches (prefix or /32, /128)
    node: str | None = None      # the lab node that owns `address`
    address: str | None = None   # a concrete lab address (traffic is sent from/to it)


@dataclass
class Prepared:
    """One `verify.traffic` entry, ready to run: what to send, where to look, who is on the path."""

    wanted: Wanted
    expectation: TrafficExpectation
    traffic: TrafficSpec
    flow: Flow
    path: frozenset[str]


# -- topology helpers -------------------------------------------------------------------------------

def _distances(t: Topology, start: str) -> dict[str, int]:
    dist, queue = {start: 0}, deque([start])
    while queue:
        n = queue.popleft()
        for ln in t.links_of(n):
            p = ln.peer(n)
            if p not in dist:
                dist[p] = dist[n] + 1
                queue.append(p)
    return dist


def path_nodes(t: Topology, a: str, b: str) -> frozenset[str]:
    """Every node on some shortest path from a to b (both ends included)."""
    da, db = _distances(t, a), _distances(t, b)
    if b not in da:
        return frozenset()
    return frozenset(n for n in t.nodes if n in da and n in db and da[n] + db[n] == da[b])


def interface_toward(lab: Lab, node: str, target: str) -> str | None:
    """`node`'s interface of a first hop on a shortest path to `target` (first by name when several)."""
    t = lab.topology
    dt = _distances(t, target)
    ifaces = lab.devices[node].interfaces
    hops = sorted(p for p in ifaces if p in dt and node in dt and dt[p] == dt[node] - 1)
    return ifaces[hops[0]] if hops else None


def _service_address(t: Topology, node: str, version: int) -> str | None:
    n = t.nodes[node]
    for a in n.loopback:
        if a.version == version:
            return str(a.ip)
    for ln in t.links_of(node):
        link_addr = ln.address(node, version)
        if link_addr is not None:
            return str(link_addr.ip)
    return None


def resolve_endpoint(lab: Lab, ep: Any, version: int) -> Endpoint:
    """A host name, address or prefix -> what to match and, when the lab has one, a concrete address in it."""
    t = lab.topology
    if isinstance(ep, str):
        if ep not in t.nodes:
            raise TelemetryError(f"{ep!r} is neither an address nor a node of the lab ({', '.join(t.nodes)})")
        addr = _service_address(t, ep, version)
        if addr is None:
            raise TelemetryError(f"{ep} has no IPv{version} address")
        return Endpoint(str(ipaddress.ip_network(addr)), ep, addr)
    net = ipaddress.ip_network(str(ep), strict=False)
    owners = lab_addresses(lab)
    inside = [(a, n) for a, n in owners.items() if ipaddress.ip_address(a) in net]
    # prefer traffic hosts' service addresses (what real flows use) over router link addresses
    inside.sort(key=lambda an: (t.nodes[an[1]].kind != "host", an[0]))
    if not inside:
        return Endpoint(str(net))
    addr, node = inside[0]
    return Endpoint(str(net), node, addr)


def _version(w: Wanted) -> int:
    for ep in (w.source, w.destination):
        if not isinstance(ep, str):
            return ep.version
    return 6 if w.protocol == "icmpv6" else 4


# -- expectation mapping ----------------------------------------------------------------------------

def _via_target(lab: Lab, w: Wanted, point_node: str) -> tuple[str | None, str | None]:
    """(via_interface on the point's node, via_next_hop) for `via:`."""
    ifaces = lab.devices[point_node].interfaces
    v = w.via
    assert v is not None  # called for `expect: via` only
    if v.interface:
        return v.interface, None
    if v.host:
        if v.host in ifaces:
            return ifaces[v.host], None
        return interface_toward(lab, point_node, v.host), None
    # a next hop: the interface of the point's node on the link that holds it (the agents export no next hop)
    nh = ipaddress.ip_address(str(v.next_hop))
    for ln in lab.topology.links_of(point_node):
        net = ln.ipv4 if nh.version == 4 else ln.ipv6
        if net is not None and nh in net:
            return ifaces[ln.peer(point_node)], None
    return None, str(nh)


def _point(lab: Lab, telemetry: LabTelemetry, w: Wanted, src: Endpoint, dst: Endpoint) -> Point:
    if w.at is not None:
        return telemetry.host_point(w.at.host, w.at.interface, w.at.direction)
    if w.expect == "via":
        assert w.via is not None  # the model requires `via:` with `expect: via`
        if not w.via.host:
            raise TelemetryError(f"{w.name}: via an interface or next hop needs `at:` (which device to watch)")
        if src.node is None:
            raise TelemetryError(f"{w.name}: source {w.source} is not in the lab; give `at:`")
        t = lab.topology
        ds = _distances(t, src.node)
        before = sorted(n for n in lab.devices[w.via.host].interfaces if n in ds and ds[n] + 1 == ds.get(w.via.host, -1))
        if not before:
            raise TelemetryError(f"{w.name}: {w.via.host} is not on a path from {src.node}")
        return telemetry.host_point(before[0], None, "egress")
    if dst.node is None:
        raise TelemetryError(f"{w.name}: destination {w.destination} has no lab address; give `at:`")
    return telemetry.host_point(dst.node, None, "ingress")


def prepare(change: ChangeRequest, lab: Lab, telemetry: LabTelemetry, pps: float = 200.0) -> list[Prepared]:
    """Every traffic expectation of the change, mapped onto the lab; a TelemetryError names the first that cannot be."""
    out = []
    for w in change.verify.traffic:
        try:
            out.append(_prepare_one(w, lab, telemetry, pps))
        except TelemetryError as e:
            raise TelemetryError(f"verify.traffic {w.name}: {e}") from None
    return out


def _prepare_one(w: Wanted, lab: Lab, telemetry: LabTelemetry, pps: float) -> Prepared:
    version = _version(w)
    src, dst = resolve_endpoint(lab, w.source, version), resolve_endpoint(lab, w.destination, version)
    if src.node is None:
        raise TelemetryError(f"no lab node owns an address in source {w.source}: cannot send test traffic from it")
    assert src.address is not None  # resolve_endpoint sets node and address together
    if dst.address is None:
        raise TelemetryError(f"no lab address in destination {w.destination}: test traffic goes to lab addresses only")
    if w.protocol not in ("tcp", "udp", "icmp", "icmpv6"):
        raise TelemetryError(f"cannot generate {w.protocol} test traffic (tcp, udp, icmp, icmpv6)")
    point = _point(lab, telemetry, w, src, dst)
    if not telemetry.has_agent(point.agent):
        raise TelemetryError(f"no agent runs on {point.agent}")
    ref_if = interface_toward(lab, point.agent, src.node) if src.node != point.agent else None
    reference = Point(point.agent, ref_if, "ingress") if ref_if and ref_if != point.interface else None
    via_if = via_nh = None
    if w.expect == "via":
        assert w.via is not None  # the model requires `via:` with `expect: via`
        via_if, via_nh = _via_target(lab, w, point.agent)
        if via_if is None and via_nh is None:
            raise TelemetryError(f"cannot tell which interface of {point.agent} leads to {w.via.host}")
    ported = w.protocol in ("tcp", "udp")
    port = (w.port.lo if w.port else DEFAULT_PORT) if ported else None
    exp = TrafficExpectation(src=src.network, dst=dst.network, expect=w.expect, point=point, protocol=w.protocol,
                             dst_port=port if (ported and w.port) else None, via_interface=via_if, via_next_hop=via_nh,
                             confidence=w.confidence, reference=reference, name=w.name, **detail_of(w))
    if w.is_reply:
        # an answer: the destination opens the connection (to the source's port) or pings, the source answers
        if dst.node is None or dst.address is None:
            raise TelemetryError(f"a reply is exercised from its destination: {w.destination} has no lab node")
        sport = w.source_port.lo if w.source_port is not None else DEFAULT_PORT
        traffic = TrafficSpec(dst.node, src.address, w.protocol, sport if ported else 0, dst.address, pps)
    else:
        traffic = TrafficSpec(src.node, dst.address, w.protocol, port or 0, src.address, pps)
    TrafficGenerator.check(traffic, lab_addresses(lab))
    # what the test traffic is, for attribution: SYNs (SYN-ACKs in answer) and echo requests (replies)
    flags = w.tcp_flags.value if w.tcp_flags is not None else (0x12 if w.is_reply else 0x02) if w.protocol == "tcp" else None
    echo = {"icmp": (8, 0), "icmpv6": (128, 129)}.get(w.protocol)
    itype = w.icmp_type_number if w.icmp_type is not None else (echo[1] if w.is_reply else echo[0]) if echo else None
    flow = Flow(src.address, dst.address, w.protocol, port if w.port or not w.is_reply else None,
                w.source_port.lo if w.source_port is not None else None, icmp_type=itype,
                icmp_code=w.icmp_code if w.icmp_code is not None else (0 if echo else None), tcp_flags=flags,
                state="established" if w.is_reply else "new")
    return Prepared(w, exp, traffic, flow, path_nodes(lab.topology, src.node, dst.node) if dst.node else frozenset())


# -- the deploy-time session ------------------------------------------------------------------------

def _describe_point(p: Point) -> str:
    return " ".join(x for x in (p.agent, str(p.interface) if p.interface is not None else None, p.direction) if x)


def _seen(t: Tally | None) -> str:
    if t is None:
        return "no baseline"
    ref = f", {t.reference_samples} at the reference" if t.reference_samples else ""
    return f"{t.samples} samples at the point{ref}" + (f" ({t.via} via the hop)" if t.via else "")


@dataclass
class TrafficVerification:
    """Agents, collector, generators and verdicts for one deploy. `close` always tears everything down."""

    change: ChangeRequest
    lab: Lab
    sampling_rate: int = 10
    pps: float = 200.0
    baseline_seconds: float = 3.0
    max_seconds: float = 60.0
    allow_inconclusive: bool = False
    progress: Callable[[str], None] | None = None
    prepared: list[Prepared] = field(default_factory=list)
    baseline: Baseline | None = None
    before: dict[str, str] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.telemetry = LabTelemetry(self.lab, self.sampling_rate)
        self.generator = TrafficGenerator(self.lab)
        self.prepared = prepare(self.change, self.lab, self.telemetry, self.pps)
        # agents only where a point or reference of some expectation is
        self.telemetry.limit_to({pt.agent for p in self.prepared
                                 for pt in (p.expectation.point, p.expectation.reference) if pt is not None})
        self._started = False

    def _say(self, msg: str) -> None:
        if self.progress:
            self.progress(msg)

    def start(self) -> None:
        if not self._started:
            t0 = time.monotonic()
            self.telemetry.start()
            self._started = True
            self.timings["agents_start"] = round(time.monotonic() - t0, 2)

    def _send(self, seconds: float) -> None:
        for p in self.prepared:
            self.generator.start(p.traffic, seconds)

    def before_change(self, devices: list[Any]) -> None:
        """The `after_guard` hook: sample the flows for a while before anything is committed."""
        if not self.prepared:
            return
        self.start()
        self._say(f"traffic baseline: {len(self.prepared)} flow(s) for {self.baseline_seconds:.0f} s")
        t0 = time.monotonic()
        try:
            self._send(self.baseline_seconds + 1.0)
            time.sleep(0.3)  # first packets reach the points and the agents flush
            # the test flows started just now: count from now on, not the collector's history
            assert self.telemetry.collector is not None  # started above
            self.baseline = Verifier(self.telemetry.collector).baseline([p.expectation for p in self.prepared],
                                                                        self.baseline_seconds, history=False)
        finally:
            self.generator.stop()
        self.timings["baseline"] = round(time.monotonic() - t0, 2)
        for i, p in enumerate(self.prepared):
            why = self._attribute(p, devices, before=True)
            self.before[p.wanted.name] = _seen(self.baseline.tallies.get(i)) + (f"; {why}" if why else "")

    def verify(self, change: ChangeRequest, devices: list[Any]) -> list[CheckResult]:
        """The deployer's verifier: judge every expectation on fresh test traffic after the refresh."""
        if not self.prepared:
            return []
        self.start()
        timeout = min(float(change.verify.window_seconds), self.max_seconds)
        self._say(f"traffic verification: {len(self.prepared)} flow(s), at most {timeout:.0f} s")
        t0 = time.monotonic()
        try:
            self._send(timeout + SETTLE_SECONDS + 1.0)
            assert self.telemetry.collector is not None  # started above
            self.verdicts = Verifier(self.telemetry.collector).verify([p.expectation for p in self.prepared],
                                                                      self.baseline, timeout=timeout)
        finally:
            self.generator.stop()
        self.timings["verify"] = round(time.monotonic() - t0, 2)
        return [self._result(p, v, devices) for p, v in zip(self.prepared, self.verdicts)]

    def _result(self, p: Prepared, v: Verdict, devices: list[Any]) -> CheckResult:
        e = p.expectation
        what = f"via {e.via_interface or e.via_next_hop}" if e.expect == "via" else e.expect
        name = f"traffic {p.wanted.name}: {what} at {_describe_point(e.point)} (after {', '.join(d.name for d in devices)})"
        ok = v.outcome is Outcome.PASS or (v.outcome is Outcome.INCONCLUSIVE and self.allow_inconclusive)
        outcome = v.outcome.value + (" (counted as failed)" if v.outcome is Outcome.INCONCLUSIVE and not ok else "")
        parts = [f"{outcome}: {v.reason} after {v.elapsed:.1f} s"]
        why = self._attribute(p, devices, before=False)
        if why:
            parts.append(f"now {why}")
        if p.wanted.name in self.before:
            parts.append(f"before the change {self.before[p.wanted.name]}")
        return CheckResult(name, ok, " | ".join(parts))

    def _attribute(self, p: Prepared, devices: list[Any], before: bool) -> str:
        """The policy entries on the flow's path that decided it (never fails the check itself)."""
        found: list[Decision | str] = []
        for d in devices:
            if d.name not in p.path or d.session is None:
                continue
            try:
                driver = d.session.driver
                policy = d.original if before and d.original is not None else driver.parse(d.session.fetch())
                if "filter" in driver.kinds:  # a device that filters traffic: the term that decides the flow
                    found.append(firewall_decision(d.name, policy, p.flow))
                obs = driver.observer(d.session.conn, d.name)
                if obs is not None and "best_path" in obs.answers:  # a router: the route-map entry behind the path
                    found.append(route_decision(d.name, policy, obs, p.flow.dst))
            except Exception as e:  # attribution is an explanation; a device that cannot answer must not fail the check
                found.append(f"{d.name}: attribution unavailable ({type(e).__name__}: {e})")
        return "; ".join(str(x) for x in found)

    def close(self) -> None:
        self.generator.stop()
        self.telemetry.stop()
        self._started = False


# -- wire-up for `netchange deploy --verify-traffic` ------------------------------------------------

def lab_of(inventory: Inventory, lab_prefix: str | None = None) -> Lab:
    """The running lab this inventory describes (every host carries `lab: {prefix, ...}` host data)."""
    prefixes: set[Any] = {((h.data.model_extra or {}).get("lab") or {}).get("prefix") for h in inventory.hosts.values()}
    if None in prefixes or not prefixes:
        raise TelemetryError("--verify-traffic works on a lab inventory only (hosts without `lab:` data); "
                             "see `netchange lab inventory`")
    if lab_prefix is None:
        if len(prefixes) != 1:
            raise TelemetryError(f"the inventory mixes labs {sorted(prefixes)}: give the lab prefix")
        [lab_prefix] = prefixes
    elif prefixes != {lab_prefix}:
        raise TelemetryError(f"the inventory belongs to lab {', '.join(sorted(prefixes))}, not {lab_prefix}")
    lab = Lab.attach(lab_prefix)
    if not lab.is_up():
        raise TelemetryError(f"lab {lab_prefix} is not up: run `netchange lab up --prefix {lab_prefix}`")
    return lab


Verifier_ = Callable[[ChangeRequest, list[Any]], list[CheckResult]]
Hooks = dict[str, Callable[[list[Any]], None]]


def verifier_for(change: ChangeRequest, inventory: Inventory, lab_prefix: str | None = None, *,
                 allow_inconclusive: bool = False, progress: Callable[[str], None] | None = None,
                 collector: str | None = None, **session: Any) -> tuple[Verifier_, Hooks, Callable[[], None]]:
    """(Options.verifier, Options.hooks, cleanup) for deploying `change`: against the standing collector at
    `collector` (its API URL) with the inventory's observation points, or else on the lab behind `inventory`
    with agents and test traffic of its own.

    Raises TelemetryError (a NetchangeError: shown without a traceback) before anything is deployed when the
    inventory is not a running lab or an expectation cannot be mapped onto it. Call cleanup() in `finally`.
    """
    if collector:
        from .standing import standing_verifier

        return standing_verifier(change, inventory, collector, allow_inconclusive=allow_inconclusive,
                                 progress=progress, **session)
    lab = lab_of(inventory, lab_prefix)
    tv = TrafficVerification(change, lab, allow_inconclusive=allow_inconclusive, progress=progress, **session)
    if tv.prepared:
        tv.start()  # agent problems surface here, before the deploy begins, not inside a deploy hook
    return tv.verify, {"after_guard": tv.before_change}, tv.close
