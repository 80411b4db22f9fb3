"""Plan outputs: the JSON plan file deploy executes, a short markdown summary for the MR, terminal text.

Every format carries every note in full (what the parsers could not model) and every refused line: a
note cut short could hide the one line that makes a plan wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from ..model.change import ChangeRequest
from .planner import DevicePlan

PLAN_FORMAT = "netchange-plan/1"


def plan_document(change: ChangeRequest, change_file: Path, plans: list[DevicePlan], errors: list[str]) -> dict[str, Any]:
    return {
        "format": PLAN_FORMAT,
        "change": change.id,
        "title": change.title,
        "change_sha256": hashlib.sha256(change_file.read_bytes()).hexdigest() if change_file.exists() else None,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "devices": [p.as_dict() for p in plans],
        "refused": [p.host for p in plans if p.refused],
        "errors": errors,
    }


def to_json(doc: dict[str, Any]) -> str:
    """Indented down to each command and each expectation, which are one line each: json's indenting
    encoder is pure Python, and a 20,000-entry list's expectations took it seconds (the C one: ms)."""
    return _indented(doc, 4, "")


_FLAT = (str, int, float, bool, type(None))


def _indented(v: object, depth: int, pad: str) -> str:
    out: list[str] = []
    _indent_into(out, v, depth, pad)
    return "".join(out)


def _indent_into(out: list[str], v: object, depth: int, pad: str) -> None:
    """`json.dumps(v, indent=2)` down to `depth`, one line per element below it, into `out` (joined once:
    nested joins copied the 16 MB of a large list edit's plan once per level)."""
    if depth == 0 or not isinstance(v, (dict, list)) or not v:
        out.append(json.dumps(v))
        return
    inner = pad + "  "
    if depth == 1 and isinstance(v, list) and all(type(x) in _FLAT for x in v):
        # a plan's commands: one C-encoded dump with the line break and indent as its item separator, the
        # same text as a dump per element (which cost ~2 µs each, 160,000 per large list edit)
        out += ("[\n", inner, json.dumps(v, separators=(",\n" + inner, ": "))[1:-1], "\n", pad, "]")
        return
    out.append("{\n" if isinstance(v, dict) else "[\n")
    items = v.items() if isinstance(v, dict) else ((None, x) for x in v)
    for i, (k, x) in enumerate(items):
        out.append(",\n" + inner if i else inner)
        if isinstance(v, dict):
            out += (json.dumps(str(k)), ": ")
        _indent_into(out, x, depth - 1, inner)
    out += ("\n", pad, "}" if isinstance(v, dict) else "]")


def _refused_line(r: dict[str, str]) -> str:
    return f"{r['kind'].replace('_', '-')} {r['name']}: {r['note']}"


def _code(text: str) -> str:
    """Inline markdown code that survives backticks in device text."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _refresh_label(r: dict[str, Any]) -> str:
    via = f" (via {r['group']})" if r.get("group") else ""
    return f"{r['neighbor']} {r['afi']} {r['direction']}{via}"


def refresh_order(devs: list[dict[str, Any]]) -> str | None:
    """Why the refresh runs in the order it does (deploy: every device's outbound refresh of a wave, then the
    inbound ones), said when it matters: sessions refreshed in both directions."""
    dirs = {r["direction"] for d in devs for r in d["refresh"]}
    if dirs != {"in", "out"}:
        return None
    outs = sorted({d["host"] for d in devs for r in d["refresh"] if r["direction"] == "out"})
    ins = sorted({d["host"] for d in devs for r in d["refresh"] if r["direction"] == "in"})
    return (f"refresh order: export side first ({', '.join(outs)} out), then import ({', '.join(ins)} in), after one "
            "barrier over every device: a router re-reads its neighbor's routes only once they are sent under the "
            "new export policy, so no table is judged by a new import against an old export")


def _groups(d: dict[str, Any]) -> list[str]:
    return [f"peer-group {g}: members {', '.join(m) or '(none)'}" for g, m in (d.get("groups") or {}).items()]


def to_markdown(doc: dict[str, Any]) -> str:
    devs = doc["devices"]
    changed = [d for d in devs if d["commands"] or d["switch_commands"] or d["gc_commands"]]
    refused = [d for d in devs if d.get("refused")]
    lines = [f"### netchange plan: {doc['change']} — {doc['title']}", "",
             f"{len(changed)} of {len(devs)} device(s) change; "
             f"{sum(len(d['refresh']) for d in devs)} BGP session(s) refreshed after every device committed.", ""]
    if (why := refresh_order(devs)) is not None:
        lines += [why[0].upper() + why[1:] + ".", ""]
    if doc["errors"]:
        lines += ["**Errors**", ""] + [f"- :x: {_code(e)}" for e in doc["errors"]] + [""]
    if refused:
        lines += [f"**Refused on {len(refused)} device(s)**: configuration netchange cannot model sits in objects "
                  "this change rewrites (the rewrite would drop or change it)", ""]
        for d in refused:
            lines += [f"- :no_entry: {d['host']}"] + [f"  - {_code(_refused_line(r))}" for r in d["refused"]]
        lines.append("")
    if changed:
        lines += ["| device | strategy | edits | commands | refresh |", "|---|---|---:|---:|---|"]
        for d in changed:
            refresh = ", ".join(_refresh_label(r) for r in d["refresh"]) or "—"
            lines.append(f"| {d['host']} | {d['strategy']} | {len(d['ops'])} | {len(d['commands'])} | {refresh} |")
        lines.append("")
        grouped = [f"- {d['host']}: {g}" for d in changed for g in _groups(d)]
        if grouped:
            lines += ["Bindings planned on groups (every member listed follows, each refreshed once):", "", *grouped, ""]
    for d in changed:
        imp = d["impact"]
        if imp:
            lines.append(f"**Route impact on {d['host']}**")
            for i in imp:
                lines.append(f"- {i['neighbor']} {i['afi']} in: {_impact_counts(i)}")
                if i.get("basis", "received") != "received":
                    lines.append(f"  - :warning: {i['note']}")
                lines += [f"  - {line}" for line in _impact_detail(i)]
            lines.append("")
        lines += [f"<details><summary>{d['host']}: diff and commands</summary>", "", "```diff", d["diff"].rstrip(), "```",
                  "", "```", *d["commands"], *d["switch_commands"], "```"]
        if d["gc_commands"]:
            lines += ["", "After verification (garbage collection):", "```", *d["gc_commands"], "```"]
        lines += ["</details>", ""]
    noted = [d for d in devs if d["skipped"]]
    for d in noted:
        lines += [f"<details><summary>{d['host']}: {len(d['skipped'])} note(s) on what was not modelled</summary>", "",
                  "```", *d["skipped"], "```", "</details>", ""]
    return "\n".join(lines)


def to_text(doc: dict[str, Any]) -> str:
    out = [f"plan {doc['change']}: {doc['title']}"]
    for d in doc["devices"]:
        if d.get("refused"):
            out.append(f"\n== {d['host']} ({d['platform']}): REFUSED, {len(d['refused'])} line(s) netchange cannot "
                       "model sit in objects this change rewrites:")
            out += [f"   {_refused_line(r)}" for r in d["refused"]]
            listed = {r["note"] for r in d["refused"]}
            out += [f"   note: not modelled: {s}" for s in d["skipped"] if s not in listed]
            continue
        if not (d["commands"] or d["switch_commands"] or d["gc_commands"]):
            out.append(f"\n== {d['host']} ({d['platform']}): no change")
            out += [f"   note: not modelled: {s}" for s in d["skipped"]]
            continue
        out.append(f"\n== {d['host']} ({d['platform']}, {d['strategy']}): {len(d['commands'])} command(s)")
        if d["diff"]:
            out.append(d["diff"].rstrip())
        out += [f"   {g}" for g in _groups(d)]
        out.append("-- phase 1: commit")
        out += [f"   {c}" for c in d["commands"]]
        if d["refresh"] or d["switch_commands"]:
            out.append("-- phase 2: switch bindings and refresh")
            out += [f"   {c}" for c in d["switch_commands"]]
            out += [f"   {c}" for r in d["refresh"] for c in r["commands"]]
        if d["gc_commands"]:
            out.append("-- after verification: garbage collection")
            out += [f"   {c}" for c in d["gc_commands"]]
        for i in d["impact"]:
            out.append(f"-- impact {i['neighbor']} {i['afi']} in: {_impact_counts(i)}")
            if i.get("basis", "received") != "received":
                out.append(f"   note: {i['note']}")
            out += [f"   {line}" for line in _impact_detail(i)]
        out += [f"   note: not modelled: {s}" for s in d["skipped"]]
    if (why := refresh_order(doc["devices"])) is not None:
        out.append(f"\n{why}")
    for e in doc["errors"]:
        out.append(f"\nerror: {e}")
    return "\n".join(out)


def _impact_counts(i: dict[str, Any]) -> str:
    basis = i.get("basis", "received")
    if basis == "none":
        return "not previewed"
    accepted = "? accepted (not knowable)" if basis == "accepted" else f"+{len(i['newly_accepted'])} accepted"
    return (f"{accepted}, -{len(i['newly_rejected'])} rejected, {len(i['changed'])} changed of {i['routes']} "
            f"{basis} route(s)")


def _impact_detail(i: dict[str, Any], limit: int = 5) -> list[str]:
    """The first few prefixes behind the counts: what a reviewer checks."""
    out = [f"drops {p}" for p in i["newly_rejected"][:limit]]
    out += [f"accepts {p}" for p in i["newly_accepted"][:limit]]
    for p, attrs in list(i["changed"].items())[:limit]:
        out.append(f"changes {p}: " + ", ".join(f"{a} {o} -> {n}" for a, (o, n) in attrs.items()))
    more = len(i["newly_rejected"]) + len(i["newly_accepted"]) + len(i["changed"]) - len(out)
    return out + ([f"... and {more} more (--format json lists all)"] if more > 0 else [])
