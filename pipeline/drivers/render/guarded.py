"""The printer's re-validation of a list object (render.guard), entry by entry at most once per process.

A plan prints one large list several times, each time from a fresh copy (the list before and after its
entry ops, `render._before_after`): re-validating 20,000 entries per copy cost ~0.4 s each, four times per
plan. The copies share their entry objects (frozen models), so an entry whose dump has passed is handed to
the list's validation as the instance it is (pydantic accepts an instance of the field's own type without
re-validating it); the list's own validators still run over all its entries, and a new or changed entry is
checked from its dump as before. Same verdicts, same error messages (entry positions are kept).

A new entry whose fields are all plain values (`_flat`: str, int, None, IP objects, tuples of those; a prefix-
list, community-list or AS-path entry) skips both dumps: its strings are scanned as they are (the JSON dump
escapes none of U+0085/U+2028/U+2029, so it holds them exactly where the strings do) and the list validates a
copy of its fields, which is what its python dump would hold. Entries with nested models (route-map entries),
scoped IPv6 objects or values of any other type keep the dumps.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from typing import Any

from pydantic import BaseModel, PlainSerializer, WrapSerializer

from ...addresses import _scope_of

LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
# Entries that passed (by id; kept alive here, so an id is never reused while it is in the table).
_PASSED: dict[int, BaseModel] = {}
_MAX = 250_000
# The entries tuple has_line_break last scanned and the ids of its flat entries (the tuple kept alive with them).
_LAST_FLAT: list[Any] = [None, set()]


def _entries(obj: Any) -> tuple[BaseModel, ...] | None:
    entries = getattr(obj, "entries", None)
    if isinstance(entries, tuple) and entries and all(isinstance(e, BaseModel) for e in entries):
        return entries
    return None


_PLAIN = (str, int, bool, type(None), ipaddress.IPv4Network, ipaddress.IPv4Address)
_IPV6 = (ipaddress.IPv6Network, ipaddress.IPv6Address)


@functools.cache
def _dumps_as_fields(cls: type[BaseModel]) -> frozenset[str] | None:
    """cls's field names where its python dump is its fields as they are (no alias, exclusion, serializer or
    computed field); else None."""
    deco = cls.__pydantic_decorators__
    if deco.field_serializers or deco.model_serializers or cls.model_computed_fields:
        return None
    for f in cls.model_fields.values():
        if f.alias is not None or f.exclude or any(isinstance(m, (PlainSerializer, WrapSerializer)) for m in f.metadata):
            return None
    return frozenset(cls.model_fields)


def _plain(v: object) -> bool:
    kind = type(v)
    if kind in _PLAIN:
        return True
    return kind in _IPV6 and _scope_of(v) is None  # type: ignore[arg-type]  # a scope prints as free text


def _flat(e: BaseModel) -> bool:
    """Are e's fields plain values (so its fields are its python dump, and its strings all its JSON text)?"""
    d = e.__dict__
    names = _dumps_as_fields(type(e))
    if names is None or d.keys() != names:
        return False
    for v in d.values():  # loops, not all(genexpr): ~1 us an entry, 20,000 entries a list
        if type(v) in _PLAIN:
            continue
        if type(v) is tuple:
            for x in v:
                if type(x) not in _PLAIN and not _plain(x):
                    return False
        elif not _plain(v):
            return False
    return True


def _strings(e: BaseModel) -> list[str]:
    out = []
    for v in e.__dict__.values():
        if type(v) is str:
            out.append(v)
        elif type(v) is tuple:
            out += [x for x in v if type(x) is str]
    return out


def _fresh(entries: tuple[BaseModel, ...]) -> list[BaseModel]:
    return [e for e in entries if _PASSED.get(id(e)) is not e]


def has_line_break(obj: BaseModel) -> bool:
    """Does any text of obj (as printed to JSON) hold a Unicode line break?"""
    entries = _entries(obj)
    if entries is None:
        return bool(LINE_BREAKS.search(json.dumps(obj.model_dump(mode="json"), ensure_ascii=False)))
    texts: list[str] = []
    parts = [obj.model_dump(mode="json", exclude={"entries"})]
    flat = set()
    for e in _fresh(entries):
        if _flat(e):
            texts += _strings(e)
            flat.add(id(e))
        else:
            parts.append(e.model_dump(mode="json"))
    _LAST_FLAT[:] = [entries, flat]  # revalidate (next, in guard) reuses the verdicts
    return bool(LINE_BREAKS.search(json.dumps(parts, ensure_ascii=False)) or LINE_BREAKS.search("\n".join(texts)))


def revalidate(obj: BaseModel) -> None:
    """type(obj).model_validate(obj's dump); raises what that raises."""
    entries = _entries(obj)
    if entries is None:
        type(obj).model_validate(obj.model_dump(by_alias=True))
        return
    fresh = {id(e) for e in _fresh(entries)}
    flat = _LAST_FLAT[1] if _LAST_FLAT[0] is entries else {id(e) for e in entries if id(e) in fresh and _flat(e)}
    dump = obj.model_dump(by_alias=True, exclude={"entries"})
    dump["entries"] = [e if id(e) not in fresh else dict(e.__dict__) if id(e) in flat else e.model_dump(by_alias=True)
                       for e in entries]
    type(obj).model_validate(dump)
    if len(_PASSED) + len(fresh) > _MAX:
        _PASSED.clear()
    for e in entries:
        _PASSED[id(e)] = e
