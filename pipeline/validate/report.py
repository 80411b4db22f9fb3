"""Findings -> text for people, JSON for tools, JUnit and Code Quality for GitLab. Pure functions."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Iterable, Mapping, Sequence
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.markup import escape

from .catalogue import RULES
from .findings import Finding

Results = Mapping[str, Sequence[Finding]]  # display path -> findings, for every file validated
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def summary(results: Results) -> dict[str, int]:
    c = Counter(f.severity for fs in results.values() for f in fs)
    return {"files": len(results), "errors": c["error"], "warnings": c["warning"], "info": c["info"]}


def text(results: Results, console: Console) -> None:
    """Grouped by file, one line per finding: line:col severity rule message."""
    for file, findings in results.items():
        if not findings:
            continue
        console.print(f"[bold]{escape(file)}[/]")
        for f in findings:
            pos = f"{f.location.line or '-'}:{f.location.column or '-'}"
            field = f" [dim]\\[{escape(f.location.field)}][/]" if f.location.field else ""
            console.print(f"  {pos:>8}  [{_STYLE[f.severity]}]{f.severity:<7}[/] [dim]{f.rule}[/]  {escape(f.message)}{field}",
                          highlight=False, soft_wrap=True)
    s = summary(results)
    clean = s["files"] - sum(1 for fs in results.values() if any(f.is_error for f in fs))
    style = "bold red" if s["errors"] else ("yellow" if s["warnings"] else "green")
    console.print(f"[{style}]{s['files']} file(s): {s['errors']} error(s), {s['warnings']} warning(s); {clean} clean[/]",
                  highlight=False)


def _dict(f: Finding) -> dict:
    return {"rule": f.rule, "name": f.name, "severity": f.severity, "message": f.message, "file": f.location.file,
            "line": f.location.line, "column": f.location.column, "field": f.location.field, "related": list(f.related)}


def to_json(results: Results) -> str:
    doc = {"version": 1, "summary": summary(results),
           "files": [{"path": file, "findings": [_dict(f) for f in fs]} for file, fs in results.items()]}
    return json.dumps(doc, indent=2) + "\n"


def to_junit(results: Results) -> str:
    """A testcase per change file; a <failure> per error, warnings and notes in system-out."""
    suite = ET.Element("testsuite", name="netchange validate", tests=str(len(results)),
                       failures=str(sum(1 for fs in results.values() if any(f.is_error for f in fs))), errors="0")
    for file, fs in results.items():
        case = ET.SubElement(suite, "testcase", classname="netchange.validate", name=file, file=file)
        for f in fs:
            if f.is_error:
                el = ET.SubElement(case, "failure", message=f"{f.rule} {f.message}", type=f.rule)
                el.text = f"{f.location}: {f.rule} {f.name}: {f.message}"
        notes = [f"{f.location}: {f.severity} {f.rule} {f.message}" for f in fs if not f.is_error]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """Stable across unrelated edits (the field path, not the line, identifies the place) and unique
    (identical findings get an occurrence number)."""
    seen: Counter = Counter()
    out = []
    for f in findings:
        base = "\x1f".join((f.rule, f.location.file, f.location.field or str(f.location.line or ""), f.message))
        seen[base] += 1
        out.append(hashlib.sha256(f"{base}\x1f{seen[base]}".encode()).hexdigest())
    return out


def to_codequality(results: Results) -> str:
    all_f = [f for fs in results.values() for f in fs]
    issues = [{"description": f"{f.rule} {f.message}" + (f" [{f.location.field}]" if f.location.field else ""),
               "check_name": f"{f.rule}-{f.name}", "fingerprint": fp, "severity": RULES[f.rule].quality,
               "location": {"path": f.location.file, "lines": {"begin": f.location.line or 1}}}
              for f, fp in zip(all_f, fingerprints(all_f))]
    return json.dumps(issues, indent=2) + "\n"
