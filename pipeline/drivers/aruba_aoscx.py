"""Aruba AOS-CX: line by line, under `checkpoint auto N` while the deploy's checks run (the switch restores the
configuration from before unless `checkpoint auto confirm` follows). `clear bgp ... soft out` silently does
nothing; the switch re-sends updates by itself about 12 s after a policy change (no knob), so outbound edits
are waited for."""

from __future__ import annotations

from typing import Any

from ..inventory import Platform
from .base import Capabilities
from .commit import AutoCheckpointMode
from .observers.aoscx import AoscxObserver
from .render.aces import AclLine, acl_lines
from .render.capabilities import NO_REJECT, STATELESS_REFUSALS
from .render.context import Context
from .render.driver import TemplateDriver
from .render.text_filters import INTERACTIVE_CLI_TEXT


class ArubaAoscxDriver(TemplateDriver):
    platform = Platform.ARUBA_AOSCX
    acl_counters = "entry"  # `count` per ACE
    netmiko_device_type = "aruba_aoscx"
    enable_mode = True
    fetch_command = "show running-config"
    commit_mode = AutoCheckpointMode()
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_in_then_wait_out"
    outbound_resend_seconds = 12  # observed self-triggered re-advertisement delay after a policy edit
    observer_class = AoscxObserver
    capabilities = Capabilities(large_communities=False, soft_out=False, route_map_continue=False)
    error_patterns = (r"Invalid input", r"^% ?Command incomplete", r"^% ?Ambiguous", r"^%")
    filter_replace = "sequence"
    term_refusals = {
        **NO_REJECT, **STATELESS_REFUSALS,
        "tcp_flags:clear": "AOS-CX ACLs match TCP flags that are set, not clear ones",
        "tcp_flags+established": "established and TCP flags cannot be combined in one entry",
        "fragment:first": "AOS-CX `fragment` matches non-initial fragments only; a first fragment cannot be told apart",
        "hop_limit:range": "AOS-CX matches one TTL value (ttl N), not a range",
        "hop_limit:ipv6": "AOS-CX IPv6 ACLs have no hop-limit match",
    }
    protocol_names = {"ipv4": {"icmp": "icmp", "tcp": "tcp", "udp": "udp", "gre": "gre", "esp": "esp", "ah": "ah", "sctp": "sctp"},
                      "ipv6": {"icmpv6": "icmpv6", "tcp": "tcp", "udp": "udp", "esp": "esp", "ah": "ah", "sctp": "sctp"}}

    def numbered_acl(self, f, family) -> list[AclLine]:
        return acl_lines(f, family, remark_takes_seq=False)

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "route_map":
            for e in obj.entries:
                where = f"route-map {obj.name} seq {e.seq}"
                if e.match.next_hop_prefix_list:
                    self.refuse(f"{where}: match next-hop prefix-list is not supported on AOS-CX")
                if e.set.next_hop in ("self", "peer-address"):
                    self.refuse(f"{where}: next-hop {e.set.next_hop} cannot be set by an AOS-CX route-map")
        if kind == "filter":
            self.check_interface_filter(obj)


DRIVER = ArubaAoscxDriver()
