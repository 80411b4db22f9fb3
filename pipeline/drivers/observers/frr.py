"""FRR (vtysh `... json`): every question, from bgpd's own JSON."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from ...model.route import Route
from .base import Counters, Observer, Session, afi_of

AF_KEYS = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}


def routes_from_frr_json(data: dict) -> list[Route]:
    """Routes from FRR `show bgp <afi> unicast neighbors X received-routes json` (or `routes json`)."""
    table = data.get("receivedRoutes") or data.get("routes") or data.get("advertisedRoutes") or {}
    # eBGP routes carry no LOCAL_PREF; FRR prints it only sometimes. Use the effective value everywhere.
    default_lp = data.get("defaultLocPrf", 100)
    out = []
    for prefix, info in table.items():
        if isinstance(info, list):  # `routes json` gives a list of paths per prefix
            info = next((p for p in info if p.get("bestpath") or p.get("valid")), info[0]) if info else {}
        path = str(info.get("path", "") or info.get("aspath", {}).get("string", ""))
        nh = info.get("nextHop") or next((h.get("ip") for h in info.get("nexthops", []) if h.get("ip")), None)
        comm = info.get("community", {}).get("string", "") if isinstance(info.get("community"), dict) else ""
        lcomm = info.get("largeCommunity", {}).get("string", "") if isinstance(info.get("largeCommunity"), dict) else ""
        out.append(Route(prefix=prefix, as_path=tuple(int(a) for a in re.findall(r"\d+", path)), next_hop=nh,
                         local_pref=info.get("locPrf", default_lp), med=info.get("metric"), weight=info.get("weight"),
                         communities=frozenset(comm.split()), large_communities=frozenset(lcomm.split())))
    return out


def sessions_from_frr_json(data: dict) -> dict[tuple[str, str], Session]:
    """`show bgp summary json`: per address family, `peers[ip].state` and `pfxRcd` (accepted routes)."""
    out = {}
    for af_key, afi in AF_KEYS.items():
        for nbr, p in (data.get(af_key) or {}).get("peers", {}).items():
            out[(str(ipaddress.ip_address(nbr)), afi)] = Session(str(p.get("state")), int(p.get("pfxRcd") or 0))
    return out


def best_path_from_frr_json(data: dict) -> Route | None:
    """The best path of `show bgp <afi> unicast <prefix> json`."""
    paths = data.get("paths") or []
    best = next((p for p in paths if (p.get("bestpath") or {}).get("overall") or p.get("bestpath") is True), None)
    if best is None:
        return None
    comm = best.get("community", {}).get("string", "") if isinstance(best.get("community"), dict) else ""
    lcomm = best.get("largeCommunity", {}).get("string", "") if isinstance(best.get("largeCommunity"), dict) else ""
    aspath = best.get("aspath", {}).get("string", "") if isinstance(best.get("aspath"), dict) else ""
    nh = next((h.get("ip") for h in best.get("nexthops", []) if h.get("ip")), None)
    return Route(prefix=str(data.get("prefix", "")), as_path=tuple(int(a) for a in aspath.split() if a.isdigit()),
                 next_hop=nh, local_pref=best.get("locPrf", best.get("localpref")), med=best.get("metric", best.get("med")),
                 weight=best.get("weight"), communities=frozenset(comm.split()), large_communities=frozenset(lcomm.split()))


def counters_from_frr_json(data: dict, neighbor: str) -> Counters | None:
    """`show bgp neighbors X json`: messageStats (routeRefreshSent/Recv, updatesRecv) and whether Enhanced
    Route Refresh was negotiated (measured on FRR 8.4: one `clear ... soft in` without soft-reconfiguration
    adds 1 to routeRefreshSent and 2 to routeRefreshRecv, the peer's BoRR and EoRR)."""
    n = (data.get(neighbor) or next(iter(data.values()), None)) if data else None
    if not isinstance(n, dict) or "messageStats" not in n:
        return None
    stats = n["messageStats"]
    caps = n.get("neighborCapabilities") or {}
    kept = frozenset(AF_KEYS[k] for k, af in (n.get("addressFamilyInfo") or {}).items()
                     if k in AF_KEYS and isinstance(af, dict) and af.get("inboundSoftConfigPermit"))
    return Counters(int(stats.get("routeRefreshSent") or 0), int(stats.get("routeRefreshRecv") or 0),
                    int(stats.get("updatesRecv") or 0), caps.get("enhancedRouteRefresh") == "advertisedAndReceived", kept)


class FrrObserver(Observer):
    platform = "frr"
    answers = frozenset({"sessions", "route", "received", "accepted", "updates_sent", "counters", "best_path"})

    def sessions(self):
        return sessions_from_frr_json(self.json("show bgp summary json"))

    def accepted(self, neighbor, afi):
        return routes_from_frr_json(self.json(f"show bgp {afi} unicast neighbors {neighbor} routes json"))

    def received(self, neighbor, afi):
        data = self.json(f"show bgp {afi} unicast neighbors {neighbor} received-routes json")
        if "receivedRoutes" not in data:
            return None  # no soft-reconfiguration inbound: Adj-RIB-In not kept
        return routes_from_frr_json(data)

    def updates_sent(self, neighbor):
        data = self.json(f"show bgp neighbors {neighbor} json")
        stats = (data.get(neighbor) or {}).get("messageStats") or {}
        return stats.get("updatesSent")

    def counters(self, neighbor):
        return counters_from_frr_json(self.json(f"show bgp neighbors {neighbor} json"), neighbor)

    def route(self, prefix):
        found = best_path_from_frr_json(self.json(f"show bgp {afi_of(prefix.split('/')[0])} unicast {prefix} json"))
        return replace(found, prefix=prefix) if found is not None else None

    def best_path(self, address):
        data = self.json(f"show bgp {afi_of(address)} unicast {address} json")
        best = best_path_from_frr_json(data)
        if best is None or not data.get("prefix"):
            return None
        peer = next(((p.get("peer") or {}).get("peerId") for p in data.get("paths") or []
                     if (p.get("bestpath") or {}).get("overall")), None) or best.next_hop
        return str(peer), best
