"""Object diff: running DevicePolicy vs the change's desired objects -> unordered edit ops.

Lists and route-maps are diffed per seq entry; bindings are switched, never unbound and rebound;
filters are replaced as a whole (the driver decides between sequence edits and a versioned swap).
"""

from __future__ import annotations

from typing import Any, Callable

from ..model.policy import DevicePolicy, Kind
from ..model.resolve import Desired
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Rewrite, Unbind

Canonical = Callable[[str, Any], Any]  # Driver.canonical: (kind, obj) -> obj as the device keeps it
SEQUENCED = ("prefix_list", "route_map", "community_list", "as_path_list")


def binding_name(key: tuple[str, str, str]) -> str:
    return "/".join(key)


def _entry_key(e: Any, i: int) -> int | tuple[str, int]:
    return e.seq if getattr(e, "seq", None) is not None else ("#", i)


def same_filter(old: Any, new: Any, canonical: Canonical | None = None) -> bool:
    """Filters compared as the device keeps them (`Driver.canonical`), without the filter-level description
    (it does not survive every platform: nft -j drops chain comments)."""
    if canonical is not None:
        old, new = canonical("filter", old), canonical("filter", new)
    return bool(old.model_copy(update={"description": None}) == new.model_copy(update={"description": None}))


def diff_object(kind: Kind, name: Any, old: Any, new: Any, canonical: Canonical | None = None) -> list[Op]:
    """Ops turning `old` into `new` for one object (either may be None). Lists and route-maps are compared
    (and carried by the ops) in the form the platform keeps them (`canonical`)."""
    if canonical is not None and kind in SEQUENCED:
        old, new = canonical(kind, old), canonical(kind, new)
    if kind == "binding":
        if new is None:
            return [Unbind(kind, binding_name(old.key), old)] if old is not None else []
        if old is not None and old.route_map == new.route_map:
            return []
        return [Bind(kind, binding_name(new.key), new, old)]
    if new is None:
        return [Delete(kind, name, old)] if old is not None else []
    if old is None:
        return [Create(kind, name, new)]
    if old == new:
        return []
    if kind == "filter":
        return [] if same_filter(old, new, canonical) else [ReplaceFilter(kind, name, old, new)]
    if _header(old) != _header(new):  # a changed list type or family: rebuild the object
        return [Delete(kind, name, old), Create(kind, name, new)]
    if any(getattr(e, "seq", None) is None for e in (*old.entries, *new.entries)):
        # entries the device keeps without sequence numbers: the driver appends and removes, or rewrites
        return [Rewrite(kind, name, old, new)]
    olds = {_entry_key(e, i): e for i, e in enumerate(old.entries)}
    news = {_entry_key(e, i): e for i, e in enumerate(new.entries)}
    ops: list[Op] = []
    for k, e in news.items():
        if k not in olds:
            ops.append(AddEntry(kind, name, new, e))
        elif olds[k] != e:
            ops.append(ModifyEntry(kind, name, new, olds[k], e))
    for k, e in olds.items():
        if k not in news:
            ops.append(RemoveEntry(kind, name, old, e))
    return ops


def _header(obj: Any) -> tuple[object, ...]:
    """The parts of a list object that, when changed, force a rebuild: its type and address family.
    Object-level descriptions are not compared (IOS-style route-maps carry them per entry)."""
    return (getattr(obj, "kind", None), getattr(obj, "family", None))


def apply_desired(running: DevicePolicy, desired: list[Desired]) -> DevicePolicy:
    """The intended policy: running with every desired object set or removed."""
    intended = running.copy()
    for d in desired:
        if d.obj is None:
            intended.remove(d.kind, d.key)
        else:
            intended.put(d.kind, d.key, d.obj)
    return intended


def diff(running: DevicePolicy, intended: DevicePolicy, only: set[tuple[Kind, object]] | None = None,
         canonical: Canonical | None = None) -> list[Op]:
    """Ops for every object that differs (restricted to `only` = {(kind, key)} when given); `canonical` is
    the platform's `Driver.canonical`, so that a difference only in how the device prints it is none."""
    ops: list[Op] = []
    keys = dict.fromkeys((kind, key) for kind, key, _ in running.items())  # ordered, O(1) membership
    keys.update(dict.fromkeys((kind, key) for kind, key, _ in intended.items()))
    for kind, key in keys:
        if only is not None and (kind, key) not in only:
            continue
        ops.extend(diff_object(kind, key if kind != "binding" else None, running.get(kind, key), intended.get(kind, key),
                               canonical))
    return ops
