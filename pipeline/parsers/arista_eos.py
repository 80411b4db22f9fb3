"""Arista EOS running-config -> DevicePolicy.

EOS quirks as data: `ip access-list NAME` (extended by default) with sequence numbers, `counters
per-entry`, block-form prefix-lists (`ip prefix-list X` + indented `seq 10 permit ...`), `regexp`
community-lists, `ip large-community-list`, an origin word after as-path regexes, `peer group` with a
space, top-level `neighbor X route-map` applying to the neighbor's own address family, and banners
without a delimiter (`banner motd`, its text, a line `EOF`).
"""

from __future__ import annotations

import re

from ..model.policy import DevicePolicy
from .focus import Focus
from .iosstyle import Engine, parse_config
from .ios_dialect import Dialect, acl_header

DIALECT = Dialect(
    name="arista_eos",
    ccp_syntax="ios",
    acl_headers=(
        acl_header(r"^ip access-list standard (?P<name>\S+)$", "ipv4", standard=True),
        acl_header(r"^ip access-list (?P<name>\S+)$", "ipv4"),
        acl_header(r"^ipv6 access-list standard (?P<name>\S+)$", "ipv6", standard=True),
        acl_header(r"^ipv6 access-list (?P<name>\S+)$", "ipv6"),
    ),
    acl_counter_lines=("counters per-entry",),
    community_list_cmds=("ip community-list",),
    large_community_list_cmds=("ip large-community-list",),
    as_path_cmds=("ip as-path access-list",),
    as_path_origin_suffix=True,
    bgp_toplevel_afi=None,
    banner="eof",
    attach_patterns=(
        re.compile(r"^ip access-group (?P<name>\S+) (?P<dir>in|out)$"),
        re.compile(r"^ipv6 access-group (?P<name>\S+) (?P<dir>in|out)$"),
    ),
)


def parse(text: str, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    return parse_config(text, DIALECT, engine, focus)
