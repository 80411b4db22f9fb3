"""Stage 1 of IOS-style parsing: config text -> `Node` trees, one per top-level policy section.

`sections_fast` is a single-pass line scanner; `sections_ciscoconfparse2` builds the same trees from
ciscoconfparse2 (12-14x slower, kept to cross-check the scanner); `sections_focused` skips what a plan
does not need (see focus.py). Banner bodies are dropped first, as each dialect ends them: free text may
look like config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from .focus import Focus

if TYPE_CHECKING:
    from .ios_dialect import Dialect



@dataclass(slots=True)
class Node:
    text: str  # the line, stripped
    children: list["Node"] = field(default_factory=list)

    def __repr__(self) -> str:  # compact in assertion output
        return f"Node({self.text!r}, {len(self.children)} children)"


_LIST_HEADS = ("ip prefix-list ", "ipv6 prefix-list ", "ip community-list ", "ip large-community-list ",
               "bgp community-list ", "bgp large-community-list ", "ip as-path access-list ", "bgp as-path access-list ",
               "ip aspath-list ")
_ACL_HEADS = ("ip access-list ", "ipv6 access-list ", "access-list ")


def wanted_header(header: str, names: frozenset[str]) -> bool:
    for t in header.split():
        if t in names:
            return True
        for sep in (".nc", "-v"):
            base, found, ver = t.rpartition(sep)
            if found and ver.isdigit() and base in names:
                return True
    return False


def split_lines(text: str) -> list[str]:
    """CRLF, lone CR and a missing final newline all end lines the same way."""
    return text.splitlines()


def _is_comment(stripped: str) -> bool:
    return stripped.startswith("!")


def nest(lines: list[tuple[int, str]]) -> list[Node]:
    """(indent, text) lines -> trees: a line is the child of the nearest previous line indented less."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for indent, text in lines:
        node = Node(text)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((indent, node))
    return roots


_BANNER = re.compile(r"^banner \S+ (\S)(\S?)")
_BARE_BANNER = re.compile(r"^banner \S+\s*$")
EOS_BANNER_END = "EOF"


def config_lines(text: str, dialect: Dialect | None = None, notes: list[str] | None = None) -> Iterator[str]:
    """The config's lines without banner bodies (free text that may look like config, e.g. `route-map`).

    How a banner ends is the dialect's (`Dialect.banner`): "delimiter" (IOS, NX-OS, AOS-CX: `banner motd ^C`
    ... up to the next `^C`), "eof" (EOS: a bare `banner motd`, then text up to a line `EOF`) or "line" (FRR:
    `banner motd line TEXT`, one line). A banner still open at the end is reported in `notes`."""
    style = dialect.banner if dialect is not None else "delimiter"
    end: str | None = None  # what closes the open banner: its delimiter, or a line EOS_BANNER_END
    eof = False
    opened = (0, "")
    n = 0
    for n, raw in enumerate(split_lines(text), 1):
        if end is not None:
            if (raw.strip() == end) if eof else (end in raw):
                end = None
        elif raw.startswith("banner "):
            eof = style == "eof" and _BARE_BANNER.match(raw) is not None
            if eof:
                end = EOS_BANNER_END
            elif style == "delimiter":
                end = _banner_delimiter(raw)
            opened = (n, raw.strip())
            yield raw
        else:
            yield raw
    if end is not None and notes is not None:
        notes.append(f"{opened[1]} (line {opened[0]}) is never closed: the {n - opened[0]} line(s) after it were "
                     "read as banner text, not as configuration")


def sections_fast(text: str, dialect: Dialect, focus: Focus | None = None, notes: list[str] | None = None) -> list[Node]:
    """Single pass: keep top-level lines that open a policy section and their indented lines.

    With a focus, interface and ACL sections nobody asked for are skipped, and list sections are
    returned as `deferred` raw lines (see sections_focused) instead of trees."""
    return sections_focused(text, dialect, focus, notes)[0]


def sections_focused(text: str, dialect: Dialect, focus: Focus | None,
                     notes: list[str] | None = None) -> tuple[list[Node], list[list[tuple[int, str]]], int]:
    """(sections, deferred list sections, number of sections skipped); `notes` gets what config_lines reports."""
    prefixes = dialect.section_prefixes()
    out: list[Node] = []
    deferred: list[list[tuple[int, str]]] = []
    skipped = 0
    current: list[tuple[int, str]] | None = None
    defer = False
    for raw in config_lines(text, dialect, notes):
        if not raw or raw[0] in " \t":
            if current is not None:
                stripped = raw.strip()
                if stripped and not _is_comment(stripped):
                    current.append((len(raw) - len(raw.lstrip()), stripped))
            continue
        if raw[0] == "!":  # comments never end a section (AOS-CX prints `!` inside `router bgp`)
            continue
        if current is not None:
            (deferred.append(current) if defer else out.extend(nest(current)))
            current = None
        if not raw.startswith(prefixes):
            continue
        defer = False
        if focus is not None:
            if raw.startswith("interface ") and not focus.filters:
                skipped += 1
                continue
            if raw.startswith(_ACL_HEADS) and not wanted_header(raw, focus.filters):
                skipped += 1
                continue
            defer = raw.startswith(_LIST_HEADS)
        current = [(0, raw.rstrip())]
    if current is not None:
        (deferred.append(current) if defer else out.extend(nest(current)))
    return out, deferred, skipped


def _banner_delimiter(line: str) -> str | None:
    """The delimiter still open after a `banner TYPE <d>...` line, or None if the banner ends on it."""
    m = _BANNER.match(line)
    if not m:
        return None
    delim = m.group(1) + m.group(2) if m.group(1) == "^" else m.group(1)  # ^C is two characters
    rest = line[m.start(1) + len(delim):]
    return None if delim in rest else delim


def sections_ciscoconfparse2(text: str, dialect: Dialect, notes: list[str] | None = None) -> list[Node]:
    """The same trees from ciscoconfparse2 (slow; used to cross-check `sections_fast`)."""
    from ciscoconfparse2 import CiscoConfParse  # imported lazily: ~0.3 s import cost

    parse = CiscoConfParse(list(config_lines(text, dialect, notes)), syntax=dialect.ccp_syntax, ignore_blank_lines=True)
    prefixes = dialect.section_prefixes()

    def build(obj) -> Node:
        return Node(obj.text.strip(), [build(c) for c in obj.children if not c.is_comment and c.text.strip()])

    return [build(o) for o in parse.objs if o.indent == 0 and o.text.startswith(prefixes)]


SECTIONERS: dict[str, Callable[..., list[Node]]] = {
    "fast": sections_fast, "ciscoconfparse2": sections_ciscoconfparse2,
}
