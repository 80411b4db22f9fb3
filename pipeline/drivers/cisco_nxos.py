"""Cisco NX-OS: edits in a configure session (`verify`, then `commit`: all or nothing), after a named
checkpoint that a failed deploy rolls back to (`rollback running-config checkpoint`). NX-OS has no revert
timer for merged edits, so a held commit waits for its confirmation (the checkpoint's removal) but never
reverts by itself. Route-map edits apply after a soft clear; BGP bindings sit in per-neighbor blocks."""

from __future__ import annotations

from typing import Any

from ..inventory import Platform
from .commit import CheckpointSessionMode
from .observers.nxos import NxosObserver
from .render.capabilities import NO_REJECT, STATELESS_REFUSALS
from .render.context import Context
from .render.driver import TemplateDriver
from .render.text_filters import INTERACTIVE_CLI_TEXT


class CiscoNxosDriver(TemplateDriver):
    platform = Platform.CISCO_NXOS
    acl_counters = "family"  # `statistics per-entry` switches a whole ACL
    netmiko_device_type = "cisco_nxos"
    commit_mode = CheckpointSessionMode()
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_clear"
    observer_class = NxosObserver
    error_patterns = (r"^%", r"^ERROR:", r"[Vv]erification [Ff]ailed", r"^Syntax error")
    community_list_seq = False  # lists are rewritten whole: atomic inside the session
    as_path_list_seq = False
    filter_replace = "sequence"  # `ip access-list X` / `no 20` / `20 permit ...`, committed with the session
    unbind_needs_name = True  # `no route-map NAME in` under the neighbor's address family
    term_refusals = {
        **NO_REJECT, **STATELESS_REFUSALS,
        "tcp_flags:clear": "NX-OS flag words match TCP flags that are set, not clear ones",
        "tcp_flags+established": "established and TCP flags are not combined in one NX-OS entry",
        "fragment:first": "NX-OS `fragments` matches non-initial fragments only; a first fragment cannot be told apart",
        "hop_limit:range": "NX-OS matches one TTL value (ttl N), not a range",
        "hop_limit:ipv6": "NX-OS IPv6 ACLs have no hop-limit match",
    }
    protocol_names = {"ipv4": {"icmp": "icmp", "tcp": "tcp", "udp": "udp", "gre": "gre", "esp": "esp", "ah": "ahp",
                               "ospf": "ospf", "pim": "pim"},
                      "ipv6": {"icmpv6": "icmp", "tcp": "tcp", "udp": "udp", "esp": "esp", "ah": "ahp", "sctp": "sctp"}}

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "route_map":
            for e in obj.entries:
                if e.set.next_hop == "self":
                    self.refuse(f"route-map {obj.name} seq {e.seq}: NX-OS route-maps cannot set next-hop self "
                                "(use `next-hop-self` under the neighbor's address family outside netchange)")
        if kind == "filter":
            self.check_interface_filter(obj)


DRIVER = CiscoNxosDriver()
