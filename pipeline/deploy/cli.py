"""`netchange deploy`: commit-then-refresh with guards, journal, rollback and waves."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import safefiles
from ..console import Messages
from ..errors import InputError, Location

err = Messages()
# Exit codes (README "Deploy exit codes"): 0 done or nothing to do; 1 rolled back (nothing of the change
# remains); 3 refused before any device was touched; 5 a person must act (a device may hold part of the change:
# the report's `action` names them and the command that finishes the job).
EXIT = {"deployed": 0, "no_op": 0, "committed": 0, "undone": 0, "rolled_back": 1, "refused": 3,
        "rollback_failed": 5, "undo_failed": 5}


def traffic_verifier(change_file: Path, inventory, progress, collector: str | None = None):
    """(verifier, hooks, cleanup) judging the change's `verify.traffic` from sFlow samples: via the standing
    collector's API when `collector` is given, else with the lab's own agents."""
    from ..project import load_change
    from ..telemetry.deploy_verify import verifier_for

    change = load_change(change_file)[0]
    return verifier_for(change, inventory, None, allow_inconclusive=change.verify.inconclusive == "pass", progress=progress,
                        collector=collector)


def register(app: typer.Typer) -> None:
    @app.command()
    def deploy(
        target: Path = typer.Argument(..., help="change request YAML, or a plan JSON made by `netchange plan --format json`"),
        change: Optional[Path] = typer.Option(None, "--change", help="the change request (when TARGET is a plan)"),
        plan: Optional[Path] = typer.Option(None, "--plan", help="reviewed plan JSON to execute as reviewed"),
        workers: int = typer.Option(50, "--workers", help="devices worked on concurrently (SSH sessions open at once)"),
        canary: Optional[str] = typer.Option(None, "--canary", help="deploy this device alone first"),
        batch: Optional[int] = typer.Option(None, "--batch", help="then batches of this many devices"),
        shard: Optional[str] = typer.Option(None, "--shard", help="i/n: only the i-th of n shards of the targets"),
        phase: str = typer.Option("all", "--phase", help="all | commit | refresh | rollback | gc | undo (rollback: finish an "
                                  "interrupted deploy from its journal; undo: take back a completed one, as `netchange undo`)"),
        strategy: Optional[str] = typer.Option(None, "--strategy", help="in_place | versioned"),
        journal_dir: Optional[Path] = typer.Option(None, "--journal-dir"),
        ignore_window: bool = typer.Option(False, "--ignore-window", help="deploy outside the change window"),
        report: Optional[Path] = typer.Option(None, "--report", help="write the JSON report here"),
        markdown: Optional[Path] = typer.Option(None, "--markdown", help="write the markdown summary here"),
        break_lock: Optional[str] = typer.Option(None, "--break-lock", help="remove DEVICE's stale lock and stop"),
        inventory: Optional[Path] = typer.Option(None, "--inventory", help="nornir inventory folder"),
        pause_before_refresh: float = typer.Option(0.0, "--pause-before-refresh", help="hold N seconds between the barrier and the refresh"),
        revert_after: Optional[float] = typer.Option(None, "--revert-after", help="commit-confirm: seconds a held commit lives on the device unconfirmed (default: derived from the deploy's timeouts)"),
        verify_traffic: bool = typer.Option(False, "--verify-traffic", help="judge the change's traffic expectations from sampled traffic (lab inventories)"),
        collector: Optional[str] = typer.Option(None, "--collector", envvar="NETCHANGE_COLLECTOR", help="with --verify-traffic: the standing collector's API URL (observation points from the inventory)"),
    ) -> None:
        """Deploy a change: guard, commit on every device, barrier, refresh, post-checks (rollback on failure)."""
        from ..project import Project
        from .deployer import Deployer, Options
        from .lock import break_lock as _break
        from .report import to_markdown

        if workers < 1:
            raise InputError("--workers must be at least 1", Location("--workers"))
        if batch is not None and batch < 1:
            raise InputError("--batch must be at least 1", Location("--batch"))
        if not 0 <= pause_before_refresh <= 86400:  # also NaN: time.sleep would fail after the commit phase
            raise InputError("--pause-before-refresh is 0 to 86400 seconds", Location("--pause-before-refresh"))
        if revert_after is not None and not 60 <= revert_after <= 86400:  # also NaN
            raise InputError("--revert-after is 60 to 86400 seconds", Location("--revert-after"))
        if phase not in ("all", "commit", "refresh", "rollback", "gc", "undo"):
            raise InputError(f"unknown phase '{phase}'", Location("--phase"))
        shard_t = None
        if shard:
            m = re.fullmatch(r"(\d+)/(\d+)", shard)
            if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
                raise InputError("--shard is i/n with 1 <= i <= n", Location("--shard"))
            shard_t = (int(m.group(1)), int(m.group(2)))
        for out in (report, markdown):  # a report that cannot be written is found before any device is touched
            if out is not None:
                safefiles.make_dir(out.parent, "the report folder")
                if out.is_dir():
                    raise InputError("is a folder; name a file for the report", Location(str(out)))
        plan_file = plan
        change_file = target
        if target.suffix == ".json":
            plan_file = target
            if change is None:
                doc = safefiles.read_json(target, safefiles.JSON_MAX, expect=dict)
                change = safefiles.named_path(Project.find(".").changes_dir, doc.get("change"), ".yaml", "the plan's change id",
                                              Location(str(target), field="change"))
            change_file = change
        project = Project.find(change_file.parent)
        if break_lock:
            safefiles.safe_name(break_lock, "device name", Location("--break-lock"))
            removed = _break(project.root / ".netchange" / "locks", break_lock)
            err.print(f"lock of {break_lock} {'removed' if removed else 'not found'}")
            raise typer.Exit(0)
        opts = Options(workers=workers, canary=canary, batch=batch, ignore_window=ignore_window, strategy=strategy,
                       journal_dir=journal_dir, shard=shard_t, phase=phase, pause_before_refresh=pause_before_refresh,
                       revert_after=revert_after,
                       progress=lambda m: err.info(f"[cyan]›[/] {m}", highlight=False))
        from ..inventory import Inventory

        inv = Inventory(inventory) if inventory else project.inventory
        if phase in ("all", "commit"):
            # What `validate` refuses is never sent (a rollback from the journal is never blocked by it).
            from ..validate.gate import require_valid

            require_valid(change_file, project, inv, exit_code=EXIT["refused"])
        cleanup = None
        if verify_traffic:
            opts.verifier, opts.hooks, cleanup = traffic_verifier(change_file, inv, opts.progress, collector)
        try:
            rep = Deployer(change_file, project, opts, plan_file, inv).run()
        finally:
            if cleanup:
                cleanup()
        text = json.dumps(rep, indent=2)
        if report:
            safefiles.write_text(report, text + "\n", "the report")
        if markdown:
            safefiles.write_text(markdown, to_markdown(rep), "the markdown summary")
        if not report:
            sys.stdout.write(to_markdown(rep))
        colour = "green" if EXIT.get(rep["verdict"], 1) == 0 else "red"
        err.print(f"[bold {colour}]{rep['verdict']}[/]: {rep['summary']}", highlight=False)
        raise typer.Exit(EXIT.get(rep["verdict"], 1))

    @app.command()
    def undo(
        target: Path = typer.Argument(..., help="the change request YAML whose completed deploy to take back"),
        workers: int = typer.Option(20, "--workers", help="devices worked on concurrently"),
        journal_dir: Optional[Path] = typer.Option(None, "--journal-dir"),
        report: Optional[Path] = typer.Option(None, "--report", help="write the JSON report here"),
        markdown: Optional[Path] = typer.Option(None, "--markdown", help="write the markdown summary here"),
        inventory: Optional[Path] = typer.Option(None, "--inventory", help="nornir inventory folder"),
    ) -> None:
        """Take back a completed deploy from its journal: refused, naming the drift, if a device changed the
        change's objects since; else restore them on every device, then refresh (the deploy's two phases)."""
        deploy(target=target, change=None, plan=None, workers=workers, canary=None, batch=None, shard=None,
               phase="undo", strategy=None, journal_dir=journal_dir, ignore_window=True, report=report,
               markdown=markdown, break_lock=None, inventory=inventory, pause_before_refresh=0.0, revert_after=None,
               verify_traffic=False, collector=None)
