"""Text filters templates print free text and words through: each platform's CLI quoting, or a refusal
with the reason (`device_text`, `junos_quote`, `junos_word`, `nft_quote`), and address spellings."""

from __future__ import annotations

import re
from typing import Any

import jinja2

from ...model.base import Network
from ...names import control_char, shown
from . import UnsupportedConstruct



def junos_quote(text: object) -> str:
    """A Junos string token: always double-quoted, with quote and backslash escaped."""
    s = _one_line(str(text), "juniper_junos")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def junos_word(text: object) -> str:
    """A token of a Junos statement read from the device, printed back: bare when it can be, else quoted."""
    s = str(text)
    return s if re.fullmatch(r"[A-Za-z0-9_./:+@-]+", s) else junos_quote(s)


def nft_quote(text: object, limit: int = 127) -> str:
    """An nftables string (comment, log prefix), length capped. nft strings have no escape for '"' (a quote
    ends the string whatever precedes it): such text is refused, never silently changed."""
    s = _one_line(str(text), "nftables")
    if '"' in s:
        raise UnsupportedConstruct(f"nftables: the comment {shown(s)} contains '\"', which an nft string cannot hold; "
                                   "reword it")
    if len(s.encode()) > limit:
        s = s.encode()[: limit - 3].decode(errors="ignore") + "..."
    return f'"{s}"'


# Interactive Cisco-style CLIs (vtysh, IOS, EOS, AOS-CX) read these two characters as syntax in any command,
# descriptions included. Measured on FRR 8.4 vtysh over a terminal: `?` prints help and is dropped from the
# line; `| ` starts an output filter (`% Unknown action`, or the rest of the line silently becomes a regex).
INTERACTIVE_CLI_TEXT = {
    "?": "the CLI reads as its help key (the character would be lost)",
    "|": "the CLI reads as an output pipe (the rest of the line would be lost)",
}


@jinja2.pass_context
def device_text(context: Any, text: object, field: str = "text") -> str:
    """Free text (description, remark, comment) printed as the rest of a CLI line: unquoted, so each
    character the platform's CLI reads as syntax (its `text_refused`) is refused with the reason."""
    platform = context.get("platform", "this platform")
    s = _one_line(str(text), platform)
    for ch, why in (context.get("text_refused") or {}).items():
        if ch in s:
            raise UnsupportedConstruct(f"{platform}: the {field} {shown(s)} contains {ch!r}, which {why}; reword it")
    return s


def _one_line(s: str, platform: str) -> str:
    bad = control_char(s)
    if bad is not None:
        raise UnsupportedConstruct(f"{platform}: refusing to print text with a control character or line break "
                                   f"({bad!r}): {shown(s)}")
    return s


def wildcard(net: Network) -> str:
    return str(net.hostmask)


def netmask(net: Network) -> str:
    return str(net.netmask)
