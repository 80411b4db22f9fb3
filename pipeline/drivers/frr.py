"""FRR 8.4 through vtysh: BGP policy only (FRR routes, it does not filter traffic)."""

from __future__ import annotations

from typing import Any

from ..inventory import Platform
from .base import Driver
from .observers.frr import FrrObserver
from .render import INTERACTIVE_CLI_TEXT, Context, TemplateDriver


class FrrDriver(TemplateDriver):
    binding_switch_is_refresh = True  # `neighbor X route-map Y in|out` re-runs policy at once
    platform = Platform.FRR
    netmiko_device_type = "cisco_ios"  # netmiko has no FRR driver; cisco_ios drives vtysh correctly
    fetch_command = "show running-config"
    text_refused = INTERACTIVE_CLI_TEXT  # in descriptions and remarks
    quoted_strings = False  # a description is the rest of the line, quotes included
    refresh_mode = "soft_clear"
    observer_class = FrrObserver
    impact_preview = True  # plan/impact.py evaluates route-maps as FRR does
    # vtysh answers with `% ...`; some bgpd refusals carry no `%` at all.
    error_patterns = (
        r"^%",
        r"^BGP is already running; AS is",
        r"^The route-map '.*' does not exist\.",
        r"^bgp as-path access-list .* doesn't exist",
        r"Can't find (community-list|specified)",
        r"^Failure to communicate",
        r"^line \d+: ",
        r"^\w+d is not running$",  # vtysh when the daemon behind a command is dead (e.g. bgpd): nothing applied
    )
    # vtysh with its daemons down prints this instead of a configuration
    fetch_error_patterns = (*Driver.fetch_error_patterns, r"^Exiting: failed to connect")
    kinds = frozenset({"prefix_list", "community_list", "as_path_list", "route_map", "binding"})
    prefix_list_seq_overwrite = True  # measured: re-entering a prefix-, community- or AS-path-list seq replaces it
    unbind_needs_name = True  # syntax needs a name (any name: FRR ignores it)

    def unsupported_kind_message(self, kind: str, name: object) -> str:
        if kind == "filter":
            return (f"frr cannot filter traffic: filter {name} must target a firewall or switch platform "
                    "(FRR has no ACLs on interfaces)")
        return super().unsupported_kind_message(kind, name)

    def preflight(self, running: str, *, strategy: str | None, edits: bool) -> str | None:
        """With the default `bgp route-map delay-timer` (5 s) FRR applies route-map and list edits by itself
        5 s after the last one: an in-place edit would go live half-written, before the refresh."""
        if strategy == "in_place" and edits and "bgp route-map delay-timer 0" not in running:
            return ("in-place edits need `bgp route-map delay-timer 0` (FRR would apply a half-written policy 5 s "
                    "after the last edit); set it or use strategy: versioned")
        return None

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "route_map":
            for e in obj.entries:
                if e.set.next_hop == "self":
                    # Printing `self` as peer-address would read back as peer-address: a diff on every plan.
                    self.refuse(f"route-map {obj.name} entry {e.seq}: FRR has no `set ip next-hop self`; write "
                                "next_hop: peer-address (on an outbound route-map it is our own address)")
        if kind == "binding" and obj.afi == "ipv6" and not obj.is_group and ctx.neighbor(obj) is not None:
            pass  # FRR activates the neighbor per address family itself (defaults traditional)


DRIVER = FrrDriver()
