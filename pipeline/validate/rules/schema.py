"""Stage one: bytes -> YAML -> ChangeRequest. Every problem becomes a finding with file:line:column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ... import yamlio
from ...errors import InputError, Location
from ...model.change import ChangeRequest
from ..findings import Finding

# Which rule a schema problem belongs to: (field-path pattern, message pattern, rule id); first hit wins.
SCHEMA_RULES: tuple[tuple[str | None, str | None, str], ...] = (
    (None, r"host bits set", "NC131"),
    (r"ports", None, "NC132"),
    (None, r"port range|ports (are only|need)|is not a port|a port is", "NC132"),
    (None, r"may contain only letters|reserved CLI word|not allowed in descriptions|alone is a CLI keyword"
           r"|control characters|regular expression may use only|at most \d+ characters", "NC004"),
    (None, None, "NC002"),
)
_COMPILED = [(re.compile(f) if f else None, re.compile(m) if m else None, rule) for f, m, rule in SCHEMA_RULES]


def schema_rule(field: str | None, message: str) -> str:
    for f, m, rule in _COMPILED:
        if (f is None or (field and f.search(field))) and (m is None or m.search(message)):
            return rule
    return "NC002"


def _relabel(loc: Location, file: str) -> Location:
    return Location(file, loc.line, loc.column, loc.field)


def load(path: Path, file: str) -> tuple[ChangeRequest | None, Any, list[Finding]]:
    """(change, node, findings); change is None when the file cannot be modelled."""
    try:
        node = yamlio.load(path)
    except InputError as e:
        loc = _relabel(e.location, file) if e.location else Location(file)
        return None, None, [Finding.of("NC001", str(e.args[0]) if e.args else "malformed YAML", loc)]
    if not isinstance(node, dict):
        return None, node, [Finding.of("NC002", "a change request is a YAML mapping (id, title, targets, ...)", Location(file, 1, 1))]
    try:
        change = yamlio.validate_model(ChangeRequest, node, path)
    except InputError as e:
        out = []
        for loc, msg in e.problems:
            if loc.field and msg == "unknown field":
                msg = f"unknown field '{loc.field.rsplit('.', 1)[-1]}'"
            out.append(Finding.of(schema_rule(loc.field, msg), msg, _relabel(loc, file)))
        return None, node, out
    except RecursionError:  # pydantic on absurdly deep input
        return None, node, [Finding.of("NC002", "document nested too deeply", Location(file, 1, 1))]
    return change, node, []
