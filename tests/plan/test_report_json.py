"""The plan file's text: indented down to one line per command / expectation, byte for byte what the
per-element encoder printed before the one-dump fast path (deploy reads it back; reviewers diff it)."""

from __future__ import annotations

import json

from pipeline.plan.report import to_json


def _reference(v: object, depth: int = 4, pad: str = "") -> str:
    # the encoder before December 2, 2026: one json.dumps per element below the indented levels
    if depth == 0 or not isinstance(v, (dict, list)) or not v:
        return json.dumps(v)
    inner = pad + "  "
    if isinstance(v, dict):
        body = ",\n".join(f"{inner}{json.dumps(str(k))}: {_reference(x, depth - 1, inner)}" for k, x in v.items())
        return "{\n" + body + "\n" + pad + "}"
    return "[\n" + ",\n".join(inner + _reference(x, depth - 1, inner) for x in v) + "\n" + pad + "]"


def _doc() -> dict[str, object]:
    commands = [f"ip prefix-list PL-BIG seq {i} permit 198.18.{i // 64}.{(i % 64) * 4}/30" for i in range(1, 300)]
    return {
        "format": "netchange-plan/1", "change": "CHG-1", "title": "quotes \" backslash \\ and ünïcode \u2028",
        "change_sha256": None, "errors": [], "refused": ["r2"],
        "devices": [{
            "host": "r1", "ops": ["add prefix-list PL-BIG entry 5"], "commands": commands,
            "switch_commands": [], "rollback_commands": commands[::-1] + ["description tab\there", "", 7, None, True, 1.5],
            "expect_after_commit": [{"kind": "prefix_list", "key": "PL-BIG",
                                     "obj": {"entries": [{"seq": 3, "prefix": "198.18.0.0/30", "le": None}]}}],
            "refresh": [{"neighbor": "198.51.100.2", "commands": ["clear ip bgp 198.51.100.2 soft in"]}],
            "mixed": ["a", {"nested": ["b", 1]}, ["c"], []],
            "groups": {"PG": ["198.51.100.3"], "EMPTY": []}, "diff": "--- a\n+++ b\n-x\n+y\n",
        }, {"host": "r2", "commands": [], "refused": [{"kind": "route_map", "name": "RM", "note": "n"}]}],
    }


def test_plan_json_text_is_unchanged_and_one_line_per_command() -> None:
    doc = _doc()
    text = to_json(doc)
    assert text == _reference(doc)
    assert json.loads(text) == doc
    lines = text.splitlines()
    assert '        "ip prefix-list PL-BIG seq 1 permit 198.18.0.4/30",' in lines
    assert '        "description tab\\there",' in lines
