"""Peer-groups on lab routers (topology `peer_groups: {GROUP: [peer, ...]}`): the named peers' sessions join the
group, and the group carries the route-map bindings (RM-<GROUP>-IN/OUT, -V6- for IPv6) instead of each member
(members keep their own activation and soft-reconfiguration). For tests of bindings planned on a group."""

from __future__ import annotations

from .topology import Node, route_map_names


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


def route_maps_needed(node: Node, sessions: list[tuple[str, int, object]]) -> list[str]:
    """Route-maps the sessions need: a member's come from its group."""
    out = []
    for peer, v, _ in sessions:
        g = group_of(node, peer)
        out += route_map_names(g or peer, v)
    return out
