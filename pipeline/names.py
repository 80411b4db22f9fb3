"""Strict identifier and free-text types: the first line of defence against command injection.

Every name that reaches a device command is an `Identifier` (a conservative charset no CLI treats as
syntax); every free text (descriptions, remarks) is a `FreeText`: printable, single line, none of the
characters that end or comment a line on any platform we drive. Templates print only these types.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_IDENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
# Words that, alone on a line or as a name, change CLI mode on some platform.
_RESERVED = {"exit", "end", "quit", "abort", "commit", "do", "no", "default", "top", "up", "rollback", "delete"}
# Also the Unicode line breaks (NEL, LINE/PARAGRAPH SEPARATOR): some tools split lines on them.
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029!#;{}\\\"'`$|<>]|\{\{|\{%")


def _check_identifier(v: str) -> str:
    if not _IDENT.match(v):
        raise ValueError(
            "may contain only letters, digits, '_', '.', '-' (not first), at most 63 characters"
        )
    if v.lower() in _RESERVED:
        raise ValueError(f"'{v}' is a reserved CLI word")
    return v


def _check_text(v: str) -> str:
    if len(v) > 200:
        raise ValueError("at most 200 characters")
    bad = _TEXT_FORBIDDEN.search(v)
    if bad:
        raise ValueError(f"character {bad.group(0)!r} is not allowed in descriptions (it could break a config line)")
    if v.strip().lower() in _RESERVED:
        raise ValueError(f"'{v.strip()}' alone is a CLI keyword")
    return v


Identifier = Annotated[str, AfterValidator(_check_identifier)]
FreeText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_text)]
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

_PROSE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_prose(v: str) -> str:
    if len(v) > 4000:
        raise ValueError("at most 4000 characters")
    if _PROSE_FORBIDDEN.search(v):
        raise ValueError("control characters are not allowed")
    return v


# Change-request prose (description, rollback notes): multi-line, never sent to a device.
Prose = Annotated[str, AfterValidator(_check_prose)]
