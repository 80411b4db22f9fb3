"""FRR 8.4 through vtysh: BGP policy only (FRR routes, it does not filter traffic)."""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..inventory import Platform
from .base import Driver
from .observers.frr import FrrObserver
from .render.context import Context
from .render.driver import TemplateDriver
from .render.text_filters import INTERACTIVE_CLI_TEXT


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

    def prompt_pattern(self, base_prompt: str) -> str | None:
        """vtysh prompts are `HOST#` and `HOST(config...)#` (`HOST>` before enable)."""
        return rf"{re.escape(base_prompt)}(?:\([\w.-]+\))?[>#]" if base_prompt else None

    def preflight(self, running: str, *, strategy: str | None, edits: bool,
                  touched: Iterable[tuple[str, object]] = ()) -> str | None:
        """With the default `bgp route-map delay-timer` (5 s) FRR applies route-map and list edits by itself
        5 s after the last one: an in-place edit of an object something live uses would go live
        half-written, before the refresh. An object nothing live uses (new, or unbound: bindings wait for
        phase 2 on FRR) can be edited in place whatever the timer: nothing sees it before the refresh."""
        exposed = self._exposed(running, strategy, edits, touched)
        if exposed:
            return (f"in-place edits of {', '.join(exposed)} need `bgp route-map delay-timer 0`: FRR would apply "
                    "a half-written policy 5 s after the last edit; set it or use strategy: versioned")
        return None

    def preflight_notes(self, running: str, *, strategy: str | None, edits: bool,
                        touched: Iterable[tuple[str, object]] = ()) -> list[str]:
        if strategy == "in_place" and edits and not _TIMER_ZERO.search(running) and not self._exposed(
                running, strategy, edits, touched):
            return ["in place with FRR's route-map delay timer on: no live binding, redistribution or other "
                    "use sees an edited object, so nothing applies them before the refresh"]
        return []

    @staticmethod
    def _exposed(running: str, strategy: str | None, edits: bool, touched: Iterable[tuple[str, object]]) -> list[str]:
        """The edited objects something live can see, as `route-map NAME` (empty: safe to edit in place)."""
        if strategy != "in_place" or not edits or _TIMER_ZERO.search(running):
            return []
        touched = list(touched)
        names = {(kind, key) for kind, key in touched if kind in _WORDS and isinstance(key, str)}
        if not touched:  # not told what is edited: every edit counts as seen (the old, coarse rule)
            return ["the policy"]
        live = live_names(running)
        return [f"{_WORDS[kind]} {name}" for kind, name in sorted(names) if name in live]

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


_TIMER_ZERO = re.compile(r"^\s*bgp route-map delay-timer 0\s*$", re.M)
_WORDS = {"route_map": "route-map", "prefix_list": "prefix-list", "community_list": "community-list",
          "as_path_list": "as-path list"}
# Top-level lines that define a list or start a route-map: they use nothing by themselves.
_DEFINES = ("ip prefix-list ", "ipv6 prefix-list ", "bgp community-list ", "bgp large-community-list ",
            "bgp extcommunity-list ", "bgp as-path access-list ", "route-map ")


def live_names(running: str) -> set[str]:
    """Every name something live uses in an FRR running configuration: any mention outside a list's
    definition and outside route-map bodies (neighbor bindings in any VRF, `redistribute ... route-map`,
    `table-map`, `neighbor X prefix-list`, `ip protocol ... route-map`: modelled or not), and what the
    bodies of live route-maps mention (their lists, `call` targets), to a fixed point. Read from the text,
    not the model: a use the parser does not model is still a use."""
    top: set[str] = set()
    body: dict[str, set[str]] = {}
    current: str | None = None
    for raw in running.splitlines():
        line = raw.rstrip()
        if not line or line.lstrip().startswith("!"):
            continue
        if not line[0].isspace():
            current = None
            if line.startswith("route-map "):
                words = line.split()
                current = words[1] if len(words) > 1 else None
                if current is not None:
                    body.setdefault(current, set())
                continue
            if line.startswith(_DEFINES):
                continue
            top.update(line.split())
        elif current is not None:
            body[current].update(line.split())
        else:
            top.update(line.split())
    live = set(top)
    todo = [n for n in body if n in live]
    while todo:
        for name in body.get(todo.pop(), ()):
            if name not in live:
                live.add(name)
                if name in body:
                    todo.append(name)
    return live


DRIVER = FrrDriver()
