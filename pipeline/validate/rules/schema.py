"""Stage one: bytes -> YAML -> ChangeRequest. Every problem becomes a finding with file:line:column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ... import yamlfast, yamlio
from ...errors import InputError, Location
from ...model.change import ChangeRequest
from pydantic import ValidationError
from ..findings import Finding
from ...yamlio import MAX_FLOW_DEPTH, flow_depth_problem

# Which rule a schema problem belongs to: (field-path pattern, message pattern, rule id); first hit wins.
SCHEMA_RULES: tuple[tuple[str | None, str | None, str], ...] = (
    (None, r"host bits set", "NC131"),
    (None, r"super-linear time", "NC171"),
    (r"ports", None, "NC132"),
    (None, r"port range|ports (are only|need)|is not a port|a port is", "NC132"),
    (None, r"may contain only letters|reserved CLI word|not allowed in descriptions|alone is a CLI keyword"
           r"|control characters|regular expression may use only|at most \d+ characters|scope IDs", "NC004"),
    (None, None, "NC002"),
)
_COMPILED = [(re.compile(f) if f else None, re.compile(m) if m else None, rule) for f, m, rule in SCHEMA_RULES]


def schema_rule(field: str | None, message: str) -> str:
    for f, m, rule in _COMPILED:
        if (f is None or (field and f.search(field))) and (m is None or m.search(message)):
            return rule
    return "NC002"


_PRIORITY = ("NC131", "NC171", "NC132", "NC004", "NC002")
def _clean_loc(node: Any, loc: tuple) -> tuple:
    """pydantic puts union member names ('function-before[...]', 'str') into error locations;
    keep only the parts that are real keys or indices of the document."""
    out: list = []
    cur = node
    for k in loc:
        if isinstance(cur, dict) and k in cur:
            cur = cur[k]
        elif isinstance(cur, list) and isinstance(k, int) and 0 <= k < len(cur):
            cur = cur[k]
        elif isinstance(k, str) and isinstance(cur, dict) and not out and k not in cur:
            out.append(k)  # a missing top-level field
            break
        else:
            if isinstance(cur, dict) and isinstance(k, str) and "[" not in k and k not in ("str", "int"):
                out.append(k)  # a missing nested field: name it
            continue
        out.append(k)
    return tuple(out)


def _schema_findings(node: Any, file: str, err: ValidationError) -> list[Finding]:
    by_path: dict[tuple, list[str]] = {}
    for e in err.errors(include_url=False):
        path = _clean_loc(node, tuple(e.get("loc", ())))
        msg = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            msg = f"unknown field '{path[-1] if path else '?'}'"
        elif e.get("type") == "missing":
            msg = f"missing required field '{path[-1] if path else '?'}'"
        msg = msg.removeprefix("Value error, ")
        if msg not in by_path.setdefault(path, []):
            by_path[path].append(msg)
    out = []
    for path, msgs in by_path.items():
        field = yamlio.field_path(path) or None
        rules = [schema_rule(field, m) for m in msgs]
        best = min(range(len(msgs)), key=lambda i: _PRIORITY.index(rules[i]))
        others = [m for i, m in enumerate(msgs) if i != best]
        # a prefix with host bits is not a badly spelled object name: only the specific reading helps
        msg = msgs[best] + (f" (other readings: {'; '.join(others)})" if others and rules[best] in ("NC004", "NC002") else "")
        line, col = yamlio.position(node, path)
        out.append(Finding.of(rules[best], msg, Location(file, line, col, field)))
    return out


def _fast(text: str) -> ChangeRequest | None:
    """libyaml + the model when that is plainly what ruamel would give (pipeline/yamlfast.py): a change
    carrying a 20,000-entry list loads in a second instead of ~20 s. None: the careful path, which reports
    every problem with file, line and field."""
    data = yamlfast.load_plain(text)
    if not isinstance(data, dict):
        return None
    try:
        return ChangeRequest.model_validate(data)
    except (ValidationError, RecursionError):
        return None


def load(path: Path, file: str) -> tuple[ChangeRequest | None, Any, list[Finding]]:
    """(change, node, findings); change is None when the file cannot be modelled."""
    try:
        text = yamlio.read_text(path)
        deep = flow_depth_problem(text)
        if deep:
            return None, None, [Finding.of("NC001", f"flow collections nested more than {MAX_FLOW_DEPTH} levels deep",
                                           Location(file, deep[0]))]
        fast = _fast(text)
        if fast is not None:
            return fast, None, []  # positions are read (ruamel) only if a finding needs one: Context.document
        node = yamlio.load(path, text=text)
    except InputError as e:
        loc = e.location
        return None, None, [Finding.of("NC001", str(e.args[0]) if e.args else "malformed YAML",
                                       Location(file, loc.line, loc.column, loc.field) if loc else Location(file))]
    if not isinstance(node, dict):
        return None, node, [Finding.of("NC002", "a change request is a YAML mapping (id, title, targets, ...)", Location(file, 1, 1))]
    try:
        return ChangeRequest.model_validate(yamlio.to_plain(node)), node, []
    except ValidationError as e:
        return None, node, _schema_findings(node, file, e)
    except RecursionError:  # block nesting deep enough to exhaust the stack
        return None, node, [Finding.of("NC002", "document nested too deeply", Location(file, 1, 1))]
