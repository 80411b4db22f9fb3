"""The validator in front of `plan` and `deploy`: a change `validate` refuses is never planned or sent.

Without it, plan and deploy would meet the same problems later, deep in resolving or rendering, as a
bare KeyError (`'PING'` for an undefined service object) instead of the finding with its file and line.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Location
from ..inventory import Inventory
from ..model.change import ChangeRequest
from ..project import Project
from .findings import Finding


class ChangeInvalid(InputError):
    """The validator found errors in the change: nothing was planned or sent. Exit 1 from `plan` (as from
    `validate`), 3 from `deploy` (refused before any device was touched)."""

    exit_code = 1

    def __init__(self, path: Path, findings: list[Finding], exit_code: int = 1):
        errors = [f for f in findings if f.is_error]
        summary = f"{len(errors)} validation error(s), as `netchange validate` reports them: nothing was planned or sent"
        super().__init__(summary, Location(str(path)),
                         [*((f.location, f"{f.rule} {f.message}") for f in errors), (Location(str(path)), summary)])
        self.findings = findings
        self.exit_code = exit_code


def require_valid(path: Path, project: Project, inventory: Inventory | None = None, *, exit_code: int = 1) -> list[Finding]:
    """Validate one change request as `netchange validate` does (same rules, same inventory); raise
    ChangeInvalid naming every error with file:line, else return the findings (warnings only)."""
    return _checked(path, project, inventory, exit_code, warnings=True)[1]


def valid_change(path: Path, project: Project, inventory: Inventory | None = None, *, exit_code: int = 1) -> ChangeRequest:
    """As require_valid, and hand back the change the validator read, so the caller does not read and model
    the file a second time (a 1 MB change: ~0.9 s). Warnings are not collected: nobody reads them here, and
    placing one in the file means reading every line position of it (~1.2 s for 20,000 entries)."""
    change = _checked(path, project, inventory, exit_code, warnings=False)[0]
    assert change is not None  # a change that cannot be modelled has an error finding
    return change


def _checked(path: Path, project: Project, inventory: Inventory | None, exit_code: int,
             warnings: bool) -> tuple[ChangeRequest | None, list[Finding]]:
    from .validator import Validator

    v = Validator(project)
    if inventory is not None:
        v.inventory = inventory  # the one the command was given (cached_property: set once, read after)
    change, findings = v.check(path, warnings=warnings)
    if change is None or any(f.is_error for f in findings):
        raise ChangeInvalid(path, findings, exit_code)
    return change, findings
