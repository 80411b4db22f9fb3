"""Change request + shared objects + one host -> the concrete objects that host must (not) have."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import InputError, Location
from .base import Network, afi_of
from .change import Binding, ChangeObject, ChangeRequest
from .routing import NeighborBinding, RouteMap
from .firewall import Filter, ServiceSpec, Term
from .matches import ICMP_PROTOCOLS, icmp_type_number
from .objects import ObjectStore
from .policy import ConcreteFilter, Kind, PolicyObject, Rule

if TYPE_CHECKING:  # a type only: model imports nothing above it at run time
    from ..inventory import Host


@dataclass(frozen=True)
class Desired:
    """One object the change wants on a host: `obj` None means it must be absent."""

    kind: Kind
    key: object
    obj: PolicyObject | None


class TermMismatch(InputError):
    """A term's matches contradict what its services resolve to (TCP flags on a UDP service)."""


def term_specs(term: Term, store: ObjectStore) -> tuple[ServiceSpec, ...]:
    """The term's protocols (or services) as specs. ICMP type names are looked up per protocol: a name
    that only one of icmp/icmpv6 knows (packet-too-big) leaves the other protocol out."""
    if term.services:
        out: list[ServiceSpec] = []
        for s in term.services:
            out.extend(store.service(s))
        if term.tcp_flags is not None and any(sp.protocol != "tcp" for sp in out):
            raise TermMismatch(f"term {term.name}: tcp_flags need TCP, but its services include "
                               f"{', '.join(sorted({sp.protocol for sp in out if sp.protocol != 'tcp'}))}")
        return tuple(out)
    specs = []
    for p in term.protocols:
        if term.icmp_types and p in ICMP_PROTOCOLS:
            types = tuple(n for t in term.icmp_types if (n := icmp_type_number(p, t)) is not None)
            if not types:
                continue
            specs.append(ServiceSpec(protocol=p, icmp_types=types, icmp_code=term.icmp_code))
        else:
            specs.append(ServiceSpec(protocol=p, source_ports=term.source_ports, destination_ports=term.destination_ports))
    return tuple(specs)


def term_rules(term: Term, store: ObjectStore) -> list[Rule]:
    """Split a term per address family (a term without addresses applies to both). Exclusions apply in
    their own family and never decide which families a term has."""
    srcs = [n for r in term.sources for n in store.addresses(r)]
    dsts = [n for r in term.destinations for n in store.addresses(r)]
    src_x = [n for r in term.source_exclude for n in store.addresses(r)]
    dst_x = [n for r in term.destination_exclude for n in store.addresses(r)]
    families = {afi_of(n) for n in srcs + dsts} or {"ipv4", "ipv6"}
    specs = term_specs(term, store)
    rules = []
    for fam in ("ipv4", "ipv6"):
        if fam not in families:
            continue
        fam_specs = tuple(s for s in specs if not (fam == "ipv4" and s.protocol == "icmpv6") and not (fam == "ipv6" and s.protocol == "icmp"))
        if specs and not fam_specs:
            continue
        if (term.icmp_types or term.protocols) and not specs:
            continue

        def mine(nets: list[Network], fam: str = fam) -> tuple[Network, ...]:
            return tuple(n for n in nets if afi_of(n) == fam)

        rules.append(Rule(name=term.name, family=fam, sources=mine(srcs), destinations=mine(dsts),
                          source_excludes=mine(src_x), destination_excludes=mine(dst_x), specs=fam_specs,
                          states=term.states, tcp_flags=term.tcp_flags, fragment=term.fragment, dscp=term.dscp,
                          hop_limit=term.hop_limit, action=term.action, log=term.log, log_rate=term.log_rate,
                          counter=term.counter, description=term.description))
    return rules


def concrete_filter(f: Filter, store: ObjectStore, host: Host) -> ConcreteFilter:
    rules = [r for t in f.terms for r in term_rules(t, store)]
    attachments = []
    for a in f.attach:
        if a not in host.data.firewall.attachments:
            raise InputError(f"attachment point '{a}' is not defined for host {host.name}", Location("inventory/hosts.yaml", field=f"{host.name}.firewall.attachments"))
        attachments.append(host.data.firewall.attachments[a])
    return ConcreteFilter(name=f.name, description=f.description, rules=tuple(rules), attachments=tuple(attachments))


def applies_to(kind: str, obj: ChangeObject, host: Host) -> bool:
    """One change may target routers and firewalls: filters go where their attachment points exist
    (or, when removed, to hosts that filter at all), routing objects to BGP speakers."""
    scope = getattr(obj, "scope", None)
    if scope is not None and not scope.selects(host):
        return False
    if isinstance(obj, Filter):  # kind == "filter"
        points = host.data.firewall.attachments
        return bool(points) if (obj.state == "absent" or not obj.attach) else any(a in points for a in obj.attach)
    return host.data.bgp is not None


def _families(n: Any) -> list[str]:
    return [a.split("_")[0] for a in n.afis]


def named_neighbors(host: Host, name: str, peers: Mapping[str, Host] | None = None) -> list[Any]:
    """The inventory neighbors of `host` a binding names by `name`: those whose description is the name,
    else, when `name` is an inventory host, the neighbors in its AS (only if no other host has that AS)."""
    bgp = host.data.bgp
    if bgp is None:
        return []
    found = [n for n in bgp.neighbors if n.description == name]
    peer = (peers or {}).get(name)
    if found or peer is None or peer.data.bgp is None:
        return found
    asn = peer.data.bgp.asn
    if sum(1 for h in (peers or {}).values() if h.data.bgp is not None and h.data.bgp.asn == asn) != 1:
        return []
    return [n for n in bgp.neighbors if n.remote_as == asn]


def binding_applies(b: Binding, host: Host) -> bool:
    if host.data.bgp is None or (b.scope is not None and not b.scope.selects(host)):
        return False
    return not (b.by_name and b.neighbor == host.name)  # "towards r2" never applies on r2 itself


def host_bindings(change: ChangeRequest, host: Host, peers: Mapping[str, Host] | None = None) -> list[NeighborBinding]:
    """The change's bindings as they apply on `host`: names resolved to this device's neighbor address in
    each family. A name that resolves to nothing here is an input error (validation reports it first)."""
    out: list[NeighborBinding] = []
    for i, b in enumerate(change.routing.bindings):
        if not binding_applies(b, host):
            continue
        common = {"direction": b.direction, "route_map": b.route_map, "state": b.state}
        if not b.by_name:
            out.append(NeighborBinding(neighbor=b.neighbor, afi=b.address_afi, **common))
            continue
        hits = [(n, f) for n in named_neighbors(host, str(b.neighbor), peers) for f in _families(n)
                if b.afi is None or f == b.afi]
        if not hits:
            raise InputError(f"binding neighbor '{b.neighbor}' names no BGP neighbor of {host.name}"
                             + (f" in {b.afi}" if b.afi else ""),
                             Location(f"policies/changes/{change.id}.yaml", field=f"routing.bindings[{i}].neighbor"))
        out += [NeighborBinding(neighbor=n.address, afi=f, **common) for n, f in hits]
    return out


def placed_objects(change: ChangeRequest, host: Host, bindings: Iterable[NeighborBinding]) -> set[tuple[str, str]]:
    """(kind, name) of the change's objects that go to `host`: those its scope selects, those something of
    the change placed here uses (bindings, route-maps, transitively), and unscoped ones nothing uses."""
    objects: dict[tuple[str, str], ChangeObject] = {(kind, obj.name): obj for kind, obj in change.objects()}
    used = {ref for obj in objects.values() if isinstance(obj, RouteMap) for ref in obj.references()}
    used |= {("route_map", b.route_map) for b in change.routing.bindings if b.route_map}
    here: set[tuple[str, str]] = set()
    for key, obj in objects.items():
        if obj.scope is not None or key not in used:
            if applies_to(key[0], obj, host):
                here.add(key)
    here |= {("route_map", b.route_map) for b in bindings if b.route_map and ("route_map", b.route_map) in objects}
    todo = [k for k in here if k[0] == "route_map"]
    while todo:
        rm = objects[todo.pop()]
        for ref in rm.references() if isinstance(rm, RouteMap) else ():
            if ref in objects and ref not in here:
                here.add(ref)
                if ref[0] == "route_map":
                    todo.append(ref)
    return here


def resolve(change: ChangeRequest, store: ObjectStore, host: Host, peers: Mapping[str, Host] | None = None) -> list[Desired]:
    """The change's objects as they must be on *host*, in the change's own order. `peers`: the inventory's
    hosts, for bindings that name a neighbor by its host."""
    bindings = host_bindings(change, host, peers)
    here = placed_objects(change, host, bindings)
    out: list[Desired] = []
    for kind, obj in change.objects():
        if (kind, obj.name) not in here:
            continue
        if isinstance(obj, Filter):  # kind == "filter"
            out.append(Desired(kind, obj.name, concrete_filter(obj, store, host) if obj.state == "present" else None))
        else:
            out.append(Desired(kind, obj.name, obj.model_copy(update={"scope": None}) if obj.state == "present" else None))
    for b in bindings:
        out.append(Desired("binding", b.key, b if b.state == "present" else None))
    return out
