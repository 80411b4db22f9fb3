"""Cisco NX-OS running-config -> DevicePolicy (secondary platform: best effort, never raises).

NX-OS quirks as data: `ip access-list NAME` with sequence numbers and `statistics per-entry`, quoted
regular expressions, numbered community/as-path entries, and per-neighbor BGP blocks
(`neighbor X` / `address-family ipv4 unicast` / `route-map NAME in`).
"""

from __future__ import annotations

from ..model.policy import DevicePolicy
from .focus import Focus
from .iosstyle import Engine, parse_config
from .ios_dialect import Dialect, acl_header

DIALECT = Dialect(
    name="cisco_nxos",
    ccp_syntax="nxos",
    acl_headers=(
        acl_header(r"^ip access-list (?P<name>\S+)$", "ipv4"),
        acl_header(r"^ipv6 access-list (?P<name>\S+)$", "ipv6"),
    ),
    acl_counter_lines=("statistics per-entry",),
    community_list_cmds=("ip community-list",),
    large_community_list_cmds=("ip large-community-list",),
    as_path_cmds=("ip as-path access-list",),
    implicit_list_seq=True,
    nxos_neighbor_blocks=True,
)


def parse(text: str, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    return parse_config(text, DIALECT, engine, focus)
