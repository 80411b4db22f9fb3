"""The MR summary (markdown): what the MR pipeline found, composed from the artifacts of its jobs.

Layout of the report folder (written by .gitlab-ci.yml): changed.json, validate.exit,
gl-code-quality-report.json, plan/<ID>.json + plan/<ID>.exit, conflicts/<ID>.json + conflicts/<ID>.exit.
Any piece may be missing (its job failed or did not run); the summary says so instead of guessing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..plan.report import to_markdown as plan_markdown

_SEVERITY_ICON = {"blocker": ":no_entry:", "critical": ":x:", "major": ":x:", "minor": ":warning:", "info": ":information_source:"}


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _exit(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def compose(report_dir: Path) -> str:
    changed = _json(report_dir / "changed.json") or {}
    files = changed.get("files", [])
    ids = [f["change"] for f in files if f.get("status") != "deleted"]
    lines = [f"## netchange: {', '.join(ids) if ids else 'no change request in this MR'}", ""]
    for p in changed.get("problems", []):
        lines.append(f"- :x: {p}")
    if changed.get("problems"):
        lines.append("")
    lines += _validation(report_dir) + _conflicts(report_dir, ids) + _plans(report_dir, ids)
    url = os.environ.get("CI_PIPELINE_URL")
    if url:
        lines += ["", f"<sub>pipeline {url} — updated on every push</sub>"]
    return "\n".join(lines).rstrip() + "\n"


def _validation(d: Path) -> list[str]:
    rc = _exit(d / "validate.exit")
    findings = _json(d / "gl-code-quality-report.json")
    if rc is None:
        return ["**Validation:** did not run (see the pipeline)", ""]
    head = "**Validation:** :white_check_mark: passed" if rc == 0 else f"**Validation:** :x: failed (exit {rc})"
    out = [head, ""]
    if isinstance(findings, list) and findings:
        out += ["| | where | finding |", "|---|---|---|"]
        for f in findings[:50]:
            loc = f.get("location", {})
            where = f"{loc.get('path', '?')}:{(loc.get('lines') or {}).get('begin', '?')}"
            desc = str(f.get("description", "")).replace("|", "\\|").replace("\n", " ")
            out.append(f"| {_SEVERITY_ICON.get(f.get('severity'), '')} | `{where}` | {desc} |")
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
        rep = ConflictReport(cid, [Conflict(c["change"], c["source"], c.get("url"),
                                            tuple((o["device"], o["kind"], o["name"]) for o in c["overlaps"]))
                                   for c in doc.get("conflicts", [])], doc.get("warnings", []))
        out += [f"**Conflicts ({cid}):**", "", to_markdown(rep), ""]
    return out


def _plans(d: Path, ids: list[str]) -> list[str]:
    out = []
    for cid in ids:
        doc = _json(d / "plan" / f"{cid}.json")
        if doc is None:
            out += [f"**Plan ({cid}):** not available (validation failed or the plan job failed)", ""]
            continue
        out += [plan_markdown(doc), ""]
    return out
