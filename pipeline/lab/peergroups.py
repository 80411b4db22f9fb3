"""Peer-groups on lab routers (topology `peer_groups: {GROUP: [peer, ...]}`): the named peers' sessions join the
group, and the group carries the route-map bindings (RM-<GROUP>-IN/OUT, -V6- for IPv6) instead of each member
(members keep their own activation and soft-reconfiguration). For tests of bindings planned on a group."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .topology import Node, Topology, route_map_names

# FRR reads `neighbor WORD ...` as a peer-group only for names that are not CLI keywords; keep them plain.
GROUP_NAME = re.compile(r"^[A-Z][A-Z0-9-]{1,30}$")


def check(topo: Topology, name: str) -> None:
    """Each group has a valid name and only BGP peers of this node, each in one group."""
    node = topo.nodes[name]
    seen: dict[str, str] = {}
    for g, peers in node.peer_groups.items():
        if node.kind != "frr":
            raise ValueError(f"{name}: peer_groups are for frr nodes")
        if not GROUP_NAME.match(g):
            raise ValueError(f"{name}: peer-group name {g!r}: use capitals, digits and dashes (e.g. PG-UP)")
        for p in peers:
            ln = topo.link_between(name, p)
            if ln is None or not ln.bgp:
                raise ValueError(f"{name}: peer-group {g} names {p}, which is not a BGP peer")
            if p in seen:
                raise ValueError(f"{name}: {p} is in peer-groups {seen[p]} and {g}")
            seen[p] = g


def group_of(node: Node, peer: str) -> str | None:
    return next((g for g, peers in node.peer_groups.items() if peer in peers), None)


def declarations(node: Node) -> list[str]:
    """Top-level `neighbor G peer-group`, before any member joins."""
    return [f" neighbor {g} peer-group" for g in node.peer_groups]


def membership(node: Node, peer: str, addr) -> list[str]:
    g = group_of(node, peer)
    return [f" neighbor {addr} peer-group {g}"] if g else []


def af_bindings(node: Node, peers_in_family: list[str], version: int) -> list[str]:
    """The group's route-map bindings in one address family (groups with a member in it)."""
    out = []
    for g, peers in node.peer_groups.items():
        if any(p in peers for p in peers_in_family):
            rm_in, rm_out = route_map_names(g, version)
            out += [f"  neighbor {g} route-map {rm_in} in", f"  neighbor {g} route-map {rm_out} out"]
    return out


def route_maps_needed(node: Node, sessions: Sequence[tuple[str, int, object]]) -> list[str]:
    """Route-maps the sessions need: a member's come from its group."""
    out: list[str] = []
    for peer, v, _ in sessions:
        g = group_of(node, peer)
        out += route_map_names(g or peer, v)
    return out
