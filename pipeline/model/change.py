"""A change request: one YAML file per merge request under policies/changes/<ID>.yaml."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Iterator, Literal, Union

from pydantic import Field, model_validator

from ..names import Identifier, Label, Prose
from .base import AFI, Address, State, Strict
from .firewall import Filter
from .policy import Kind
from .routing import AsPathList, CommunityList, PrefixList, RouteMap
from .scope import Scope
from .verify import Verify



# what a change request defines (the routing ones are already their device form)
ChangeObject = Union[Filter, PrefixList, CommunityList, AsPathList, RouteMap]


class Window(Strict):
    not_before: dt.datetime
    not_after: dt.datetime

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self._aware(self.not_after) <= self._aware(self.not_before):
            raise ValueError("not_after must be later than not_before")
        return self

    @staticmethod
    def _aware(t: dt.datetime) -> dt.datetime:
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)

    def contains(self, now: dt.datetime) -> bool:
        return self._aware(self.not_before) <= self._aware(now) <= self._aware(self.not_after)


class Targets(Scope):
    @model_validator(mode="after")
    def _not_empty(self) -> "Targets":
        if not (self.hosts or self.groups or self.roles or self.sites):
            raise ValueError("targets must select at least one host, group, role or site")
        return self


class Binding(Strict):
    """A change's binding: which route-map a neighbor uses, on the targets its scope selects. Resolved per
    device into NeighborBindings (model/resolve.py); a neighbor inheriting its binding from a peer-group or
    Junos BGP group is planned on the group (plan/groups.py)."""

    neighbor: Union[Address, Identifier] = Field(union_mode="left_to_right", description=(
        "the neighbor's address, or a name: an inventory host or a neighbor description, resolved on each device "
        "to that device's neighbor address per address family"))
    afi: AFI | None = Field(default=None, description=(
        "address family; omitted: the address's own family for an address, every family the named neighbor has on the device"))
    direction: Literal["in", "out"]
    route_map: Identifier | None = None
    state: State = "present"
    scope: Scope | None = Field(default=None, description=(
        "the targets this binding applies on (default: every BGP target; a binding naming a host never "
        "applies on that host itself)"))

    @model_validator(mode="after")
    def _needs_map(self) -> "Binding":
        if self.state == "present" and not self.route_map:
            raise ValueError("a present binding names its route_map")
        return self

    @property
    def by_name(self) -> bool:
        return isinstance(self.neighbor, str)

    @property
    def address_afi(self) -> AFI:
        """The family of a binding by address: as written, else the address's own (a binding for an IPv6
        neighbor is for its IPv6 routes unless it says otherwise)."""
        if self.afi:
            return self.afi
        return "ipv6" if isinstance(self.neighbor, ipaddress.IPv6Address) else "ipv4"

    @property
    def key(self) -> tuple[str, str, str]:
        """(neighbor as written, afi, direction): an address without afi is in its own family (as it
        resolves), a name without afi 'any'. Two bindings with the same key and scope collide."""
        return (str(self.neighbor), "any" if self.by_name and not self.afi else self.address_afi, self.direction)


class FirewallSection(Strict):
    filters: tuple[Filter, ...] = ()


class RoutingSection(Strict):
    prefix_lists: tuple[PrefixList, ...] = ()
    community_lists: tuple[CommunityList, ...] = ()
    as_path_lists: tuple[AsPathList, ...] = ()
    route_maps: tuple[RouteMap, ...] = ()
    bindings: tuple[Binding, ...] = ()


class ChangeRequest(Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}-[0-9]{1,8}$", description="e.g. CHG-0042; equals the file name")
    # Never sent to a device: any printable one-line text (apostrophes, quotes, '#', ...).
    title: Label
    description: Prose | None = None
    ticket: Label | None = None
    requested_by: Label
    window: Window | None = None
    risk: Literal["low", "medium", "high"] = "medium"
    rollback: Prose | None = Field(default=None, description="notes for a manual rollback")
    strategy: Literal["in_place", "versioned"] = "in_place"
    targets: Targets
    firewall: FirewallSection = FirewallSection()
    routing: RoutingSection = RoutingSection()
    verify: Verify = Verify()

    def objects(self) -> Iterator[tuple[Kind, ChangeObject]]:
        """Every policy object of the change as (kind, object)."""
        for f in self.firewall.filters:
            yield "filter", f
        for p in self.routing.prefix_lists:
            yield "prefix_list", p
        for c in self.routing.community_lists:
            yield "community_list", c
        for a in self.routing.as_path_lists:
            yield "as_path_list", a
        for r in self.routing.route_maps:
            yield "route_map", r


