"""FRR (vtysh `show running-config` / frr.conf) -> DevicePolicy.

FRR differs from IOS in data only: `bgp community-list` / `bgp large-community-list` / `bgp as-path
access-list` commands that number unnumbered entries 5, 10, ..., `on-match goto N` as a spelling of
`continue N`, and `access-list` being a zebra route filter rather than a packet filter (FRR hosts filter
packets with nftables), and one-line banners (`banner motd line TEXT`).
"""

from __future__ import annotations

from ..model.policy import DevicePolicy
from .focus import Focus
from .iosstyle import Engine, parse_config
from .ios_dialect import Dialect

DIALECT = Dialect(
    name="frr",
    ccp_syntax="ios",
    acl_headers=(),
    route_filter_access_lists=True,
    community_list_cmds=("bgp community-list", "ip community-list"),
    large_community_list_cmds=("bgp large-community-list", "ip large-community-list"),
    as_path_cmds=("bgp as-path access-list", "ip as-path access-list"),
    implicit_list_seq=True,
    continue_forms=("continue", "on-match goto"),
    attach_patterns=(),
    banner="line",
)


def parse(text: str, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    return parse_config(text, DIALECT, engine, focus)
