"""`netchange plan` (dry run) and `netchange backup` (snapshots for offline plans)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import safefiles
from ..console import Messages
from ..errors import InputError, Location, NetchangeError
from ..inventory import Host, Inventory

err = Messages()
log = logging.getLogger(__name__)
PLAN_REFUSED = 4  # exit code: a device's plan was refused (unmodelled configuration in touched objects)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=not err.shows_progress)


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        change_file: Path = typer.Argument(..., help="change request YAML"),
        snapshots: Optional[Path] = typer.Option(None, "--snapshots", help="plan offline against <host>.cfg/.json files"),
        fmt: str = typer.Option("text", "--format", help="text | json | markdown"),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="write here instead of stdout"),
        strategy: Optional[str] = typer.Option(None, "--strategy", help="in_place | versioned (default: the change's)"),
        inventory: Optional[Path] = typer.Option(None, "--inventory", help="nornir inventory folder"),
        workers: int = typer.Option(50, "--workers", help="concurrent devices"),
        detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                               help="exit 0: no changes, 2: changes, 1: error (as terraform plan)"),
    ) -> None:
        """Dry run: what each target device will receive, in order, and which sessions get refreshed.

        Exit 0: planned; 1: a device could not be planned; 4: a device's plan was refused because the
        change would rewrite configuration netchange cannot model (the lines are listed). With
        --detailed-exitcode (as Terraform's): 0 no changes, 2 changes, 1 any error or refusal."""
        from ..project import Project, load_change
        from .report import plan_document, to_json, to_markdown, to_text
        from .planner import DevicePlan
        from .run import plan_live, plan_snapshots, targets

        if fmt not in ("text", "json", "markdown"):
            raise InputError(f"unknown format '{fmt}' (text, json, markdown)", Location("--format"))
        if strategy not in (None, "in_place", "versioned"):
            raise InputError(f"unknown strategy '{strategy}' (in_place, versioned)", Location("--strategy"))
        if workers < 1:
            raise InputError("--workers must be at least 1", Location("--workers"))
        if snapshots is not None and not snapshots.is_dir():
            raise InputError("no such snapshot folder (make one with `netchange backup -o`)", Location(str(snapshots)))
        from ..validate.gate import valid_change

        try:
            project = Project.find(change_file.parent)
            inv = Inventory(inventory) if inventory else project.inventory
            change = valid_change(change_file, project, inv)  # what `validate` refuses is never planned
        except NetchangeError:
            load_change(change_file)  # a file that cannot be read or modelled is named first, as it always was
            raise
        store = project.objects
        n = len(targets(change, inv))
        plans: list[DevicePlan] = []
        errors: list[str] = []
        with _progress() as prog:
            task = prog.add_task(f"planning {change.id}", total=n)
            step = lambda _h: prog.advance(task)  # noqa: E731
            source = (plan_snapshots(change, inv, store, snapshots, strategy, progress=step) if snapshots
                      else plan_live(change, inv, store, strategy, workers, progress=step))
            for r in source:
                if isinstance(r, str):
                    errors.append(r)
                else:
                    plans.append(r)
                    log.info("%s: %d command(s), %d session(s) to refresh", r.host, len(r.commands), len(r.refresh))
        doc = plan_document(change, change_file, plans, errors)
        text = {"json": to_json, "markdown": to_markdown, "text": to_text}[fmt](doc)
        refused = [p.host for p in plans if p.refused]
        if output:
            safefiles.write_text(output, text + "\n", "the plan")
            err.info(f"plan written to {output}: {sum(1 for p in plans if not p.empty and not p.refused)} device(s) "
                     f"change, {len(refused)} refused, {len(errors)} error(s)")
        else:
            sys.stdout.write(text + "\n")
        if errors:
            raise typer.Exit(1)
        if refused:
            err.print(f"refused on {', '.join(refused)}: the change would rewrite configuration netchange cannot "
                      "model (listed above)")
            raise typer.Exit(1 if detailed_exitcode else PLAN_REFUSED)
        raise typer.Exit(2 if detailed_exitcode and any(not p.empty for p in plans) else 0)

    @app.command()
    def backup(
        output: Path = typer.Option(..., "--output", "-o", help="snapshot folder"),
        hosts: Optional[str] = typer.Option(None, "--hosts", help="comma-separated host names (default: all)"),
        inventory: Optional[Path] = typer.Option(None, "--inventory"),
    ) -> None:
        """Save every device's running config (and FRR received routes) for offline plans."""
        from concurrent.futures import ThreadPoolExecutor

        from ..project import Project
        from .run import fetch_running, snapshot_path

        inv = Inventory(inventory) if inventory else Project.find().inventory
        names = [h.strip() for h in hosts.split(",")] if hosts else list(inv.hosts)
        unknown = [h for h in names if h not in inv.hosts]
        if unknown:
            raise InputError(f"not in the inventory: {', '.join(unknown)}", Location("--hosts"))
        chosen = [inv.hosts[h] for h in names]
        paths = {h.name: snapshot_path(output, h) for h in chosen}  # checks every name before any device is asked
        safefiles.make_dir(output, "the snapshot folder")
        failed = []

        def one(h: Host) -> str | None:
            try:
                text = fetch_running(h)
            except NetchangeError as e:  # report per device, keep going
                return str(e) if str(e).startswith(f"{h.name}:") else f"{h.name}: {e}"
            except Exception as e:
                return f"{h.name}: {type(e).__name__}: {e}"
            try:
                _replace_file(paths[h.name], text)
            except OSError as e:
                return f"{h.name}: cannot write {paths[h.name]}: {e.strerror}"
            return None

        with _progress() as prog, ThreadPoolExecutor(max_workers=20) as pool:
            task = prog.add_task("backup", total=len(chosen))
            for r in pool.map(one, chosen):
                prog.advance(task)
                if r:
                    failed.append(r)
        for f in failed:
            err.print(f"[red]failed[/] {f}")
        err.info(f"{len(chosen) - len(failed)} snapshot(s) written to {output}")
        raise typer.Exit(1 if failed else 0)


def _replace_file(path: Path, text: str) -> None:
    """Write a snapshot as a new file renamed into place: never through a FIFO or a symbolic link that
    someone left at that name, and never half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
