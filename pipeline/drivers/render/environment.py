"""The jinja2 environment templates render in, and the print gate every `{{ value }}` passes (its `finalize`),
then `single_lines`, the last check on what a template printed."""

from __future__ import annotations

import functools
from typing import cast

import jinja2

from ...parsers.acl_words import dscp_word, icmp_word, ttl_words
from ...names import control_char, find_line_breaking, shown
from . import UnsupportedConstruct
from .capabilities import is_host, proto
from .entries import numbered, seq_of, written
from .text_filters import device_text, junos_quote, junos_word, netmask, nft_quote, wildcard


# templates/ at the top of the repository installs as the package `pipeline.templates` (see pyproject.toml):
# loading it as package data makes a wheel render from any directory.
TEMPLATES_PACKAGE = "pipeline.templates"


class Printed(str):
    """What a macro (or a `{% set %}` block) produced: template text plus values that already passed
    `print_gate`. Only this type may carry the template's own line breaks through `{{ }}`."""

    __slots__ = ()


def print_gate(value: object) -> str:
    """jinja2 `finalize`: every `{{ value }}` ends up here. A value is printed inside a line, so a control
    character or line break in it would start a command of its own: refused, never split."""
    kind = type(value)
    if kind is Printed:
        return cast(Printed, value)
    if kind is int:  # seq numbers, lengths, ASNs: the commonest values, and never a line break
        return str(value)
    text = cast(str, value) if kind is str else str(value)
    bad = find_line_breaking(text)
    if bad is not None:
        raise UnsupportedConstruct(f"refusing to print a value with a control character or line break "
                                   f"({bad.group(0)!r}): {shown(text)}")
    return text


class _GatedEnvironment(jinja2.Environment):
    # Macros and blocks join their output with `concat`: marking it lets print_gate tell a macro's
    # multi-line output (built from gated values) from a value that carries a line break itself.
    concat = staticmethod(lambda parts: Printed("".join(parts)))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = _GatedEnvironment(
        loader=jinja2.PackageLoader(TEMPLATES_PACKAGE, "."),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=print_gate,
    )
    env.filters.update(junos_quote=junos_quote, junos_word=junos_word, nft_quote=nft_quote, device_text=device_text, wildcard=wildcard,
                       netmask=netmask)
    env.globals.update(seq_of=seq_of, numbered=numbered, written=written, is_host=is_host, proto=proto, icmp_word=icmp_word,
                       dscp_word=dscp_word, ttl_words=ttl_words)
    return env


def single_lines(text: str, quoted_strings: bool = True) -> list[str]:
    """The last check: split template output on the template's own line breaks (values cannot carry one
    past print_gate), drop blank lines, and refuse any line that is not one clean line. Where `"` opens a
    string (`quoted_strings`: Junos, nft), a line's quotes must also balance."""
    out = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line.strip():
            continue
        bad = control_char(line, allow="\t")  # tabs indent nft files
        if bad is not None:
            raise UnsupportedConstruct(f"refusing to print a line with a control character or line break ({bad!r}): "
                                       f"{shown(line)}")
        if quoted_strings and line.count('"') % 2:
            raise UnsupportedConstruct(f"refusing to print a line with an unbalanced quote: {shown(line)}")
        out.append(line)
    return out
