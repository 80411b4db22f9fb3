"""What differs between IOS-style platforms, as data: one `Dialect` per platform (keywords, quirks, how a
banner ends), read by both stages of iosstyle.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


from ..model.base import AFI



@dataclass(frozen=True)
class Dialect:
    name: str
    ccp_syntax: str = "ios"  # ciscoconfparse2 syntax for the cross-check engine
    # ACL block headers: regex with groups (name) -> family; `standard` marks source-only ACEs.
    acl_headers: tuple[tuple[re.Pattern, AFI, bool], ...] = ()
    numbered_acls: bool = False  # IOS `access-list 101 permit ...`
    acl_remark_words: tuple[str, ...] = ("remark",)
    acl_counter_lines: tuple[str, ...] = ()  # ACL-level lines that turn on per-entry counters
    acl_entry_counter_words: tuple[str, ...] = ()  # ACE options that count (AOS-CX `count`)
    wildcard_masks: bool = True  # "A W" operands; AOS-CX has none, a bare address there is a host
    route_filter_access_lists: bool = False  # FRR `access-list` is a zebra route filter, not a packet filter
    community_list_cmds: tuple[str, ...] = ("ip community-list",)
    large_community_list_cmds: tuple[str, ...] = ()
    as_path_cmds: tuple[str, ...] = ("ip as-path access-list",)
    as_path_origin_suffix: bool = False  # EOS `... permit REGEX any|igp|egp|incomplete`
    implicit_list_seq: bool = False  # device numbers community/as-path entries itself (FRR, NX-OS)
    route_map_seq_word: bool = False  # AOS-CX `route-map X permit seq 10`
    continue_forms: tuple[str, ...] = ("continue",)  # FRR adds "on-match goto"
    # BGP: address family of top-level `neighbor X route-map`: a fixed AFI, or None = the neighbor's family.
    bgp_toplevel_afi: AFI | None = "ipv4"
    nxos_neighbor_blocks: bool = False
    # Interface attachments: regex with groups (name, dir).
    attach_patterns: tuple[re.Pattern, ...] = (
        re.compile(r"^ip access-group (?P<name>\S+) (?P<dir>in|out)$"),
        re.compile(r"^ipv6 traffic-filter (?P<name>\S+) (?P<dir>in|out)$"),
    )
    interface_name_joins_number: bool = False  # AOS-CX `interface vlan 2` -> vlan2
    # How a banner's free text ends (ios_sections.config_lines): "delimiter" (IOS `banner motd ^C`...`^C`),
    # "eof" (EOS: bare `banner motd`, text, a line `EOF`), "line" (FRR `banner motd line TEXT`).
    banner: Literal["delimiter", "eof", "line"] = "delimiter"

    def section_prefixes(self) -> tuple[str, ...]:
        base = ("ip prefix-list ", "ipv6 prefix-list ", "route-map ", "router bgp ", "interface ", "ip access-list ",
                "ipv6 access-list ", "access-list ", "ip extcommunity-list ", "apply access-list ")
        words = self.community_list_cmds + self.large_community_list_cmds + self.as_path_cmds
        return base + tuple(w + " " for w in words)


def acl_header(pattern: str, family: AFI, standard: bool = False) -> tuple[re.Pattern, AFI, bool]:
    return re.compile(pattern), family, standard
