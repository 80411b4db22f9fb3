"""`netchange validate` and `netchange schema`: argument handling and printing only."""

from __future__ import annotations

import datetime as dt
import io
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .. import safefiles
from ..console import plain_console
from ..errors import InputError, Location, NetchangeError


class FindingsFound(NetchangeError):
    """Validation found errors: exit 1. (A NetchangeError, because the root CLI runs click with
    standalone_mode=False, where a typer.Exit code is returned by click and dropped.)"""

    exit_code = 1


class Format(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    codequality = "codequality"


def _expand(files: list[Path]) -> list[Path]:
    out: list[Path] = []
    for f in files:
        out.extend(sorted(f.rglob("*.yaml")) + sorted(f.rglob("*.yml")) if f.is_dir() else [f])
    return out


def _write(output: Optional[Path], content: str) -> None:
    if output is None:
        sys.stdout.write(content)
        return
    safefiles.write_text(output, content, "the report")


def validate(
    files: list[Path] = typer.Argument(None, help="change-request files or folders (default: every change request of the project)"),
    # A plain str checked here: a click usage error currently escapes pipeline.cli.main as a traceback.
    format: str = typer.Option("text", "--format", "-f", help="text, json, junit (GitLab test report) or codequality"),
    inventory: Optional[Path] = typer.Option(None, "--inventory", help="inventory folder (default: the project's inventory/)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the report to FILE instead of stdout"),
    project_dir: Optional[Path] = typer.Option(None, "--project", help="project root (default: found from the current folder)"),
    now: Optional[dt.datetime] = typer.Option(None, "--now", hidden=True, help="pretend it is this time (tests)"),
) -> None:
    """Check change requests: schema, references, targets, shadowed terms, guardrails.

    Exit 0 when there are no errors (warnings allowed), 1 when there are, 2 on usage or I/O errors."""
    from ..project import Project
    from . import report
    from .validator import Validator

    if format not in Format.__members__:
        raise InputError(f"unknown format '{format}' (use {', '.join(Format.__members__)})", Location("--format"))
    format = Format(format)
    if project_dir is None:
        project = Project.find(".")
    elif (project_dir / "policies").is_dir():
        project = Project(project_dir.resolve())
    else:
        raise InputError("not a netchange project (no policies/ folder)", Location(str(project_dir)))
    paths = _expand(list(files)) if files else project.change_files()
    if not paths:
        raise InputError("no change requests to validate", Location(str(project.changes_dir)))
    if inventory is not None and not (inventory / "hosts.yaml").is_file():
        raise InputError("inventory folder has no hosts.yaml", Location(str(inventory)))
    when = (now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)) if now else None
    v = Validator(project, inventory, now=when) if when else Validator(project, inventory)
    results = {v.display(p): v.validate(p) for p in paths}
    if format == Format.text:
        # plain in a file, under NO_COLOR or off a terminal
        buf = io.StringIO()
        console = plain_console(file=buf if output else sys.stdout, no_color=output is not None,
                                highlight=False, soft_wrap=True)
        report.text(results, console)
        if output:
            _write(output, buf.getvalue())
    else:
        render = {Format.json: report.to_json, Format.junit: report.to_junit, Format.codequality: report.to_codequality}[format]
        _write(output, render(results))
    errors = sum(1 for fs in results.values() for f in fs if f.is_error)
    if errors:
        bad = sum(1 for fs in results.values() if any(f.is_error for f in fs))
        raise FindingsFound(f"{errors} validation error(s) in {bad} of {len(results)} file(s)")


def schema_text(kind: str = "change-request") -> str:
    from .. import schemas

    return schemas.text(kind)


def schema(
    kind: str = typer.Option("change-request", "--kind", help="change-request, plan (netchange-plan/1) or deploy-report (netchange-deploy/1)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write to FILE instead of stdout"),
) -> None:
    """Write a JSON Schema: change requests (for editors and CI), plan files or deploy reports."""
    from .. import schemas

    if kind not in schemas.KINDS:
        raise InputError(f"unknown schema '{kind}' ({', '.join(schemas.KINDS)})", Location("--kind"))
    _write(output, schema_text(kind))


def register(app: typer.Typer) -> None:
    """Adds `validate` and `schema`."""
    names = {c.name for c in app.registered_commands}
    if "validate" not in names:  # main() registers on every call
        app.command("validate")(validate)
        app.command("schema")(schema)
