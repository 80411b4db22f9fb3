"""Classic Cisco IOS / IOS XE: line-by-line CLI, no commit; route-map edits apply after a soft clear."""

from __future__ import annotations

from typing import Any

from ..inventory import Platform
from .base import Capabilities
from .render import INTERACTIVE_CLI_TEXT, NO_REJECT, STATELESS_REFUSALS, Context, TemplateDriver


class CiscoIosDriver(TemplateDriver):
    platform = Platform.CISCO_IOS
    acl_counters = "implicit"  # IOS counts every ACE; there is no per-entry switch
    netmiko_device_type = "cisco_ios"
    fetch_command = "show running-config"
    commit_mode = "line"
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_clear"
    capabilities = Capabilities(large_communities=False, expanded_communities=True, ipv6_filters=True,
                                acl_sequence_edits=False, soft_out=True, route_map_continue=True,
                                extra=frozenset({"as_path_lists_numbered", "filter_replace_versioned", "no_reject"}))
    error_patterns = (r"^%",)  # % Invalid input detected, % Incomplete command, % Ambiguous command
    prefix_list_seq_overwrite = False  # IOS refuses a duplicate seq: remove, then add
    community_list_seq = False
    as_path_list_seq = False
    # Replacing a whole ACL in place (`no ip access-list extended X` + redefine) leaves the interface
    # unfiltered or half-filtered between lines: define X-v<N+1>, re-point the interface, drop the old one.
    filter_replace = "versioned"
    term_refusals = {
        **NO_REJECT, **STATELESS_REFUSALS,
        "tcp_flags+established": "established and TCP flags cannot be combined in one entry",
        "tcp_flags:clear:ipv6": "IOS IPv6 ACLs match TCP flags that are set (ack, syn, ...), not clear ones",
        "tcp_flags:several-set:ipv6": "IOS IPv6 ACLs match one TCP flag keyword per entry",
        "fragment:first": "IOS `fragments` matches non-initial fragments only; a first fragment cannot be told apart",
        "hop_limit:ipv6": "IOS IPv6 ACLs have no hop-limit match",
    }
    protocol_names = {"ipv4": {"icmp": "icmp", "tcp": "tcp", "udp": "udp", "gre": "gre", "esp": "esp", "ah": "ahp", "ospf": "ospf"},
                      "ipv6": {"icmpv6": "icmp", "tcp": "tcp", "udp": "udp", "esp": "esp", "ah": "ahp", "sctp": "sctp"}}

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "community_list" and obj.kind.startswith("large"):
            self.refuse(f"community-list {obj.name}: classic IOS has no large-community lists")
        if kind == "as_path_list" and not (obj.name.isdigit() and 1 <= int(obj.name) <= 500):
            self.refuse(f"as-path list {obj.name}: classic IOS numbers AS-path access-lists 1-500; name it by number")
        if kind == "route_map":
            for e in obj.entries:
                if e.match.large_community_list or e.set.large_community_add:
                    self.refuse(f"route-map {obj.name} seq {e.seq}: large communities are not supported on classic IOS")
        if kind == "filter":
            self.check_interface_filter(obj)


DRIVER = CiscoIosDriver()
