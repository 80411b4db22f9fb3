"""One `nft -j` rule printed back the way `nft list ruleset` shows it, to name a rule in a note or a refusal.

Best effort on the common expressions (matches on payload, meta, ct, sets, prefixes, ranges; verdicts,
counter, log, limit); anything else is shown as compact JSON, so nothing is hidden. The rule's handle,
given alongside, is what identifies it exactly.
"""

from __future__ import annotations

import json
from typing import Any

# meta keys nft prints without the `meta` keyword
_BARE_META = {"iifname", "oifname", "iif", "oif", "iiftype", "oiftype", "mark", "skuid", "skgid"}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _left(left: Any) -> str:
    if isinstance(left, dict) and len(left) == 1:
        kind, body = next(iter(left.items()))
        if kind == "payload" and isinstance(body, dict) and "protocol" in body:
            return f"{body['protocol']} {body.get('field', '')}".strip()
        if kind == "meta" and isinstance(body, dict):
            key = body.get("key", "")
            return key if key in _BARE_META else f"meta {key}"
        if kind == "ct" and isinstance(body, dict):
            return "ct " + " ".join(str(body[k]) for k in ("dir", "key") if body.get(k) is not None)
        if kind in ("socket", "osf", "rt", "fib", "exthdr", "tcp option") and isinstance(body, dict):
            return f"{kind} {' '.join(str(v) for v in body.values())}"
    return _json(left)


def _value(value: Any, quote: bool = False) -> str:
    if isinstance(value, str):
        return f'"{value}"' if quote and not value.startswith("@") else value
    if isinstance(value, bool) or value is None:
        return _json(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(_value(v, quote) for v in value)
    if isinstance(value, dict) and len(value) == 1:
        kind, body = next(iter(value.items()))
        if kind == "set" and isinstance(body, list):
            return "{ " + ", ".join(_value(v, quote) for v in body) + " }"
        if kind == "prefix" and isinstance(body, dict):
            return f"{body.get('addr')}/{body.get('len')}"
        if kind == "range" and isinstance(body, list) and len(body) == 2:
            return f"{_value(body[0])}-{_value(body[1])}"
        if kind == "elem" and isinstance(body, dict):
            return _value(body.get("val"), quote)
    return _json(value)


def _match(body: dict) -> str:
    left = body.get("left")
    name = _left(left)
    quote = isinstance(left, dict) and isinstance(left.get("meta"), dict) and \
        left["meta"].get("key") in ("iifname", "oifname")
    op = body.get("op", "==")
    shown_op = "" if op in ("==", "in") else f"{op} "
    return f"{name} {shown_op}{_value(body.get('right'), quote)}"


def _statement(kind: str, body: Any) -> str:
    if kind == "match" and isinstance(body, dict):
        return _match(body)
    if kind in ("accept", "drop", "continue", "return") and body is None:
        return kind
    if kind in ("jump", "goto") and isinstance(body, dict):
        return f"{kind} {body.get('target')}"
    if kind == "counter":
        return "counter"  # packet/byte counts change with traffic: not part of what the rule is
    if kind == "reject":
        return "reject" if not body else f"reject {_json(body)}"
    if kind == "log" and isinstance(body, dict):
        return " ".join(["log", *(f'{k} "{v}"' if k == "prefix" else f"{k} {v}" for k, v in body.items())])
    if kind == "log":
        return "log"
    if kind == "limit" and isinstance(body, dict):
        over = "over " if body.get("inv") else ""
        unit = f" {body['rate_unit']}" if body.get("rate_unit") not in (None, "packets") else ""
        burst = f" burst {body['burst']} packets" if body.get("burst") not in (None, 0, 5) else ""
        return f"limit rate {over}{body.get('rate')}{unit}/{body.get('per')}{burst}"
    return _json({kind: body})


def rule_text(rule: dict) -> str:
    """`nft -j` rule object -> its statements as nft prints them (plus its comment)."""
    parts = []
    exprs = rule.get("expr", [])
    for ex in exprs if isinstance(exprs, list) else [exprs]:
        if isinstance(ex, dict) and len(ex) == 1:
            kind, body = next(iter(ex.items()))
            try:
                parts.append(_statement(kind, body))
            except (TypeError, AttributeError, KeyError, ValueError):  # members of unexpected JSON types: shown as JSON
                parts.append(_json(ex))
        else:
            parts.append(_json(ex))
    if rule.get("comment"):
        parts.append(f'comment "{rule["comment"]}"')
    return " ".join(parts)
