"""Cisco IOS / IOS-XE: no structured output, so TextFSM. ntc-templates' `cisco_ios_show_ip_bgp` reads route
tables (IPv4: its columns do not fit IPv6 prefixes); three templates of ours (textfsm/) read what ntc-templates
has no template for: summaries with IPv6 neighbors, one prefix's paths, a neighbor's UPDATE counters."""

from __future__ import annotations

import ipaddress

from ...model.route import Route
from .base import Observer, Session, afi_of, as_path_numbers, textfsm_rows


def _int(v: str | None) -> int | None:
    return int(v) if v and v.isdigit() else None


def sessions_from_ios_summary(text: str, afi: str | None = None) -> dict[tuple[str, str], Session]:
    """`show bgp <afi> unicast summary` (or `show bgp all summary`, whose sections name the family).
    State/PfxRcd is a number once the session is up."""
    out = {}
    for r in textfsm_rows("cisco_ios_show_bgp_summary", text):
        fam = {"IPv4 Unicast": "ipv4", "IPv6 Unicast": "ipv6"}.get(r["address_family"], afi) if r["address_family"] else afi
        if fam not in ("ipv4", "ipv6"):
            continue
        state = r["state_or_prefixes_received"]
        session = Session("Established", int(state)) if state.isdigit() else Session(state, 0)
        out[(str(ipaddress.ip_address(r["neighbor"])), fam)] = session
    return out


def paths_from_ios_prefix(text: str) -> list[tuple[str, bool, Route]]:
    """(peer, best, path) for every path of `show bgp <afi> unicast <prefix>`."""
    out = []
    for r in textfsm_rows("cisco_ios_show_bgp_prefix", text):
        route = Route(prefix=r["prefix"], as_path=as_path_numbers(r["as_path"]), next_hop=r["next_hop"] or None,
                      local_pref=_int(r["local_pref"]), med=_int(r["med"]), weight=_int(r["weight"]),
                      communities=frozenset(r["community"].split()), large_communities=frozenset(r["large_community"].split()))
        out.append((r["peer"], r["best"] == "best", route))
    return out


def classful(network: str) -> str:
    """IOS prints a classful network without its length (`192.168.1.0` is /24, `10.0.0.0` is /8)."""
    if "/" in network or ":" in network:
        return network
    first = int(network.split(".")[0])
    return f"{network}/{8 if first < 128 else 16 if first < 192 else 24}"


def routes_from_ios_table(text: str) -> list[Route]:
    """A route table (`... neighbors X routes`, `... received-routes`) through ntc-templates'
    cisco_ios_show_ip_bgp: per prefix its best path (`>`), else its first."""
    best: dict[str, Route] = {}
    for r in textfsm_rows("ntc:cisco_ios_show_ip_bgp", text):
        if not r["network"]:
            continue
        prefix = classful(r["network"])
        route = Route(prefix=prefix, as_path=as_path_numbers(r["as_path"]), next_hop=r["next_hop"] or None,
                      local_pref=_int(r["local_pref"]), med=_int(r["metric"]), weight=_int(r["weight"]))
        if prefix not in best or ">" in (r["path_selection"], r["status"]):
            best[prefix] = route
    return list(best.values())


def updates_sent_from_ios(text: str) -> int | None:
    rows = textfsm_rows("cisco_ios_show_bgp_neighbor_updates", text)
    return _int(rows[0]["updates_sent"]) if rows else None


class IosObserver(Observer):
    platform = "cisco_ios"
    answers = frozenset({"sessions", "route", "received", "accepted", "updates_sent", "best_path"})

    def sessions(self):
        out = {}
        for afi in ("ipv4", "ipv6"):
            out.update(sessions_from_ios_summary(self.show(f"show bgp {afi} unicast summary"), afi))
        return out

    def _paths(self, target: str) -> list[tuple[str, bool, Route]]:
        return paths_from_ios_prefix(self.show(f"show bgp {afi_of(target.split('/')[0])} unicast {target}"))

    def route(self, prefix):
        return next((r for _, best, r in self._paths(prefix) if best and r.prefix == prefix), None)

    def best_path(self, address):
        return next(((peer, r) for peer, best, r in self._paths(address) if best), None)

    def _table(self, neighbor: str, afi: str, which: str) -> list[Route] | None:
        if afi != "ipv4":
            return None  # the table template reads IPv4 columns only
        text = self.show(f"show bgp {afi} unicast neighbors {neighbor} {which}")
        if text.lstrip().startswith("%"):  # `% Inbound soft reconfiguration not enabled on ...`
            return None
        return routes_from_ios_table(text)

    def received(self, neighbor, afi):
        return self._table(neighbor, afi, "received-routes")

    def accepted(self, neighbor, afi):
        return self._table(neighbor, afi, "routes")

    def updates_sent(self, neighbor):
        return updates_sent_from_ios(self.show(f"show bgp {afi_of(neighbor)} unicast neighbors {neighbor}"))
