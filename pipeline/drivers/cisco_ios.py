"""Classic Cisco IOS / IOS XE: line-by-line CLI; route-map edits apply after a soft clear.

Commit-confirm where the device allows it: with the configuration archive (`archive` + `path ...`), the lines
go in under `configure terminal revert timer N` and are confirmed (`configure confirm`) after the deploy's
checks, else IOS restores the archived configuration by itself. Plain IOS without an archive refuses the
timer: it is driven line by line, each line live as it is sent."""

from __future__ import annotations

import re
from typing import Any

from ..inventory import Platform
from .base import Capabilities
from .commit import CommitMode, RevertTimerMode
from .observers.ios import IosObserver
from .render.capabilities import NO_REJECT, STATELESS_REFUSALS
from .render.context import Context
from .render.driver import TemplateDriver
from .render.text_filters import INTERACTIVE_CLI_TEXT

_ARCHIVE_PATH = re.compile(r"^archive\s*$\n(?:^[ \t]+.*$\n)*?^[ \t]+path\s+\S+", re.MULTILINE)


def has_archive(running: str) -> bool:
    """`archive` with a `path` in the running configuration: what `configure terminal revert timer` needs."""
    return _ARCHIVE_PATH.search(running.replace("\r\n", "\n")) is not None


class CiscoIosDriver(TemplateDriver):
    platform = Platform.CISCO_IOS
    acl_counters = "implicit"  # IOS counts every ACE; there is no per-entry switch
    netmiko_device_type = "cisco_ios"
    enable_mode = True
    fetch_command = "show running-config"
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_clear"
    observer_class = IosObserver
    missing_prefix_list_matches = True  # a route-map matching a missing or empty prefix-list matches everything
    capabilities = Capabilities(large_communities=False)
    error_patterns = (r"^%",)  # % Invalid input detected, % Incomplete command, % Ambiguous command
    prefix_list_seq_overwrite = False  # IOS refuses a duplicate seq: a changed entry is staged (order.staged_edit)
    match_names_accumulate = True  # `match ip address prefix-list B` after `... A` matches A or B
    community_list_seq = False
    as_path_list_seq = False
    # Replacing a whole ACL in place (`no ip access-list extended X` + redefine) leaves the interface
    # unfiltered or half-filtered between lines: define X-v<N+1>, re-point the interface at it, redefine X while
    # nothing uses it, re-point back, drop X-v<N+1> (TemplateDriver.versioned_swap).
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

    def commit_mode_for(self, running: str | None) -> CommitMode:
        return RevertTimerMode() if running is not None and has_archive(running) else self.commit_mode

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "as_path_list" and not (obj.name.isdigit() and 1 <= int(obj.name) <= 500):
            self.refuse(f"as-path list {obj.name}: classic IOS numbers AS-path access-lists 1-500; name it by number")
        if kind == "filter":
            self.check_interface_filter(obj)


DRIVER = CiscoIosDriver()
