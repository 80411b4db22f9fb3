"""The MR summary (markdown): what the MR pipeline found, composed from the artifacts of its jobs.

Layout of the report folder (written by .gitlab-ci.yml): changed.json, validate.exit,
gl-code-quality-report.json, plan/<ID>.json + plan/<ID>.exit, conflicts/<ID>.json + conflicts/<ID>.exit.
Any piece may be missing (its job failed or did not run); the summary says so instead of guessing.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import safefiles
from ..errors import InputError

from ..plan.report import to_markdown as plan_markdown

_SEVERITY_ICON = {"blocker": ":no_entry:", "critical": ":x:", "major": ":x:", "minor": ":warning:", "info": ":information_source:"}


def _json(path: Path, expect: type = dict):
    """An artifact's JSON, or None when it is missing or unusable (the summary then says it is missing)."""
    try:
        return safefiles.read_json(path, safefiles.JSON_MAX, expect=expect)
    except InputError:
        return None


def _exit(path: Path) -> int | None:
    try:
        return int(safefiles.read_text(path, safefiles.SMALL_MAX).strip())
    except (InputError, ValueError):
        return None


def compose(report_dir: Path) -> str:
    changed = _json(report_dir / "changed.json") or {}
    files = [f for f in _list(changed.get("files")) if isinstance(f, dict)]
    # change ids name artifact files: only well-formed ones (no `../` from a doctored changed.json)
    ids = [f["change"] for f in files if f.get("status") != "deleted" and safefiles.is_safe_name(f.get("change"))]
    lines = [f"## netchange: {', '.join(ids) if ids else 'no change request in this MR'}", ""]
    problems = _list(changed.get("problems"))
    for p in problems:
        lines.append(f"- :x: {p}")
    if problems:
        lines.append("")
    lines += _validation(report_dir) + _conflicts(report_dir, ids) + _plans(report_dir, ids)
    url = os.environ.get("CI_PIPELINE_URL")
    if url:
        lines += ["", f"<sub>pipeline {url} — updated on every push</sub>"]
    return "\n".join(lines).rstrip() + "\n"


def _validation(d: Path) -> list[str]:
    rc = _exit(d / "validate.exit")
    findings = [f for f in _list(_json(d / "gl-code-quality-report.json", list)) if isinstance(f, dict)]
    if rc is None:
        return ["**Validation:** did not run (see the pipeline)", ""]
    head = "**Validation:** :white_check_mark: passed" if rc == 0 else f"**Validation:** :x: failed (exit {rc})"
    out = [head, ""]
    if findings:
        out += ["| | where | finding |", "|---|---|---|"]
        for f in findings[:50]:
            loc = f.get("location")
            loc = loc if isinstance(loc, dict) else {}
            lines = loc.get("lines")
            lines = lines if isinstance(lines, dict) else {}
            where = f"{loc.get('path', '?')}:{lines.get('begin', '?')}"
            desc = str(f.get("description", "")).replace("|", "\\|").replace("\n", " ")
            out.append(f"| {_SEVERITY_ICON.get(str(f.get('severity')), '')} | `{where}` | {desc} |")
        if len(findings) > 50:
            out.append(f"\n… and {len(findings) - 50} more in the Code Quality report")
        out.append("")
    return out


def _conflicts(d: Path, ids: list[str]) -> list[str]:
    from .conflicts import Conflict, ConflictReport, to_markdown

    out = []
    for cid in ids:
        doc = _json(d / "conflicts" / f"{cid}.json")
        if doc is None:
            out += [f"**Conflicts ({cid}):** not checked (see the pipeline)", ""]
            continue
        try:
            rep = ConflictReport(cid, [Conflict(c["change"], c["source"], c.get("url"),
                                                tuple((o["device"], o["kind"], o["name"]) for o in c["overlaps"]))
                                       for c in doc.get("conflicts", [])], list(doc.get("warnings", [])))
            text = to_markdown(rep)
        except (KeyError, TypeError, AttributeError, ValueError):
            out += [f"**Conflicts ({cid}):** report unreadable (see the pipeline)", ""]
            continue
        out += [f"**Conflicts ({cid}):**", "", text, ""]
    return out


def _plans(d: Path, ids: list[str]) -> list[str]:
    out = []
    for cid in ids:
        doc = _json(d / "plan" / f"{cid}.json")
        if doc is None:
            out += [f"**Plan ({cid}):** not available (validation failed or the plan job failed)", ""]
            continue
        try:
            text = plan_markdown(doc)
        except (KeyError, TypeError, AttributeError, ValueError):
            out += [f"**Plan ({cid}):** plan report unreadable (see the pipeline)", ""]
            continue
        out += [text, ""]
    return out


def _list(value) -> list:
    return value if isinstance(value, list) else []
