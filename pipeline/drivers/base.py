"""One interface per platform, quirks as data (in the spirit of NAPALM drivers and Aerleon generators).

A driver declares how to fetch the running config, parse it into the model, print model objects and
edit operations as commands (through templates/<platform>/), how commits behave, which output means
the device refused a line, and how to trigger and confirm a BGP soft refresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..inventory import Platform
from ..model.policy import DevicePolicy
from ..model.resolve import Desired
from ..model.ops import Op

CommitMode = Literal["line", "session", "candidate", "atomic_file"]
RefreshMode = Literal["soft_clear", "soft_in_then_wait_out", "on_commit", "none"]


@dataclass(frozen=True)
class Capabilities:
    """What the platform can express; the planner refuses (visibly) what it cannot."""

    large_communities: bool = True
    expanded_communities: bool = True
    ipv6_filters: bool = True
    acl_sequence_edits: bool = False  # can edit single ACL lines by sequence number
    soft_out: bool = True  # `clear ... soft out` actually re-sends
    route_map_continue: bool = True
    extra: frozenset[str] = field(default_factory=frozenset)


class Driver:
    platform: ClassVar[Platform]
    netmiko_device_type: ClassVar[str]
    fetch_command: ClassVar[str] = "show running-config"
    commit_mode: ClassVar[CommitMode] = "line"
    refresh_mode: ClassVar[RefreshMode] = "soft_clear"
    capabilities: ClassVar[Capabilities] = Capabilities()
    # True where pointing a neighbor at another route-map re-runs its policy at once (FRR): such switches
    # are held back to phase 2, so phase 1 only builds objects and no BGP table moves before the refresh.
    binding_switch_is_refresh: ClassVar[bool] = False
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

    def prepare(self) -> None:
        """Load what parse and render need (modules, templates) once, before many worker threads would
        all hit the first use at the same moment."""

    def render(self, desired: list[Desired], host) -> str:
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
