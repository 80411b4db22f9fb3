"""The concrete policy of one device: what a running config parses into and what a change resolves to.

Everything here is resolved: no object references left in filters, every firewall rule has one address
family. Parsers (running config -> DevicePolicy) and the resolver (change request -> DevicePolicy
fragment) meet here, so plan can compare like with like.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Union, cast

from pydantic import Field, field_validator, model_validator

from .base import AFI, Network, Strict
from .firewall import Fragment, FwAction, ServiceSpec
from .matches import ByteRange, ConnState, LogRate, TcpFlags, ordered_states
from .routing import AsPathList, CommunityList, NeighborBinding, PrefixList, RouteMap


class Attachment(Strict):
    """Where a filter is applied: an interface + direction, or an nftables hook chain. A policy type: the
    inventory names a host's attachment points with it (`firewall.attachments`)."""

    interface: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")
    direction: Literal["in", "out"] | None = None
    hook: Literal["input", "forward", "output"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Attachment":
        if self.hook is None and (self.interface is None or self.direction is None):
            raise ValueError("an attachment needs interface + direction, or an nftables hook")
        return self


Kind = Literal["filter", "prefix_list", "community_list", "as_path_list", "route_map", "binding"]
# Dependency order: objects referenced by others come first; bindings reference route-maps.
KIND_ORDER: tuple[Kind, ...] = ("prefix_list", "community_list", "as_path_list", "route_map", "binding", "filter")


class Rule(Strict):
    """One firewall term of one address family, fully resolved. Empty tuples (and None) mean 'any'.

    A packet matches when it is from one of `sources` but none of `source_excludes`, to one of
    `destinations` but none of `destination_excludes`, fits one of `specs` (protocol, ports, ICMP types),
    and meets every other match given: connection tracking `states` (in CONN_STATES order), `tcp_flags`,
    `fragment`, `dscp` (one of, ascending), `hop_limit` (IPv4 TTL / IPv6 hop limit)."""

    name: str
    family: AFI
    sources: tuple[Network, ...] = ()
    destinations: tuple[Network, ...] = ()
    source_excludes: tuple[Network, ...] = ()
    destination_excludes: tuple[Network, ...] = ()
    specs: tuple[ServiceSpec, ...] = ()
    states: tuple[ConnState, ...] = ()
    tcp_flags: TcpFlags | None = None
    fragment: Fragment | None = None
    dscp: tuple[int, ...] = ()
    hop_limit: ByteRange | None = None
    action: FwAction
    log: bool = False
    log_rate: LogRate | None = None
    counter: bool = False
    description: str | None = None

    @field_validator("states")
    @classmethod
    def _state_order(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return ordered_states(v)

    @field_validator("dscp")
    @classmethod
    def _dscp_order(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 <= d <= 63 for d in v):
            raise ValueError("DSCP values are 0-63")
        return tuple(sorted(set(v)))

    @property
    def matches_beyond_l4(self) -> bool:
        """Does it match on anything besides addresses, protocols and ports?"""
        return bool(self.source_excludes or self.destination_excludes or self.states or self.tcp_flags
                    or self.fragment or self.dscp or self.hop_limit
                    or any(s.icmp_types or s.icmp_code is not None for s in self.specs))


class ConcreteFilter(Strict):
    name: str
    description: str | None = None
    rules: tuple[Rule, ...] = ()
    attachments: tuple[Attachment, ...] = Field(default=())

    def family_rules(self, family: AFI) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.family == family)


PolicyObject = Union[ConcreteFilter, PrefixList, CommunityList, AsPathList, RouteMap, NeighborBinding]


class Skipped(str):
    """One thing a parser saw but could not model. It reads as its message (a str, so notes print and compare
    as text); `kind` and `name` say which policy object it sits inside when rewriting that object would lose
    or change it (None: outside every object, or harmless to a rewrite), and `line` is the device's own text
    of it. The planner refuses to rewrite an object that has any (see plan/planner.py)."""

    kind: Kind | None
    name: str | None
    line: str | None

    def __new__(cls, text: str, kind: Kind | None = None, name: str | None = None, line: str | None = None) -> "Skipped":
        self = super().__new__(cls, text)
        self.kind, self.name, self.line = kind, name, line
        return self

    @property
    def owner(self) -> tuple[str, str] | None:
        return (self.kind, self.name) if self.kind is not None and self.name is not None else None

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "name": self.name, "line": self.line, "note": str(self)}


@dataclass(frozen=True)
class Use:
    """A line on the device that names a policy object and is not itself one of the objects the model holds:
    where a binding is written (a neighbor's, a peer group's, a router-level one, a Junos group's import),
    `redistribute ... route-map`, a Junos firewall term's `source-prefix-list`. Reference safety, versioned
    switches and shadowed edits respect or re-point these (see plan/versioned.py, plan/shadow.py)."""

    kind: Kind  # what it names
    name: str  # the name, as the device has it
    context: tuple[str, ...]  # the device's own lines that open the mode the line sits in (IOS-style); () on Junos
    line: tuple[str, ...]  # the line, as tokens (Junos: the statement's path without `set`); () if not re-pointable
    at: int  # where the name is in `line` (-1: a reference that cannot be re-pointed, e.g. a Junos policy expression)
    covers: tuple[tuple[str, str, str], ...] = ()  # the model bindings (neighbor, afi, direction) this line decides
    who: str = ""  # for a person
    chain_next: str | None = None  # a Junos policy chain: the policy after this one (re-pointing keeps the order)

    @property
    def repointable(self) -> bool:
        return self.at >= 0

    def renamed(self, name: str) -> "Use":
        line = self.line[:self.at] + (name,) + self.line[self.at + 1:]
        return Use(self.kind, name, self.context, line, self.at, self.covers, self.who, self.chain_next)


@dataclass
class DevicePolicy:
    """Named policy objects of one device, by kind. Bindings are keyed (neighbor, afi, direction)."""

    filters: dict[str, ConcreteFilter] = field(default_factory=dict)
    prefix_lists: dict[str, PrefixList] = field(default_factory=dict)
    community_lists: dict[str, CommunityList] = field(default_factory=dict)
    as_path_lists: dict[str, AsPathList] = field(default_factory=dict)
    route_maps: dict[str, RouteMap] = field(default_factory=dict)
    bindings: dict[tuple[str, str, str], NeighborBinding] = field(default_factory=dict)
    # What the parser saw but could not model (hostile names, unsupported syntax): never silently dropped.
    # Plain strings are notes about no object in particular; `Skipped` notes name the object they sit in.
    skipped: list[str] = field(default_factory=list)
    # Where the objects sit on the device, for drivers that edit them in place by the device's own handles
    # (nftables: chains and rule handles of netchange's table). Not compared, not part of the model.
    device: Any = field(default=None, compare=False)
    # Lines naming objects outside the modelled objects themselves (see Use). Not compared.
    uses: list[Use] = field(default_factory=list, compare=False)
    # Peer-groups (FRR, IOS, EOS) and Junos BGP groups: group name -> member neighbor addresses. A binding
    # keyed by a group name applies to every member without a binding of its own (`binding_for`).
    peer_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, kind: Kind) -> dict[Any, Any]:
        tables: dict[str, dict[Any, Any]] = {
            "filter": self.filters, "prefix_list": self.prefix_lists, "community_list": self.community_lists,
            "as_path_list": self.as_path_lists, "route_map": self.route_maps, "binding": self.bindings}
        return tables[kind]

    def get(self, kind: Kind, key: object) -> PolicyObject | None:
        obj: PolicyObject | None = self.table(kind).get(key)
        return obj

    def put(self, kind: Kind, key: object, obj: PolicyObject) -> None:
        self.table(kind)[key] = obj

    def remove(self, kind: Kind, key: object) -> None:
        self.table(kind).pop(key, None)

    def items(self) -> Iterator[tuple[Kind, object, PolicyObject]]:
        for kind in KIND_ORDER:
            for key, obj in self.table(kind).items():
                yield kind, key, obj

    def copy(self) -> "DevicePolicy":
        return DevicePolicy(dict(self.filters), dict(self.prefix_lists), dict(self.community_lists),
                            dict(self.as_path_lists), dict(self.route_maps), dict(self.bindings), list(self.skipped),
                            self.device, list(self.uses), self.peer_groups)

    def group_of(self, neighbor: str) -> str | None:
        return next((g for g, members in self.peer_groups.items() if neighbor in members), None)

    def binding_for(self, neighbor: str, afi: str, direction: str) -> NeighborBinding | None:
        """The binding that applies to a neighbor: its own, else its group's."""
        own = self.bindings.get((neighbor, afi, direction))
        if own is not None:
            return own
        group = self.group_of(neighbor)
        return self.bindings.get((group, afi, direction)) if group else None

    def effective_bindings(self) -> dict[tuple[str, str, str], NeighborBinding]:
        """Every neighbor's binding as it applies (a group's copied onto each member without its own)."""
        out = {k: b for k, b in self.bindings.items() if not b.is_group}
        for (group, afi, direction), b in self.bindings.items():
            if b.is_group:
                for m in self.members(group, afi, direction):
                    out[(m, afi, direction)] = b.model_copy(update={"neighbor": ipaddress.ip_address(m)})
        return out

    def members(self, group: str, afi: str, direction: str) -> list[str]:
        """Members of `group` in family `afi` that take the group's binding (no binding of their own)."""
        version = 4 if afi == "ipv4" else 6
        return [m for m in self.peer_groups.get(group, ()) if ipaddress.ip_address(m).version == version
                and (m, afi, direction) not in self.bindings]

    def counts(self) -> dict[str, int]:
        return {k: len(self.table(k)) for k in KIND_ORDER}

    def unmodelled_in(self, keys: set[tuple[str, str]]) -> list[Skipped]:
        """Notes of what could not be modelled inside the objects `keys` = {(kind, name)}: rewriting one of
        them would drop or change those lines on the device."""
        return [s for s in self.skipped if isinstance(s, Skipped) and s.owner in keys]

    def uses_of(self, kind: Kind, name: str) -> list[Use]:
        return [u for u in self.uses if u.kind == kind and u.name == name]

    def route_maps_using(self, kind: Kind, name: str) -> list[str]:
        """Route-maps that reference object (kind, name)."""
        return [rm.name for rm in self.route_maps.values() if (kind, name) in rm.references()]


_CLASSES: dict[str, type[PolicyObject]] = {"filter": ConcreteFilter, "prefix_list": PrefixList, "community_list": CommunityList,
            "as_path_list": AsPathList, "route_map": RouteMap, "binding": NeighborBinding}


def policy_to_json(p: DevicePolicy) -> dict[str, list[Any]]:
    """Plain-JSON form (journal files): objects by kind; bindings rebuild their keys on load."""
    out: dict[str, Any] = {kind: [o.model_dump(mode="json", by_alias=True) for o in p.table(kind).values()] for kind in KIND_ORDER}
    if p.peer_groups:
        out["peer_groups"] = {g: list(m) for g, m in p.peer_groups.items()}
    return out


def policy_from_json(data: dict[str, Any]) -> DevicePolicy:
    p = DevicePolicy()
    for name, objs in data.items():
        if name == "peer_groups":
            p.peer_groups = {g: tuple(m) for g, m in objs.items()}
            continue
        kind = cast(Kind, name)
        cls = _CLASSES[kind]
        for raw in objs:
            o = cls.model_validate(raw)
            p.put(kind, o.key if isinstance(o, NeighborBinding) else o.name, o)
    return p


def object_from_json(kind: Kind, raw: Any) -> PolicyObject:
    """One policy object of `kind` from its JSON form (policy_to_json, plan files), validated."""
    return _CLASSES[kind].model_validate(raw)
