"""The library entry: validate change-request files against a project. The plan and CI steps call this."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .. import yamlfast, yamlio
from ..errors import InputError, Location
from ..inventory import Inventory
from ..model.change import ChangeRequest
from ..model.objects import ObjectStore
from ..project import Project
from .boxes import WorkLimit, WorkLimitExceeded
from .context import Context
from .findings import Finding
from .guardrails import Guardrails
from .rules import CHECKS
from .rules import schema

# Units cost 0.4-1.7 us of CPU each (measured, benchmarks/shadow_5000.py): at most a few seconds. A
# 5,000-term filter spends ~420,000; see docs/benchmarks.md.
WORK_LIMIT = 4_000_000


@dataclass
class Validator:
    """One project's shared inputs, loaded once for any number of change files.

    Project-level problems (unreadable inventory, broken objects or guardrails) raise InputError: they
    are not findings about a change, and validating without them would quietly skip checks."""

    project: Project
    inventory_dir: Path | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    work_limit: int = WORK_LIMIT  # units (boxes looked at) one change's validation may spend

    @cached_property
    def inventory(self) -> Inventory:
        return Inventory(self.inventory_dir) if self.inventory_dir else self.project.inventory

    @cached_property
    def store(self) -> ObjectStore:
        return self.project.objects

    @cached_property
    def guardrails(self) -> Guardrails:
        return Guardrails.load(self.project.guardrails_file)

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.project.root.resolve()))
        except ValueError:
            return str(path)

    def validate(self, path: Path | str) -> list[Finding]:
        return self.check(path)[1]

    def check(self, path: Path | str, *, warnings: bool = True) -> tuple[ChangeRequest | None, list[Finding]]:
        """(the change as modelled, or None when the file cannot be; its findings). `warnings=False`: errors
        only (the gate in front of plan and deploy), so a warning never pays for reading line positions."""
        path = Path(path)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise InputError("no such readable file", Location(str(path)))
        file = self.display(path)
        change, node, findings = schema.load(path, file)
        if change is None:
            return None, sorted(findings, key=Finding.sort_key)
        ctx = Context(change, node, file, self.store, self.inventory, self.guardrails, self.now,
                      work=WorkLimit(self.work_limit), node_loader=lambda: _positions(path), warnings=warnings)
        for name, check in CHECKS:
            try:
                check(ctx)
            except InputError:
                raise
            except WorkLimitExceeded:
                # Fail closed: the checks left (guardrails among them) cannot vouch for this change.
                where, what = ctx.at
                ctx.report("NC210", f"validation stopped at its work limit while checking {what} ({name} checks): "
                           f"the change is too complex to verify; split it or simplify {what}", where)
                break
            except Exception as e:  # a bug of ours: say so, keep the other checks' findings
                ctx.findings.append(Finding.of("NC900", f"{name} check failed: {type(e).__name__}: {e}", Location(file)))
        return change, sorted(_unique(ctx.findings), key=Finding.sort_key)


def _positions(path: Path) -> Any:
    """Line and column data for a change the fast path read (libyaml's marks; ruamel if that fails)."""
    try:
        return yamlfast.load_positions(yamlio.read_text(path))
    except Exception:  # whatever libyaml makes of it, ruamel decides and reports
        return yamlio.load(path)


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def validate_change(path: Path | str, project: Project, *, inventory: Path | str | None = None,
                    now: dt.datetime | None = None) -> list[Finding]:
    """Findings for one change-request file. Raises InputError when the file cannot be read or the
    project's own inputs (inventory, objects, guardrails) are broken."""
    inv = Path(inventory) if inventory else None
    v = Validator(project, inv, now=now) if now else Validator(project, inv)
    return v.validate(path)
