"""Shared rendering machinery: the jinja2 environment, what templates may look up, and the driver base.

Drivers compute (Python), templates print (jinja2 macros in templates/<platform>/macros.j2). Every op
and every full render goes through the same macros, so `netchange render` and `netchange plan` print
a construct identically.

Injection defence at the printer, after the model's own types: every `{{ value }}` a template prints
passes `print_gate` (the environment's `finalize`), which refuses a value with a control character or
line break instead of letting it start a line of its own; free text goes through the platform's text
filter (`device_text`, `nft_quote`, `junos_quote`), which escapes it or refuses what the CLI cannot carry;
and `single_lines`, last, splits only the template's own line breaks and refuses any line that still holds
a control character or an unbalanced quote.

Modules: `environment` (jinja2 environment, print gate, `single_lines`), `text_filters` (free text and
words per platform), `guards` (names and objects re-checked at the printer), `context` (what templates
may look up), `aces` (firewall rules -> ACE fields), `capabilities` (what a platform can match, as data),
`entries` (entry numbering, route-map clause diffs), `driver` (`TemplateDriver`), `list_edits` (entry
edits of one list or ACL). `UnsupportedConstruct` lives here: every module raises it.
"""

from __future__ import annotations

from ...errors import NetchangeError


class UnsupportedConstruct(NetchangeError):
    """The platform cannot express something the change asks for (refused, never silently dropped)."""

    exit_code = 1
