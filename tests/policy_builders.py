"""Tiny constructors for policy objects in tests."""

from pipeline.model import DevicePolicy, NeighborBinding, PrefixList, PrefixListEntry, RouteMap, RouteMapEntry
from pipeline.model.routing import Match


def pl(name, *entries):
    return PrefixList(name=name, afi="ipv4", entries=tuple(PrefixListEntry(seq=s, action="permit", prefix=p) for s, p in entries))


def rm(name, *entries):
    return RouteMap(name=name, entries=tuple(RouteMapEntry(seq=s, action="permit", match=Match(prefix_list=p)) for s, p in entries))


def bind(rmap, nbr="198.51.100.2", direction="in"):
    return NeighborBinding(neighbor=nbr, afi="ipv4", direction=direction, route_map=rmap)


def policy(*objs):
    p = DevicePolicy()
    for o in objs:
        if isinstance(o, PrefixList):
            p.prefix_lists[o.name] = o
        elif isinstance(o, RouteMap):
            p.route_maps[o.name] = o
        elif isinstance(o, NeighborBinding):
            p.bindings[o.key] = o
    return p
