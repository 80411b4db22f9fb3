"""The edit operations the planner orders: defined in `model.ops` (drivers print them, and drivers sit
below plan), named here too because they are the planner's vocabulary."""

from ..model.ops import (
    AddEntry,
    Bind,
    Create,
    Delete,
    ModifyEntry,
    Op,
    RemoveEntry,
    ReplaceFilter,
    Repoint,
    Rewrite,
    Unbind,
)

__all__ = [
    "AddEntry",
    "Bind",
    "Create",
    "Delete",
    "ModifyEntry",
    "Op",
    "RemoveEntry",
    "ReplaceFilter",
    "Repoint",
    "Rewrite",
    "Unbind",
]
