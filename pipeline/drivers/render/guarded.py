"""The printer's re-validation of a list object (render.guard), entry by entry at most once per process.

A plan prints one large list several times, each time from a fresh copy (the list before and after its
entry ops, `render._before_after`): re-validating 20,000 entries per copy cost ~0.4 s each, four times per
plan. The copies share their entry objects (frozen models), so an entry whose dump has passed is handed to
the list's validation as the instance it is (pydantic accepts an instance of the field's own type without
re-validating it); the list's own validators still run over all its entries, and a new or changed entry is
checked from its dump as before. Same verdicts, same error messages (entry positions are kept).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
# Entries that passed (by id; kept alive here, so an id is never reused while it is in the table).
_PASSED: dict[int, BaseModel] = {}
_MAX = 250_000


def _entries(obj: Any) -> tuple[BaseModel, ...] | None:
    entries = getattr(obj, "entries", None)
    if isinstance(entries, tuple) and entries and all(isinstance(e, BaseModel) for e in entries):
        return entries
    return None


def _fresh(entries: tuple[BaseModel, ...]) -> list[BaseModel]:
    return [e for e in entries if _PASSED.get(id(e)) is not e]


def has_line_break(obj: BaseModel) -> bool:
    """Does any text of obj (as printed to JSON) hold a Unicode line break?"""
    entries = _entries(obj)
    if entries is None:
        return bool(LINE_BREAKS.search(json.dumps(obj.model_dump(mode="json"), ensure_ascii=False)))
    parts = [obj.model_dump(mode="json", exclude={"entries"})] + [e.model_dump(mode="json") for e in _fresh(entries)]
    return bool(LINE_BREAKS.search(json.dumps(parts, ensure_ascii=False)))


def revalidate(obj: BaseModel) -> None:
    """type(obj).model_validate(obj's dump); raises what that raises."""
    entries = _entries(obj)
    if entries is None:
        type(obj).model_validate(obj.model_dump(by_alias=True))
        return
    fresh = {id(e) for e in _fresh(entries)}
    dump = obj.model_dump(by_alias=True, exclude={"entries"})
    dump["entries"] = [e.model_dump(by_alias=True) if id(e) in fresh else e for e in entries]
    type(obj).model_validate(dump)
    if len(_PASSED) + len(fresh) > _MAX:
        _PASSED.clear()
    for e in entries:
        _PASSED[id(e)] = e
