"""Aruba AOS-CX running-config -> DevicePolicy.

AOS-CX quirks as data: `access-list ip|ipv6 NAME` with numbered entries and `comment` lines, no wildcard
masks (a bare address is a host, `A/255.255.0.0` a netmask), `count` on entries, `ip aspath-list`,
`route-map X permit seq 10`, `apply access-list ip NAME in` on interfaces, and interface names written
with a space (`interface vlan 2`, canonicalised to `vlan2`).
"""

from __future__ import annotations

import re

from ..model.policy import DevicePolicy
from .focus import Focus
from .iosstyle import Engine, parse_config
from .ios_dialect import Dialect, acl_header

DIALECT = Dialect(
    name="aruba_aoscx",
    ccp_syntax="ios",
    acl_headers=(
        acl_header(r"^access-list ip (?P<name>\S+)$", "ipv4"),
        acl_header(r"^access-list ipv6 (?P<name>\S+)$", "ipv6"),
    ),
    acl_remark_words=("comment", "remark"),
    acl_entry_counter_words=("count",),
    wildcard_masks=False,
    community_list_cmds=("ip community-list",),
    large_community_list_cmds=("ip large-community-list",),
    as_path_cmds=("ip aspath-list",),
    implicit_list_seq=True,
    route_map_seq_word=True,
    attach_patterns=(
        re.compile(r"^apply access-list ip (?P<name>\S+) (?P<dir>in|out)$"),
        re.compile(r"^apply access-list ipv6 (?P<name>\S+) (?P<dir>in|out)$"),
    ),
    interface_name_joins_number=True,
)


def parse(text: str, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    return parse_config(text, DIALECT, engine, focus)
