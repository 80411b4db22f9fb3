"""Where things live in a netchange repository, and loading change requests from it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import yamlio
from .errors import InputError, Location
from .inventory import CONFIG_FILE, Inventory
from .model.change import ChangeRequest
from .model.objects import ObjectStore


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def find(cls, start: Path | str = ".") -> "Project":
        """The project containing `start`, else the one containing the working directory: a folder with
        policies/ and either inventory/ or a netchange.yaml naming another inventory plugin."""
        p = Path(start).resolve()
        for base in (p, Path.cwd().resolve()):
            for d in (base, *base.parents):
                if (d / "policies").is_dir() and ((d / "inventory").is_dir() or (d / CONFIG_FILE).is_file()):
                    return cls(d)
        raise InputError(f"no netchange project here (needs policies/ and inventory/ or {CONFIG_FILE})", Location(str(p)))

    @property
    def changes_dir(self) -> Path:
        return self.root / "policies" / "changes"

    @property
    def objects_dir(self) -> Path:
        return self.root / "policies" / "objects"

    @property
    def guardrails_file(self) -> Path:
        return self.root / "policies" / "guardrails.yaml"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @cached_property
    def inventory(self) -> Inventory:
        return Inventory.for_project(self.root)

    @cached_property
    def objects(self) -> ObjectStore:
        return ObjectStore.load(self.objects_dir)

    def change_files(self) -> list[Path]:
        """Every change request of this network: policies/changes/*.yaml. (The examples below it target
        the example fleet in tests/fixtures/fleet and are validated against that inventory.)"""
        return sorted(self.changes_dir.glob("*.yaml"))


def load_change(path: Path | str) -> tuple[ChangeRequest, object]:
    """Load and schema-check one change request. Returns the model and the ruamel node (for positions);
    the node is None when the fast path (pipeline/yamlfast.py) read a file with nothing unusual in it."""
    path = Path(path)
    fast = _load_change_fast(path)
    if fast is not None:
        return fast, None
    node = yamlio.load(path)
    if not isinstance(node, dict):
        raise InputError("a change request is a YAML mapping (id, title, targets, ...)", Location(str(path), 1, 1))
    change = yamlio.validate_model(ChangeRequest, node, path)
    if change.id != path.stem:
        line, col = yamlio.position(node, ("id",))
        raise InputError(f"id '{change.id}' must equal the file name '{path.stem}'", Location(str(path), line, col, "id"))
    return change, node


def _load_change_fast(path: Path) -> ChangeRequest | None:
    """libyaml + the model, when that is plainly what ruamel would give; None: take the careful path
    (which reports every problem with file, line and field)."""
    from pydantic import ValidationError

    from . import yamlfast

    text = yamlio.read_text(path)
    if yamlio.flow_depth_problem(text):
        return None
    data = yamlfast.load_plain(text)
    if not isinstance(data, dict):
        return None
    try:
        change = ChangeRequest.model_validate(data)
    except (ValidationError, RecursionError):
        return None
    return change if change.id == path.stem else None
