"""Strict identifier and text types: the first line of defence against command injection.

Every name that reaches a device command is an `Identifier` (a conservative charset no CLI treats as
syntax). Text comes in three kinds:
- `FreeText`: descriptions and remarks that reach a device: one printable line. What a platform's CLI
  cannot carry (vtysh reads `?` as help and `| ` as an output pipe, nft strings cannot hold `"`) is
  refused per platform by the driver that would print it, naming platform and field.
- `Label`: one line of any printable text that never reaches a device (title, ticket, requested_by).
- `Prose`: multi-line notes that never reach a device (change description, rollback notes).
No kind lets a control character or line break through: on one line they would end a command.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# fullmatch, never `match` with `$`: `$` also matches before a trailing newline ("RM1\n" would pass).
_IDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
# Words that, alone on a line or as a name, change CLI mode on some platform.
_RESERVED = {"exit", "end", "quit", "abort", "commit", "do", "no", "default", "top", "up", "rollback", "delete"}
# What may never sit inside one line: C0 and C1 controls (tab, CR, LF, ESC, NEL ...), DEL, the Unicode line and
# paragraph separators (some tools split lines on them) and bidirectional overrides (text that displays
# other than it reads).
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# Fast test for hot paths (the printer checks every value it prints): a match object or None.
find_line_breaking = _LINE_BREAKING.search


def control_char(text: str, allow: str = "") -> str | None:
    """The first character of *text* that cannot sit inside one line (except those in *allow*), or None."""
    m = find_line_breaking(text)
    if m is None or not allow:
        return None if m is None else m.group(0)
    return next((c.group(0) for c in _LINE_BREAKING.finditer(text) if c.group(0) not in allow), None)


def shown(value: object, limit: int = 80) -> str:
    """A value as an error message may show it: quoted, control characters escaped, cut to *limit*."""
    s = repr(str(value))
    return s if len(s) <= limit else s[: limit - 4] + "...'"


def _check_identifier(v: str) -> str:
    if not _IDENT.fullmatch(v):
        raise ValueError(
            "may contain only letters, digits, '_', '.', '-' (not first), at most 63 characters"
        )
    if v.lower() in _RESERVED:
        raise ValueError(f"'{v}' is a reserved CLI word")
    return v


def _check_line(v: str, what: str) -> None:
    bad = control_char(v)
    if bad is not None:
        raise ValueError(f"control characters and line breaks are not allowed in {what} (found {bad!r})")


def _check_text(v: str) -> str:
    if len(v) > 200:
        raise ValueError("at most 200 characters")
    _check_line(v, "descriptions (they would split a config line)")
    if v.strip().lower() in _RESERVED:
        raise ValueError(f"'{v.strip()}' alone is a CLI keyword")
    return v


def _check_label(v: str) -> str:
    if len(v) > 200:
        raise ValueError("at most 200 characters")
    _check_line(v, "one-line text")
    return v


Identifier = Annotated[str, AfterValidator(_check_identifier)]
FreeText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_text)]
# Never reaches a device: any printable text on one line ("Filter and prefer r3's own prefixes").
Label = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_label)]
# Regular expressions (AS-path, expanded communities) are device syntax themselves; restrict to regex chars.
_REGEX = re.compile(r"^[0-9A-Za-z_.^$*+?()\[\]|:,\- ]{1,200}$")


def _check_regex(v: str) -> str:
    """Device regex syntax, compiled as netchange evaluates it (RE2, linear time), and refused when a
    backtracking engine on a device would take super-linear time (see devregex)."""
    from . import devregex

    if not _REGEX.fullmatch(v) or "  " in v:
        raise ValueError("regular expression may use only digits, letters, space and _ . ^ $ * + ? ( ) [ ] | : , -")
    if "(?" in v:
        raise ValueError("'(?' is Python/PCRE group syntax, not a device regular expression")
    try:
        devregex.compile(v)
    except devregex.RegexError as e:
        raise ValueError(f"not a valid regular expression: {e}") from None
    slow = devregex.superlinear(v)
    if slow:
        raise ValueError(f"regular expression takes super-linear time: {slow}")
    return v


Regex = Annotated[str, AfterValidator(_check_regex)]


def _check_prose(v: str) -> str:
    if len(v) > 4000:
        raise ValueError("at most 4000 characters")
    bad = control_char(v, allow="\t\n")
    if bad is not None:
        raise ValueError(f"control characters are not allowed (found {bad!r}; line breaks are \\n only)")
    return v


# Change-request prose (description, rollback notes): multi-line, never sent to a device.
Prose = Annotated[str, AfterValidator(_check_prose)]
