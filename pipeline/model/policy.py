"""The concrete policy of one device: what a running config parses into and what a change resolves to.

Everything here is resolved: no object references left in filters, every firewall rule has one address
family. Parsers (running config -> DevicePolicy) and the resolver (change request -> DevicePolicy
fragment) meet here, so plan can compare like with like.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Union

from pydantic import Field, model_validator

from .base import AFI, Network, Strict
from .firewall import FwAction, ServiceSpec
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
    """One firewall term of one address family, fully resolved. Empty tuples mean 'any'."""

    name: str
    family: AFI
    sources: tuple[Network, ...] = ()
    destinations: tuple[Network, ...] = ()
    specs: tuple[ServiceSpec, ...] = ()
    action: FwAction
    log: bool = False
    counter: bool = False
    description: str | None = None


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

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "line": self.line, "note": str(self)}


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
    # Peer-groups (FRR, IOS, EOS) and Junos BGP groups: group name -> member neighbor addresses. A binding
    # keyed by a group name applies to every member without a binding of its own (`binding_for`).
    peer_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, kind: Kind) -> dict:
        return {"filter": self.filters, "prefix_list": self.prefix_lists, "community_list": self.community_lists,
                "as_path_list": self.as_path_lists, "route_map": self.route_maps, "binding": self.bindings}[kind]

    def get(self, kind: Kind, key) -> PolicyObject | None:
        return self.table(kind).get(key)

    def put(self, kind: Kind, key, obj: PolicyObject) -> None:
        self.table(kind)[key] = obj

    def remove(self, kind: Kind, key) -> None:
        self.table(kind).pop(key, None)

    def items(self) -> Iterator[tuple[Kind, object, PolicyObject]]:
        for kind in KIND_ORDER:
            for key, obj in self.table(kind).items():
                yield kind, key, obj

    def copy(self) -> "DevicePolicy":
        out = DevicePolicy(dict(self.filters), dict(self.prefix_lists), dict(self.community_lists),
                           dict(self.as_path_lists), dict(self.route_maps), dict(self.bindings), list(self.skipped),
                           self.device)
        out.peer_groups = self.peer_groups
        return out

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

    def route_maps_using(self, kind: Kind, name: str) -> list[str]:
        """Route-maps that reference object (kind, name)."""
        return [rm.name for rm in self.route_maps.values() if (kind, name) in rm.references()]


_CLASSES = {"filter": ConcreteFilter, "prefix_list": PrefixList, "community_list": CommunityList,
            "as_path_list": AsPathList, "route_map": RouteMap, "binding": NeighborBinding}


def policy_to_json(p: DevicePolicy) -> dict:
    """Plain-JSON form (journal files): objects by kind; bindings rebuild their keys on load."""
    out: dict = {kind: [o.model_dump(mode="json", by_alias=True) for o in p.table(kind).values()] for kind in KIND_ORDER}
    if p.peer_groups:
        out["peer_groups"] = {g: list(m) for g, m in p.peer_groups.items()}
    return out


def policy_from_json(data: dict) -> DevicePolicy:
    p = DevicePolicy()
    for kind, objs in data.items():
        if kind == "peer_groups":
            p.peer_groups = {g: tuple(m) for g, m in objs.items()}
            continue
        cls = _CLASSES[kind]
        for raw in objs:
            o = cls.model_validate(raw)
            p.put(kind, o.key if kind == "binding" else o.name, o)
    return p


def object_from_json(kind: Kind, raw: Any) -> PolicyObject:
    """One policy object of `kind` from its JSON form (policy_to_json, plan files), validated."""
    return _CLASSES[kind].model_validate(raw)
