"""One interface per platform, quirks as data (in the spirit of NAPALM drivers and Aerleon generators).

A driver is the whole platform: how to reach it (netmiko device type, enable mode), fetch and parse its
running configuration, print model objects and edit operations as commands (through templates/<platform>/),
commit, confirm and undo them (`commit_mode`, drivers/commit.py), what the device must hold before a deploy
may start (`preflight`), which output means the device refused a line, how to trigger a BGP soft refresh,
and how to read BGP state back (`observer`, drivers/observers/). Nothing outside pipeline/drivers/ branches
on a platform's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Iterable, Literal

from ..inventory import Platform
from ..model.ops import Op
from ..model.policy import DevicePolicy, Kind
from ..model.resolve import Desired
from .commit import CommitMode
from .observers.base import Observer

RefreshMode = Literal["soft_clear", "soft_in_then_wait_out", "on_commit", "none"]


@dataclass(frozen=True)
class Capabilities:
    """What the platform can express; a change asking for more is refused with the reason (render, plan).
    Each flag is consulted by `Driver.capability_refusal` or the deployer (a test checks none is unread)."""

    large_communities: bool = True
    route_map_continue: bool = True
    soft_out: bool = True  # `clear ... soft out` actually re-sends


class Driver:
    platform: ClassVar[Platform]
    netmiko_device_type: ClassVar[str]
    # The CLI has a user and a privileged mode: with an enable secret set, sessions run `enable` first.
    enable_mode: ClassVar[bool] = False
    fetch_command: ClassVar[str] = "show running-config"
    snapshot_suffix: ClassVar[str] = ".cfg"  # `netchange backup` / `plan --snapshots` file of this platform
    commit_mode: ClassVar[CommitMode] = CommitMode()
    refresh_mode: ClassVar[RefreshMode] = "soft_clear"
    # Platforms that ignore `soft out` and re-send by themselves this long after a policy change (AOS-CX).
    outbound_resend_seconds: ClassVar[int] = 0
    capabilities: ClassVar[Capabilities] = Capabilities()
    # True where pointing a neighbor at another route-map re-runs its policy at once (FRR): such switches
    # are held back to phase 2, so phase 1 only builds objects and no BGP table moves before the refresh.
    binding_switch_is_refresh: ClassVar[bool] = False
    # How a route-map matching a missing prefix-list behaves (IOS: matches everything), for predictions.
    missing_prefix_list_matches: ClassVar[bool] = False
    # plan's impact preview evaluates route-maps with FRR's semantics (plan/impact.py): only a platform that
    # evaluates them the same way reads its neighbors' received routes for it.
    impact_preview: ClassVar[bool] = False
    observer_class: ClassVar[type[Observer] | None] = None
    # Regexes over device output that mean a command was refused.
    error_patterns: ClassVar[tuple[str, ...]] = (r"^%.*",)
    # Also a refusal when the fetch command's output starts with it (with error_patterns): a missing
    # privilege or a TACACS+/RADIUS authorization failure returns a message, not a configuration.
    fetch_error_patterns: ClassVar[tuple[str, ...]] = (r"[Aa]uthori[sz]ation (failed|denied)", r"[Pp]ermission denied",
                                                       r"[Cc]ommand not found", r"^[Ee]rror\b")

    def parse(self, text: str, focus=None) -> DevicePolicy:
        """Running configuration (as fetched) -> the model; `focus` may restrict it to what a plan needs."""
        raise NotImplementedError

    def canonical(self, kind: str, obj: Any) -> Any:
        """*obj* in the form the device keeps it (nftables merges adjacent prefixes and sorts set elements),
        so that a plan compares like with like; most platforms keep what they are given."""
        return obj

    def check_plan(self, view: DevicePolicy, intended: DevicePolicy, touched: set[tuple[Kind, object]]) -> None:
        """Raise a NetchangeError for a plan this platform cannot carry out as the model diff says (e.g. an
        edit that changes how the device names an object its untouched users refer to); most platforms can."""

    def prepare(self) -> None:
        """Load what parse and render need (modules, templates) once, before many worker threads would
        all hit the first use at the same moment."""

    def render(self, desired: list[Desired], host, known: DevicePolicy | None = None) -> str:
        """Full configuration text that makes the desired objects true (netchange render)."""
        raise NotImplementedError

    def render_ops(self, ops: list[Op], intended: DevicePolicy, host) -> list[str]:
        """Ordered edit operations -> the exact command lines to send, in that order."""
        raise NotImplementedError

    def rollback_commands(self, ops: list[Op], before: DevicePolicy, host) -> list[str]:
        """What a plan shows as its undo (`ops`: the undo ops, `before`: the state they restore). Drivers
        whose edits name the device's own handles override it: their rollback is computed when it runs."""
        return self.render_ops(ops, before, host)

    def refresh_commands(self, neighbor: str, afi: str, direction: str) -> list[str]:
        """Commands that make the BGP table re-evaluate one neighbor/afi/direction with current policy."""
        raise NotImplementedError

    # -- the device lifecycle (deploy)
    def commit_mode_for(self, running: str | None) -> CommitMode:
        """How edits are committed on a device whose running configuration is *running* (None: not read;
        a platform whose mode depends on the configuration, IOS and its archive, then falls back)."""
        return self.commit_mode

    def preflight(self, running: str, *, strategy: str | None, edits: bool,
                  touched: Iterable[tuple[str, object]] = ()) -> str | None:
        """Why a deploy must not start on this device (read from its running configuration), or None.
        *touched*: the (kind, key) of every object phase 1 edits (empty: not known, judge every edit)."""
        return None

    def preflight_notes(self, running: str, *, strategy: str | None, edits: bool,
                        touched: Iterable[tuple[str, object]] = ()) -> list[str]:
        """What the deploy report should say about a preflight that let the deploy go ahead on a reading
        worth knowing (FRR: in place although the delay timer is on, because nothing live sees the edits)."""
        return []

    def prompt_pattern(self, base_prompt: str) -> str | None:
        """A regular expression matching the device's prompt in every mode a command is sent in, from the
        prompt netmiko found at login; None: let netmiko find the prompt before each command."""
        return None

    def observer(self, conn: Any, host: str) -> Observer | None:
        """A reader of the device's BGP state over *conn*; None on platforms without BGP."""
        return self.observer_class(conn, host) if self.observer_class is not None else None

    def capability_refusal(self, kind: str, obj: Any) -> str | None:
        """Why *obj* needs what `capabilities` says this platform lacks, or None."""
        caps = self.capabilities
        if kind == "community_list" and not caps.large_communities and obj.kind.startswith("large"):
            return f"community-list {obj.name}: large-community lists are not supported on {self.platform.value}"
        if kind == "route_map":
            for e in obj.entries:
                where = f"route-map {obj.name} seq {e.seq}"
                if not caps.large_communities and (e.match.large_community_list or e.set.large_community_add):
                    return f"{where}: large communities are not supported on {self.platform.value}"
                if not caps.route_map_continue and e.continue_ is not None:
                    return f"{where}: continue is not supported on {self.platform.value}"
        return None

    def fetch_error(self, output: str) -> str | None:
        """The device's refusal when *output* of `fetch_command` (live, or a snapshot file) is an error
        message instead of a configuration; planned, it would look like an empty device."""
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        if not lines:
            return "no output at all (a running configuration is never empty)"
        for line in lines[:3]:  # a caret line may come first; a configuration starts with its own header
            for pat in (*self.fetch_error_patterns, *self.error_patterns):
                if re.search(pat, line):
                    return line
        return None

    def error_in(self, output: str) -> str | None:
        for line in output.splitlines():
            for pat in self.error_patterns:
                if re.search(pat, line.strip()):
                    return line.strip()
        return None


def get_driver(platform: Platform | str) -> Driver:
    """The driver instance for a platform key (frr, cisco_ios, ...)."""
    import importlib

    key = Platform(platform).value
    module = importlib.import_module(f"pipeline.drivers.{key}")
    return module.DRIVER


def all_platforms() -> list[str]:
    """Every platform key, each a module of this package exporting DRIVER."""
    return sorted(p.value for p in Platform)


def capability_flags() -> list[str]:
    return [f.name for f in fields(Capabilities)]
