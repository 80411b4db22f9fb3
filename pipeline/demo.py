"""`netchange demo`: the main job on the bundled default — lab up, then the example change through
validate, plan (dry run against the live devices), deploy (commit-then-refresh) and verification from
sampled traffic, then lab down."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from .console import Messages

console = Messages()


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        change_file: Path = typer.Argument(Path("policies/changes/CHG-0001.yaml"), help="change request to run"),
        keep: bool = typer.Option(False, "--keep", help="leave the lab running afterwards"),
        dry_run: bool = typer.Option(False, "--dry-run", help="stop after the plan"),
    ) -> None:
        """Bring the lab up and run the example change through validate, plan and deploy."""
        from .deploy.deployer import Deployer, Options
        from .deploy.report import to_markdown
        from .inventory import Inventory
        from .lab import Lab
        from .plan.report import plan_document, to_text
        from .plan.planner import DevicePlan
        from .plan.run import plan_live
        from .project import Project, load_change
        from .validate import validate_change

        project = Project.find(change_file.parent)
        lab = Lab(project.root / "inventory" / "topology.yaml")  # under $NETCHANGE_LAB_PREFIX, default `nc`
        t0 = time.monotonic()
        console.rule("1. lab up")
        lab.up()
        console.print(f"lab converged in {time.monotonic() - t0:.1f} s")
        # the lab writes the inventory of the devices it started (addresses, keys, known hosts of its prefix)
        inventory = Inventory(lab.inventory_path)
        rc = 0
        try:
            console.rule(f"2. validate {change_file}")
            change, _ = load_change(change_file)
            findings = validate_change(change_file, project)
            console.print("\n".join(str(f) for f in findings) or "clean")
            if any(f.is_error for f in findings):
                raise typer.Exit(1)
            console.rule("3. plan against the live lab (dry run)")
            plans: list[DevicePlan] = []
            errors: list[str] = []
            for r in plan_live(change, inventory, project.objects):
                if isinstance(r, str):
                    errors.append(r)
                else:
                    plans.append(r)
            sys.stdout.write(to_text(plan_document(change, change_file, plans, errors)) + "\n")
            if errors:
                raise typer.Exit(1)
            if dry_run:
                return
            console.rule("4. deploy: commit everywhere, barrier, refresh, post-checks, sampled-traffic verdicts")
            from .deploy.cli import traffic_verifier

            opts = Options(progress=lambda m: console.info(f"[cyan]›[/] {m}", highlight=False))
            cleanup = None
            if change.verify.traffic:
                opts.verifier, opts.hooks, cleanup = traffic_verifier(change_file, inventory, opts.progress)
            try:
                rep = Deployer(change_file, project, opts, inventory=inventory).run()
            finally:
                if cleanup:
                    cleanup()
            sys.stdout.write(to_markdown(rep))
            rc = 0 if rep["verdict"] in ("deployed", "no_op") else 1
        finally:
            if not keep:
                console.rule("lab down")
                lab.down()
        raise typer.Exit(rc)

