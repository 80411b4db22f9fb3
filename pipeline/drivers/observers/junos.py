"""Junos (`| display json`: every element a list of objects, text under "data"): sessions and UPDATE
counters from `show bgp neighbor`, a prefix's active path from `show route ... protocol bgp detail`.

Junos applies policy on commit (no soft refresh to confirm), so received and accepted routes are not read."""

from __future__ import annotations

import ipaddress

from ...model.route import Route
from .base import Observer, Session, as_path_numbers

_RIB_AFI = {"inet.0": "ipv4", "inet6.0": "ipv6"}


def _all(node: dict, key: str) -> list:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def _text(node: dict, key: str) -> str | None:
    for item in _all(node, key):
        data = item.get("data") if isinstance(item, dict) else None
        if isinstance(data, str):
            return data
    return None


def _address(text: str | None) -> str | None:
    """`10.0.12.0+179` -> 10.0.12.0 (Junos appends the TCP port)."""
    if not text:
        return None
    host = text.rsplit("+", 1)[0] if "+" in text else text
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def peers_from_junos_json(data: dict) -> list[dict]:
    return [p for info in _all(data, "bgp-information") for p in _all(info, "bgp-peer")]


def sessions_from_junos_json(data: dict) -> dict[tuple[str, str], Session]:
    """`show bgp neighbor | display json` (or `show bgp summary`): per peer `peer-state` and, per RIB
    (inet.0, inet6.0), `accepted-prefix-count`. A peer that is not up has no RIB: its own family is listed."""
    out = {}
    for p in peers_from_junos_json(data):
        nbr = _address(_text(p, "peer-address"))
        if nbr is None:
            continue
        state = _text(p, "peer-state") or "unknown"
        ribs = [(r, _RIB_AFI.get(_text(r, "name") or "")) for r in _all(p, "bgp-rib")]
        known = [(r, afi) for r, afi in ribs if afi]
        if not known:
            out[(nbr, "ipv6" if ":" in nbr else "ipv4")] = Session(state, 0)
        for r, afi in known:
            out[(nbr, afi)] = Session(state, int(_text(r, "accepted-prefix-count") or 0))
    return out


def updates_sent_from_junos_json(data: dict, neighbor: str) -> int | None:
    for p in peers_from_junos_json(data):
        if _address(_text(p, "peer-address")) == neighbor:
            sent = _text(p, "output-updates")
            return int(sent) if sent is not None and sent.isdigit() else None
    return None


def _entry_route(prefix: str, e: dict) -> Route:
    as_path = (_text(e, "as-path") or "").removeprefix("AS path:")
    communities = [c.get("data") for block in _all(e, "communities") for c in _all(block, "community")
                   if isinstance(c.get("data"), str)]
    nh = next((_text(n, "to") for n in _all(e, "nh") if _text(n, "to")), None) or _text(e, "gateway")

    def number(key: str) -> int | None:
        v = _text(e, key)
        return int(v) if v is not None and v.isdigit() else None

    return Route(prefix=prefix, as_path=as_path_numbers(as_path.replace(" I", "").replace(" E", "")), next_hop=nh,
                 local_pref=number("local-preference"), med=number("med"),
                 communities=frozenset(c for c in communities if not c.startswith("large:")),
                 large_communities=frozenset(c.removeprefix("large:") for c in communities if c.startswith("large:")))


def routes_from_junos_json(data: dict) -> dict[str, Route]:
    """prefix -> active BGP path, from `show route ... protocol bgp [detail] | display json` (main tables)."""
    out = {}
    for info in _all(data, "route-information"):
        for table in _all(info, "route-table"):
            if _text(table, "table-name") not in _RIB_AFI:
                continue
            for rt in _all(table, "rt"):
                dest = _text(rt, "rt-destination") or ""
                length = _text(rt, "rt-prefix-length")
                prefix = f"{dest}/{length}" if length and "/" not in dest else dest
                active = next((e for e in _all(rt, "rt-entry") if _text(e, "active-tag") == "*"), None)
                if active is not None and (_text(active, "protocol-name") or "BGP") == "BGP":
                    out[str(ipaddress.ip_network(prefix, strict=False))] = _entry_route(prefix, active)
    return out


class JunosObserver(Observer):
    platform = "juniper_junos"
    answers = frozenset({"sessions", "route", "updates_sent"})

    def sessions(self):
        return sessions_from_junos_json(self.json("show bgp neighbor | display json"))

    def route(self, prefix):
        routes = routes_from_junos_json(self.json(f"show route {prefix} exact protocol bgp detail | display json"))
        return routes.get(str(ipaddress.ip_network(prefix, strict=False)))

    def updates_sent(self, neighbor):
        return updates_sent_from_junos_json(self.json(f"show bgp neighbor {neighbor} | display json"), neighbor)
