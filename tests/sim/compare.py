"""When two configurations of one platform say the same thing: the normal form round-trip tests compare.

A device prints its own normal form of what it was given; these are the differences a real device
introduces and that a comparison must forgive (each listed in docs/SIMULATORS.md):
- separators (`!`), blank lines, comments, `end`, runs of spaces;
- sequence numbers it assigns (ACEs, prefix-list, community-list and AS-path entries) where the input had none;
- a one-line prefix-list entry and the block form (`ip prefix-list X` + `seq N permit P`);
- `no ...` lines at the top level (a config file's commands, not state);
- two blocks with one header (`router bgp 1` twice) merged into one;
- a match clause naming several lists printed as one line (`match as-path 1 2`);
- a prefix typed with host bits set (`10.1.1.1/8`), printed masked (`10.0.0.0/8`).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

_SEQ_ACE = re.compile(r"^(\d+) (permit|deny|remark|comment) ")
_PL_SEQ = re.compile(r"^((?:ip|ipv6) prefix-list \S+) seq \d+ ")
_SEQ_ONLY = re.compile(r"^seq \d+ ")
_LIST_SEQ = re.compile(r"^((?:ip|bgp) (?:community-list|large-community-list) (?:standard |expanded |regexp )?\S+|(?:ip|bgp) as-path access-list \S+|ip aspath-list \S+) seq \d+ ")
_PL_LINE = re.compile(r"^((?:ip|ipv6) prefix-list \S+) ((?:permit|deny|description) .*)$")
_MULTI = re.compile(r"^(match (?:ip address prefix-list|ipv6 address prefix-list|ip address|ipv6 address|community|as-path|aspath-list|community-list)) (.+)$")


def _net(tok: str) -> str:
    if "/" in tok and tok[0].isalnum():
        try:
            return str(ipaddress.ip_network(tok, strict=False))
        except ValueError:
            return tok
    return tok


def _norm(line: str) -> list[str]:
    s = " ".join(_net(t) for t in line.split())
    s = _SEQ_ACE.sub(r"\2 ", s)
    s = _PL_SEQ.sub(r"\1 ", s)
    s = _SEQ_ONLY.sub("", s)
    s = _LIST_SEQ.sub(r"\1 ", s)
    m = _MULTI.match(s)
    if m:
        names = [n for n in m.group(2).split() if n != "exact-match"]
        tail = " exact-match" if "exact-match" in m.group(2).split() else ""
        return [f"{m.group(1)} {n}{tail}" for n in names]
    return [s]


def blocks(text: str, comment: str = "!") -> Counter:
    """Top-level blocks (header + every nested line, normalised), blocks of one header merged."""
    merged: dict[str, list[str]] = {}
    order: list[str] = []
    current: str | None = None
    banner: str | None = None
    for raw in text.splitlines():
        s = raw.strip()
        if banner is not None:  # banner text is compared as is, up to its delimiter
            merged[current].append(raw)
            if banner in raw:
                banner = None
            continue
        m = re.match(r"banner (\S+) (\^C|\S)(.*)$", s) if raw[:1] not in (" ", "\t") else None
        if m:
            current = s
            merged.setdefault(s, [])
            order.append(s)
            banner = m.group(2) if m.group(2) not in m.group(3) else None
            continue
        if not s or s.startswith((comment, "#")) or s in ("end", "exit-address-family", "exit") or s.startswith(("Building configuration", "Current configuration")):
            continue
        if raw[:1] not in (" ", "\t"):
            if s.startswith("no "):
                current = None
                continue
            one = _PL_LINE.match(_norm(s)[0])
            if one:  # a one-line prefix-list entry is the block form's header + entry
                head = one.group(1)
                if head not in merged:
                    merged[head] = []
                    order.append(head)
                merged[head].append(one.group(2))
                current = head
                continue
            for head in _norm(s):
                current = head
                if head not in merged:
                    merged[head] = []
                    order.append(head)
        elif current is not None:
            merged[current] += _norm(s)
    return Counter({(h,) + tuple(sorted(merged[h])): 1 for h in order})


def diff(a: str, b: str, comment: str = "!") -> tuple[list, list]:
    ba, bb = blocks(a, comment), blocks(b, comment)
    return sorted(ba - bb), sorted(bb - ba)
