"""Keywords of IOS-style ACL entries beyond addresses and ports, shared by the printers (drivers) and the
parser (ios_aces.py): ICMP message names (IOS and EOS print and accept them; each names a type, or a type
and a code), TCP flag words, DSCP names, and how a TTL / hop-limit range is spelled."""

from __future__ import annotations

from ..model.matches import DSCP_NAMES, DSCP_NUMBER_NAMES, TCP_FLAGS

# name -> (type, code or None), per address family of the ACL (IPv6 ACLs say `icmp` and mean ICMPv6).
ICMP_WORDS: dict[str, dict[str, tuple[int, int | None]]] = {
    "ipv4": {
        "echo-reply": (0, None), "unreachable": (3, None), "net-unreachable": (3, 0), "host-unreachable": (3, 1),
        "protocol-unreachable": (3, 2), "port-unreachable": (3, 3), "packet-too-big": (3, 4),
        "source-route-failed": (3, 5), "network-unknown": (3, 6), "host-unknown": (3, 7), "host-isolated": (3, 8),
        "dod-net-prohibited": (3, 9), "dod-host-prohibited": (3, 10), "net-tos-unreachable": (3, 11),
        "host-tos-unreachable": (3, 12), "administratively-prohibited": (3, 13),
        "host-precedence-unreachable": (3, 14), "precedence-unreachable": (3, 15), "source-quench": (4, None),
        "redirect": (5, None), "net-redirect": (5, 0), "host-redirect": (5, 1), "net-tos-redirect": (5, 2),
        "host-tos-redirect": (5, 3), "alternate-address": (6, None), "echo": (8, None),
        "router-advertisement": (9, None), "router-solicitation": (10, None), "time-exceeded": (11, None),
        "ttl-exceeded": (11, 0), "reassembly-timeout": (11, 1), "parameter-problem": (12, None),
        "general-parameter-problem": (12, 0), "option-missing": (12, 1), "no-room-for-option": (12, 2),
        "timestamp-request": (13, None), "timestamp-reply": (14, None), "information-request": (15, None),
        "information-reply": (16, None), "mask-request": (17, None), "mask-reply": (18, None),
        "traceroute": (30, None), "conversion-error": (31, None), "mobile-redirect": (32, None),
    },
    "ipv6": {
        "unreachable": (1, None), "no-route": (1, 0), "no-admin": (1, 1), "beyond-scope": (1, 2),
        "destination-unreachable": (1, None), "address-unreachable": (1, 3), "port-unreachable": (1, 4),
        "packet-too-big": (2, None), "time-exceeded": (3, None), "hop-limit": (3, 0), "reassembly-timeout": (3, 1),
        "parameter-problem": (4, None), "header": (4, 0), "next-header": (4, 1), "parameter-option": (4, 2),
        "echo-request": (128, None), "echo-reply": (129, None), "mld-query": (130, None), "mld-report": (131, None),
        "mld-reduction": (132, None), "router-solicitation": (133, None), "router-advertisement": (134, None),
        "nd-ns": (135, None), "nd-na": (136, None), "redirect": (137, None), "router-renumbering": (138, None),
    },
}
# (type, code) -> the name IOS prints for it (the first name listed)
ICMP_NAME_OF: dict[str, dict[tuple[int, int | None], str]] = {fam: {} for fam in ICMP_WORDS}
for _fam, _words in ICMP_WORDS.items():
    for _w, _tc in _words.items():
        ICMP_NAME_OF[_fam].setdefault(_tc, _w)

FLAG_WORDS = frozenset(TCP_FLAGS)  # `syn`, `ack`, ... : that flag set


def icmp_word(family: str, itype: int, icode: int | None) -> str:
    """`echo` / `packet-too-big` where IOS has a name for (type, code), else the numbers."""
    name = ICMP_NAME_OF[family].get((itype, icode))
    if name is not None:
        return name
    return f"{itype}" if icode is None else f"{itype} {icode}"


def dscp_word(value: int) -> str:
    return DSCP_NUMBER_NAMES.get(value, str(value))


def dscp_value(word: str) -> int | None:
    low = word.lower()
    if low in DSCP_NAMES:
        return DSCP_NAMES[low]
    return int(low) if low.isdigit() and int(low) <= 63 else None


def ttl_words(lo: int, hi: int, ranges: bool = True) -> str | None:
    """`eq 5`, `gt 4`, `lt 6`, `range 2 5` (None for 0-255: no match at all; or a range the CLI lacks)."""
    if lo == hi:
        return f"eq {lo}"
    if hi == 255 and lo > 0:
        return f"gt {lo - 1}"
    if lo == 0 and hi < 255:
        return f"lt {hi + 1}"
    if lo == 0 and hi == 255:
        return None
    return f"range {lo} {hi}" if ranges else None
