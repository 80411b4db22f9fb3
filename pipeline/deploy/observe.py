"""Read BGP state from a device for guards, refresh confirmation and post-checks.

FRR answers in JSON (vtysh `... json`). Other platforms have no observer yet: checks that need one
report 'not available on <platform>' instead of passing silently.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ..errors import DeviceError
from ..plan.impact import Route, routes_from_frr_json

AF_KEYS = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}


class FrrObserver:
    def __init__(self, conn: Any, host: str):
        self.conn = conn
        self.host = host

    def _json(self, cmd: str) -> dict:
        raw = self.conn.send_command(cmd, read_timeout=60)
        try:
            return json.loads(raw)
        except ValueError:
            raise DeviceError(f"{self.host}: `{cmd}` did not return JSON: {raw.strip()[:200]}") from None

    def sessions(self) -> dict[tuple[str, str], dict]:
        """(neighbor, afi) -> {state, pfxRcd} from `show bgp summary json`."""
        data = self._json("show bgp summary json")
        out = {}
        for af_key, afi in AF_KEYS.items():
            for nbr, p in data.get(af_key, {}).get("peers", {}).items():
                out[(str(ipaddress.ip_address(nbr)), afi)] = {"state": p.get("state"), "pfxRcd": p.get("pfxRcd", 0),
                                                              "pfxSnt": p.get("pfxSnt", 0)}
        return out

    def accepted(self, neighbor: str, afi: str) -> list[Route]:
        return routes_from_frr_json(self._json(f"show bgp {afi} unicast neighbors {neighbor} routes json"))

    def received(self, neighbor: str, afi: str) -> list[Route] | None:
        data = self._json(f"show bgp {afi} unicast neighbors {neighbor} received-routes json")
        if "receivedRoutes" not in data:
            return None  # no soft-reconfiguration inbound: Adj-RIB-In not kept
        return routes_from_frr_json(data)

    def message_stats(self, neighbor: str) -> dict:
        data = self._json(f"show bgp neighbors {neighbor} json")
        return data.get(neighbor, {}).get("messageStats", {})

    def route(self, prefix: str) -> Route | None:
        """The best path for `prefix` in the BGP table, or None."""
        afi = "ipv6" if ipaddress.ip_network(prefix).version == 6 else "ipv4"
        data = self._json(f"show bgp {afi} unicast {prefix} json")
        paths = data.get("paths") or []
        best = next((p for p in paths if p.get("bestpath", {}).get("overall") or p.get("bestpath") is True), None)
        if best is None:
            return None
        comm = best.get("community", {}).get("string", "") if isinstance(best.get("community"), dict) else ""
        lcomm = best.get("largeCommunity", {}).get("string", "") if isinstance(best.get("largeCommunity"), dict) else ""
        aspath = best.get("aspath", {}).get("string", "") if isinstance(best.get("aspath"), dict) else ""
        nh = next((h.get("ip") for h in best.get("nexthops", []) if h.get("ip")), None)
        return Route(prefix=prefix, as_path=tuple(int(a) for a in aspath.split() if a.isdigit()), next_hop=nh,
                     local_pref=best.get("locPrf", best.get("localpref")), med=best.get("metric", best.get("med")),
                     weight=best.get("weight"), communities=frozenset(comm.split()), large_communities=frozenset(lcomm.split()))


def observer_for(platform: str, conn: Any, host: str) -> FrrObserver | None:
    return FrrObserver(conn, host) if platform == "frr" else None
