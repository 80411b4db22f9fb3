"""Cisco IOS / IOS-XE running-config -> DevicePolicy (shared IOS-style machinery, IOS dialect)."""

from __future__ import annotations

from ..model.policy import DevicePolicy
from .focus import Focus
from .iosstyle import Engine, parse_config
from .ios_dialect import Dialect, acl_header

DIALECT = Dialect(
    name="cisco_ios",
    ccp_syntax="ios",
    acl_headers=(
        acl_header(r"^ip access-list standard (?P<name>\S+)$", "ipv4", standard=True),
        acl_header(r"^ip access-list extended (?P<name>\S+)$", "ipv4"),
        acl_header(r"^ipv6 access-list (?P<name>\S+)$", "ipv6"),
    ),
    numbered_acls=True,
    community_list_cmds=("ip community-list",),
    as_path_cmds=("ip as-path access-list",),
)


def parse(text: str, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    return parse_config(text, DIALECT, engine, focus)
