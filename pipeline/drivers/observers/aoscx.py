"""Aruba AOS-CX: sessions through ntc-templates' `show bgp all-vrfs all summary` template (it reads IPv4
neighbors). AOS-CX re-sends outbound updates by itself; the rest is not read here."""

from __future__ import annotations

import ipaddress

from .base import Observer, Session, textfsm_rows


def sessions_from_aoscx_summary(text: str, vrf: str = "default") -> dict[tuple[str, str], Session]:
    out = {}
    for r in textfsm_rows("ntc:aruba_aoscx_show_bgp_all-vrfs_all_summary", text):
        if r["vrf"] != vrf or r["af"].lower() not in ("ipv4-unicast", "ipv4"):
            continue
        out[(str(ipaddress.ip_address(r["neighbour"])), "ipv4")] = Session(r["state"], 0)
    return out


class AoscxObserver(Observer):
    platform = "aruba_aoscx"
    answers = frozenset({"sessions"})
    families = frozenset({"ipv4"})

    def sessions(self):
        return sessions_from_aoscx_summary(self.show("show bgp all-vrfs all summary"))
