"""Change request + shared objects + one host -> the concrete objects that host must (not) have."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError, Location
from .base import Network, afi_of
from .change import ChangeObject, ChangeRequest
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
    if isinstance(obj, Filter):  # kind == "filter"
        points = host.data.firewall.attachments
        return bool(points) if (obj.state == "absent" or not obj.attach) else any(a in points for a in obj.attach)
    return host.data.bgp is not None


def resolve(change: ChangeRequest, store: ObjectStore, host: Host) -> list[Desired]:
    """The change's objects as they must be on *host*, in the change's own order."""
    out: list[Desired] = []
    for kind, obj in change.objects():
        if not applies_to(kind, obj, host):
            continue
        if isinstance(obj, Filter):  # kind == "filter"
            out.append(Desired(kind, obj.name, concrete_filter(obj, store, host) if obj.state == "present" else None))
        else:
            out.append(Desired(kind, obj.name, obj if obj.state == "present" else None))
    if host.data.bgp is not None:
        for b in change.routing.bindings:
            out.append(Desired("binding", b.key, b if b.state == "present" else None))
    return out


