"""Arista EOS: edits go into a configure session and apply atomically on `commit` (with a `commit timer` while
the deploy's checks run: EOS rolls the session back by itself unless it is confirmed)."""

from __future__ import annotations

from typing import Any

from ..inventory import Platform
from .commit import SessionMode
from .observers.eos import EosObserver
from .render.capabilities import NO_REJECT, STATELESS_REFUSALS
from .render.context import Context
from .render.driver import TemplateDriver
from .render.text_filters import INTERACTIVE_CLI_TEXT


class AristaEosDriver(TemplateDriver):
    platform = Platform.ARISTA_EOS
    acl_counters = "family"  # `counters per-entry` switches a whole ACL
    netmiko_device_type = "arista_eos"
    enable_mode = True
    fetch_command = "show running-config"
    commit_mode = SessionMode()
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_clear"
    observer_class = EosObserver
    error_patterns = (r"^% ?Invalid input", r"^% ?Incomplete command", r"^% ?Ambiguous command", r"^% .*(not|error|fail)", r"^%")
    community_list_seq = False
    as_path_list_seq = False
    filter_replace = "sequence"  # `ip access-list X` / `no 20` / `20 permit ...`, committed with the session
    unbind_needs_name = False
    term_refusals = {
        **NO_REJECT, **STATELESS_REFUSALS,
        "tcp_flags:clear": "EOS ACLs match TCP flags that are set, not clear ones",
        "tcp_flags+established": "established and TCP flags cannot be combined in one entry",
        "fragment:first": "EOS `fragments` matches non-initial fragments only; a first fragment cannot be told apart",
        "hop_limit:closed-range": "EOS matches a TTL / hop limit equal to, above or below one value, not a range",
    }
    protocol_names = {"ipv4": {"icmp": "icmp", "tcp": "tcp", "udp": "udp", "gre": "gre", "ospf": "ospf"},
                      "ipv6": {"icmpv6": "icmpv6", "tcp": "tcp", "udp": "udp", "ospf": "ospf"}}

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "route_map":
            for e in obj.entries:
                if e.set.next_hop == "self":
                    self.refuse(f"route-map {obj.name} seq {e.seq}: EOS route-maps cannot set next-hop self "
                                "(use `neighbor X next-hop-self` outside netchange)")
        if kind == "filter":
            self.check_interface_filter(obj)


DRIVER = AristaEosDriver()
