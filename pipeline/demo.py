"""`netchange demo`: the main job on the bundled default — lab up, validate, render and plan the demo
change against the live lab devices (dry run), then lab down (unless --keep)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        change_file: Path = typer.Argument(Path("policies/changes/CHG-0001.yaml"), help="change request to run"),
        keep: bool = typer.Option(False, "--keep", help="leave the lab running afterwards"),
    ) -> None:
        """Bring the lab up and run the example change through validate, render and plan."""
        from .lab import Lab
        from .plan.report import plan_document, to_text
        from .plan.run import plan_live, targets
        from .project import Project, load_change

        project = Project.find(change_file.parent)
        lab = Lab(project.root / "inventory" / "topology.yaml")
        t0 = time.monotonic()
        console.rule("1. lab up")
        lab.up()
        console.print(f"lab converged in {time.monotonic() - t0:.1f} s")
        try:
            console.rule(f"2. validate {change_file}")
            change, _ = load_change(change_file)
            findings = _validate(change_file, project)
            if findings is not None:
                console.print(findings or "clean")
            console.rule("3. plan against the live lab (dry run)")
            inv = project.inventory
            plans, errors = [], []
            for r in plan_live(change, inv, project.objects):
                (errors if isinstance(r, str) else plans).append(r)
            sys.stdout.write(to_text(plan_document(change, change_file, plans, errors)) + "\n")
            console.print(f"{len(targets(change, inv))} target(s) planned, {len(errors)} error(s)")
            if errors:
                raise typer.Exit(1)
        finally:
            if not keep:
                console.rule("lab down")
                lab.down()


def _validate(path: Path, project) -> str | None:
    try:
        from .validate import validate_change  # provided by the validation package
    except ImportError:
        return None
    found = validate_change(path, project)
    return "\n".join(str(f) for f in found)
