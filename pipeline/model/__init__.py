"""The typed policy model at the centre of netchange (pydantic v2, frozen, extra keys forbidden)."""

from .base import AFI, Network, State
from .change import ChangeRequest, FirewallSection, RoutingSection, Targets, Window
from .firewall import Filter, PortRange, ServiceSpec, Term
from .objects import ObjectStore
from .policy import KIND_ORDER, ConcreteFilter, DevicePolicy, Kind, Rule
from .resolve import Desired, resolve
from .routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, NeighborBinding, PrefixList,
                      PrefixListEntry, RouteMap, RouteMapEntry, SetClause)
from .verify import RouteExpectation, TrafficExpectation, Verify

__all__ = [
    "AFI", "Network", "State", "ChangeRequest", "FirewallSection", "RoutingSection", "Targets", "Window", "Filter",
    "PortRange", "ServiceSpec", "Term", "ObjectStore", "KIND_ORDER", "ConcreteFilter", "DevicePolicy", "Kind", "Rule",
    "Desired", "resolve", "AsPathEntry", "AsPathList", "CommunityList", "CommunityListEntry", "Match",
    "NeighborBinding", "PrefixList", "PrefixListEntry", "RouteMap", "RouteMapEntry", "SetClause", "RouteExpectation",
    "TrafficExpectation", "Verify",
]
