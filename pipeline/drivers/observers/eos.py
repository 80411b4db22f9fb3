"""Arista EOS (`| json`): sessions from `show ip[v6] bgp summary`, paths from `show ip[v6] bgp ...`
(`vrfs.default.bgpRouteEntries`), UPDATE counters from `show ip bgp neighbors X`."""

from __future__ import annotations

import ipaddress

from ...model.route import Route
from .base import Observer, Session, afi_of, as_path_numbers

_IP = {"ipv4": "ip", "ipv6": "ipv6"}


def _vrf(data: dict, vrf: str = "default") -> dict:
    return (data.get("vrfs") or {}).get(vrf) or {}


def sessions_from_eos_json(data: dict, afi: str, vrf: str = "default") -> dict[tuple[str, str], Session]:
    """`show ip bgp summary | json` (or ipv6): `peers[ip].peerState`, `prefixAccepted` (older releases:
    `prefixReceived` only)."""
    out = {}
    for nbr, p in (_vrf(data, vrf).get("peers") or {}).items():
        accepted = p.get("prefixAccepted", p.get("prefixReceived", 0))
        out[(str(ipaddress.ip_address(nbr)), afi)] = Session(str(p.get("peerState")), int(accepted or 0))
    return out


def _path_route(prefix: str, p: dict) -> Route:
    detail = p.get("routeDetail") or {}
    return Route(prefix=prefix, as_path=as_path_numbers((p.get("asPathEntry") or {}).get("asPath") or ""),
                 next_hop=p.get("nextHop") or None, local_pref=p.get("localPreference"), med=p.get("med"),
                 weight=p.get("weight"), communities=frozenset(detail.get("communityList") or ()),
                 large_communities=frozenset(detail.get("largeCommunityList") or ()))


def _best(entry: dict) -> dict | None:
    paths = entry.get("bgpRoutePaths") or []
    return next((p for p in paths if (p.get("routeType") or {}).get("active")), None)


def routes_from_eos_json(data: dict, vrf: str = "default") -> list[Route]:
    """Every prefix of a `bgpRouteEntries` table (`show ip bgp`, `... neighbors X routes|received-routes`),
    by its active path, else its first."""
    out = []
    for prefix, entry in (_vrf(data, vrf).get("bgpRouteEntries") or {}).items():
        p = _best(entry) or next(iter(entry.get("bgpRoutePaths") or []), None)
        if p is not None:
            out.append(_path_route(prefix, p))
    return out


def best_path_from_eos_json(data: dict, vrf: str = "default") -> tuple[str, Route] | None:
    """(peer, best path) of the one entry `show ip bgp <address|prefix> | json` returns."""
    for prefix, entry in (_vrf(data, vrf).get("bgpRouteEntries") or {}).items():
        p = _best(entry)
        if p is not None:
            peer = ((p.get("routeDetail") or {}).get("peerEntry") or {}).get("peerAddr") or p.get("nextHop") or ""
            return str(peer), _path_route(prefix, p)
    return None


def updates_sent_from_eos_json(data: dict, neighbor: str, vrf: str = "default") -> int | None:
    for p in _vrf(data, vrf).get("peerList") or []:
        if p.get("peerAddress") == neighbor:
            return p.get("sentUpdates")
    return None


class EosObserver(Observer):
    platform = "arista_eos"
    answers = frozenset({"sessions", "route", "received", "accepted", "updates_sent", "best_path"})

    def sessions(self):
        out = {}
        for afi, ip in _IP.items():
            out.update(sessions_from_eos_json(self.json(f"show {ip} bgp summary | json"), afi))
        return out

    def route(self, prefix):
        found = best_path_from_eos_json(self.json(f"show {_IP[afi_of(prefix.split('/')[0])]} bgp {prefix} | json"))
        return found[1] if found is not None and found[1].prefix == prefix else None

    def received(self, neighbor, afi):
        return routes_from_eos_json(self.json(f"show {_IP[afi]} bgp neighbors {neighbor} received-routes | json"))

    def accepted(self, neighbor, afi):
        return routes_from_eos_json(self.json(f"show {_IP[afi]} bgp neighbors {neighbor} routes | json"))

    def updates_sent(self, neighbor):
        return updates_sent_from_eos_json(self.json(f"show {_IP[afi_of(neighbor)]} bgp neighbors {neighbor} | json"), neighbor)

    def best_path(self, address):
        return best_path_from_eos_json(self.json(f"show {_IP[afi_of(address)]} bgp {address} | json"))
