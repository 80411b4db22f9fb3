"""BGP routing policy: prefix-lists, community-lists, AS-path lists, route-maps, neighbor bindings."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ..addresses import parse_address
from ..names import FreeText, Identifier, Regex, control_char
from .base import AFI, Address, Permit, Prefix, State, Strict, afi_of
from .scope import Scope

# A change's object goes where its scope says and wherever something of the change that uses it goes; never
# part of a device's object (excluded from dumps, dropped by resolve), so running and intended compare alike.
ObjectScope = Annotated[Scope | None, Field(default=None, exclude=True, description=
    "where this object goes (host, group, role or site selectors within targets); default: wherever a binding "
    "or route-map of this change that uses it goes, or every target when nothing in the change uses it")]

Seq = Annotated[int, Field(ge=1, le=65535)]

_WELL_KNOWN = {"no-export", "no-advertise", "local-as", "internet", "graceful-shutdown", "blackhole", "no-peer", "accept-own"}


def _community(v: str) -> str:
    if v in _WELL_KNOWN:
        return v
    m = re.fullmatch(r"(\d{1,5}):(\d{1,5})", v)
    if not m or int(m.group(1)) > 65535 or int(m.group(2)) > 65535:
        raise ValueError(f"'{v}' is not a standard community (ASN:VALUE, each 0-65535, or a well-known name)")
    return v


def _large_community(v: str) -> str:
    m = re.fullmatch(r"(\d{1,10}):(\d{1,10}):(\d{1,10})", v)
    if not m or any(int(x) > 4294967295 for x in m.groups()):
        raise ValueError(f"'{v}' is not a large community (GLOBAL:LOCAL1:LOCAL2, each 0-4294967295)")
    return v


Community = Annotated[str, AfterValidator(_community)]
LargeCommunity = Annotated[str, AfterValidator(_large_community)]


def _one_line_regex(v: str) -> str:
    if control_char(v) is not None:  # a trailing newline would end the device command early
        raise ValueError("control characters and line breaks are not allowed in a regular expression")
    return v


DeviceRegex = Annotated[Regex, AfterValidator(_one_line_regex)]


def _next_hop(v: Any) -> Any:
    if v in ("self", "peer-address"):
        return v
    try:
        return parse_address(v)
    except ValueError as e:
        raise ValueError(f"{e} (a next hop is an address, self or peer-address)") from None


NextHop = Annotated[Union[ipaddress.IPv4Address, ipaddress.IPv6Address, Literal["self", "peer-address"]],
                    BeforeValidator(_next_hop)]


class PrefixListEntry(Strict):
    seq: Seq
    action: Permit
    prefix: Prefix
    ge: int | None = Field(default=None, ge=0, le=128)
    le: int | None = Field(default=None, ge=0, le=128)
    description: FreeText | None = None


class PrefixList(Strict):
    name: Identifier
    afi: AFI | None = Field(default=None, description="inferred from the entries when omitted")
    description: FreeText | None = None
    state: State = "present"
    scope: ObjectScope = None
    entries: tuple[PrefixListEntry, ...] = ()

    @property
    def family(self) -> AFI:
        if self.afi:
            return self.afi
        return afi_of(self.entries[0].prefix) if self.entries else "ipv4"


class CommunityListEntry(Strict):
    seq: Seq | None = None
    action: Permit
    communities: tuple[str, ...] = ()  # standard / large lists: all must be present (AND)
    regex: DeviceRegex | None = None  # expanded lists


class CommunityList(Strict):
    name: Identifier
    kind: Literal["standard", "expanded", "large", "large-expanded"] = "standard"
    description: FreeText | None = None
    state: State = "present"
    scope: ObjectScope = None
    entries: tuple[CommunityListEntry, ...] = ()

    @model_validator(mode="after")
    def _entries_fit_kind(self) -> "CommunityList":
        for i, e in enumerate(self.entries):
            if self.kind.endswith("expanded"):
                if not e.regex or e.communities:
                    raise ValueError(f"entry {i}: an {self.kind} community-list entry needs a regex and no communities")
            else:
                if e.regex or not e.communities:
                    raise ValueError(f"entry {i}: a {self.kind} community-list entry needs communities and no regex")
                check = _large_community if self.kind == "large" else _community
                for c in e.communities:
                    check(c)
        return self


class AsPathEntry(Strict):
    seq: Seq | None = None
    action: Permit
    regex: DeviceRegex


class AsPathList(Strict):
    name: Identifier
    description: FreeText | None = None
    state: State = "present"
    scope: ObjectScope = None
    entries: tuple[AsPathEntry, ...] = ()


class Match(Strict):
    prefix_list: Identifier | None = None
    community_list: Identifier | None = None
    large_community_list: Identifier | None = None
    as_path: Identifier | None = None
    next_hop_prefix_list: Identifier | None = None

    def references(self) -> list[tuple[str, str]]:
        """(kind, name) of every object this match clause needs."""
        out = []
        for kind, name in (("prefix_list", self.prefix_list), ("community_list", self.community_list),
                           ("community_list", self.large_community_list), ("as_path_list", self.as_path),
                           ("prefix_list", self.next_hop_prefix_list)):
            if name:
                out.append((kind, name))
        return out


class SetClause(Strict):
    local_preference: int | None = Field(default=None, ge=0, le=4294967295)
    med: int | None = Field(default=None, ge=0, le=4294967295)
    weight: int | None = Field(default=None, ge=0, le=65535)
    community_add: tuple[Community, ...] = ()
    community_replace: tuple[Community, ...] = ()
    community_delete: Identifier | None = Field(default=None, description="community-list whose matches are removed")
    large_community_add: tuple[LargeCommunity, ...] = ()
    as_path_prepend: tuple[Annotated[int, Field(ge=1, le=4294967295)], ...] = ()
    next_hop: NextHop | None = None

    @model_validator(mode="after")
    def _one_community_op(self) -> "SetClause":
        if self.community_add and self.community_replace:
            raise ValueError("community_add and community_replace exclude each other")
        return self

    def references(self) -> list[tuple[str, str]]:
        return [("community_list", self.community_delete)] if self.community_delete else []


class RouteMapEntry(Strict):
    seq: Seq
    action: Permit
    description: FreeText | None = None
    match: Match = Match()
    set: SetClause = SetClause()
    continue_: Seq | None = Field(default=None, alias="continue")

    def references(self) -> list[tuple[str, str]]:
        return self.match.references() + self.set.references()


class RouteMap(Strict):
    name: Identifier
    description: FreeText | None = None
    state: State = "present"
    scope: ObjectScope = None
    entries: tuple[RouteMapEntry, ...] = ()

    def references(self) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        for e in self.entries:
            for r in e.references():
                if r not in seen:
                    seen.append(r)
        return seen


PeerGroupName = Identifier


class NeighborBinding(Strict):
    """Which route-map a neighbor uses in one address family and direction (absent = unbound).

    On a device, `neighbor` is an address or the name of a peer-group / Junos BGP group that holds
    neighbors (DevicePolicy.peer_groups): a binding on a group applies to every member without its own."""

    neighbor: Union[Address, PeerGroupName] = Field(union_mode="left_to_right")
    afi: AFI = "ipv4"
    direction: Literal["in", "out"]
    route_map: Identifier | None = None
    state: State = "present"

    @model_validator(mode="after")
    def _needs_map(self) -> "NeighborBinding":
        if self.state == "present" and not self.route_map:
            raise ValueError("a present binding names its route_map")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        return (str(self.neighbor), self.afi, self.direction)

    @property
    def is_group(self) -> bool:
        return not isinstance(self.neighbor, (ipaddress.IPv4Address, ipaddress.IPv6Address))


def neighbor_key(neighbor: str | ipaddress.IPv4Address | ipaddress.IPv6Address, afi: str, direction: str) -> tuple[str, str, str]:
    return (str(parse_address(str(neighbor))), afi, direction)


