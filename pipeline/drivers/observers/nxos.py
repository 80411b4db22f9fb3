"""Cisco NX-OS: sessions from `show bgp all summary | json` (the TABLE_/ROW_ layout NX-API also returns);
paths, route tables and UPDATE counters through ntc-templates (IPv4: their address columns are IPv4)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from ...model.route import Route
from .base import Observer, Session, afi_of, as_path_numbers, textfsm_rows

_AF = {"1": "ipv4", "2": "ipv6"}


def _rows(node: dict | None, table: str, row: str) -> list[dict]:
    value = ((node or {}).get(table) or {}).get(row)
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int) or (isinstance(v, str) and v.isdigit()) else None


def sessions_from_nxos_json(data: dict, vrf: str = "default") -> dict[tuple[str, str], Session]:
    """Unicast neighbors of one VRF: af-id 1 (IPv4) / 2 (IPv6), safi 1; `state`, `prefixreceived`."""
    out = {}
    for v in _rows(data, "TABLE_vrf", "ROW_vrf"):
        if v.get("vrf-name-out") != vrf:
            continue
        for af in _rows(v, "TABLE_af", "ROW_af"):
            afi = _AF.get(str(af.get("af-id")))
            for saf in _rows(af, "TABLE_saf", "ROW_saf"):
                if afi is None or str(saf.get("safi")) != "1":
                    continue
                for n in _rows(saf, "TABLE_neighbor", "ROW_neighbor"):
                    out[(str(ipaddress.ip_address(n["neighborid"])), afi)] = Session(
                        str(n.get("state")), _int(n.get("prefixreceived")) or 0)
    return out


def paths_from_nxos_detail(text: str) -> list[tuple[str, bool, Route]]:
    """(peer, best, path) of the one prefix `show bgp ipv4 unicast <prefix>` prints, via ntc-templates' detail
    template (listing several prefixes, that template names each prefix's last path after the next prefix:
    the caller names the prefix it asked for)."""
    out = []
    for r in textfsm_rows("ntc:cisco_nxos_show_bgp_vrf_all_ipv4_unicast_detail", text):
        as_path = "" if r["as_path"] == "NONE" or r["as_path"].startswith("Local") else r["as_path"]
        route = Route(prefix=f"{r['prefix']}/{r['prefix_length']}", as_path=as_path_numbers(as_path),
                      next_hop=r["next_hop"] or None, local_pref=_int(r["local_pref"]),
                      med=_int(r["metric"]), weight=_int(r["weight"]), communities=frozenset(r["community"].split()))
        out.append((r["neighbor"], r["active"] == "best", route))
    return out


def routes_from_nxos_table(text: str) -> list[Route]:
    """`show bgp vrf default ipv4 unicast neighbors X routes|received-routes`: per prefix its best path."""
    best: dict[str, Route] = {}
    for r in textfsm_rows("ntc:cisco_nxos_show_bgp_vrf_all_ipv4_unicast_neighbors_routes", text):
        prefix = f"{r['prefix']}/{r['prefix_length']}"
        route = Route(prefix=prefix, as_path=as_path_numbers(r["as_path"]), next_hop=r["next_hop"] or None,
                      local_pref=_int(r["local_pref"]), med=_int(r["metric"]), weight=_int(r["weight"]))
        if prefix not in best or r["path_selection"] == ">":
            best[prefix] = route
    return list(best.values())


def updates_sent_from_nxos(text: str, neighbor: str) -> int | None:
    for r in textfsm_rows("ntc:cisco_nxos_show_ip_bgp_neighbors", text):
        if r["neighbor"] == neighbor:
            return _int(r["updates_count_sent"])
    return None


class NxosObserver(Observer):
    platform = "cisco_nxos"
    answers = frozenset({"sessions", "route", "received", "accepted", "updates_sent", "best_path"})
    route_families = frozenset({"ipv4"})

    def sessions(self):
        return sessions_from_nxos_json(self.json("show bgp all summary | json"))

    def _paths(self, target: str) -> list[tuple[str, bool, Route]]:
        if afi_of(target.split("/")[0]) != "ipv4":
            return []  # the detail template reads IPv4 next hops only
        return paths_from_nxos_detail(self.show(f"show bgp ipv4 unicast {target}"))

    def route(self, prefix):
        best = next((r for _, best, r in self._paths(prefix) if best), None)
        return replace(best, prefix=prefix) if best is not None else None

    def best_path(self, address):
        return next(((peer, r) for peer, best, r in self._paths(address) if best), None)

    def _table(self, neighbor: str, afi: str, which: str) -> list[Route] | None:
        if afi != "ipv4":
            return None
        return routes_from_nxos_table(self.show(f"show bgp vrf default ipv4 unicast neighbors {neighbor} {which}"))

    def received(self, neighbor, afi):
        return self._table(neighbor, afi, "received-routes")

    def accepted(self, neighbor, afi):
        return self._table(neighbor, afi, "routes")

    def updates_sent(self, neighbor):
        if afi_of(neighbor) != "ipv4":
            return None
        return updates_sent_from_nxos(self.show(f"show ip bgp neighbors {neighbor}"), neighbor)
