"""Make-before-break for one route-map where every line is live as it is typed (IOS, AOS-CX, FRR).

A route-map edit that is not one safe step (`TemplateDriver.route_map_edit_in_place`: e.g. a new entry,
which matches every route from its header line until its `match` arrives) is made while nothing applies
the route-map: its new version is built under a temporary name, every line that names it (bindings where
they are written, peer groups, redistribution: `DevicePolicy.uses`) is re-pointed at the copy, the
route-map is edited in place, the lines are pointed back and the copy goes. Each re-point is one command
that swaps a complete old version for a complete new one, so no route ever meets a half-edited policy; the
device keeps the change's names (planning again finds nothing). A route-map nothing names is edited in
place: nothing applies it meanwhile. A plan made again after phase 1 of a phased deploy (where FRR's
re-points wait for phase 2) takes the copy phase 1 left instead of building another (`left_copy`).
"""

from __future__ import annotations

import re
from typing import Any

from ..model.policy import DevicePolicy
from .ops import AddEntry, Create, Delete, ModifyEntry, Op, RemoveEntry, Repoint
from .references import lookup_context

_SUFFIX = ".nc-edit"


def temp_name(name: str, taken: set[str]) -> str:
    base = name[:63 - len(_SUFFIX) - 2]
    tmp, n = f"{base}{_SUFFIX}", 1
    while tmp in taken:
        n += 1
        tmp = f"{base}{_SUFFIX}{n}"
    return tmp


def left_copy(name: str, new: Any, view: DevicePolicy, canonical: Any) -> str | None:
    """A copy of `name` the device already holds as exactly `new`, that nothing uses: what phase 1 of this
    same edit left when a phased deploy (`--phase commit`, then `--phase refresh`) plans again after it.
    Taken instead of building another copy, so the second plan's phase 1 is empty and its barrier holds."""
    pattern = re.compile(re.escape(name[:63 - len(_SUFFIX) - 2] + _SUFFIX) + r"\d*")
    want = canonical("route_map", new)
    for tmp, rm in sorted(view.route_maps.items()):
        if not pattern.fullmatch(tmp) or view.uses_of("route_map", tmp):
            continue
        if any(b.route_map == tmp for b in view.bindings.values()):
            continue
        if canonical("route_map", rm.model_copy(update={"name": name})) == want:
            return tmp
    return None


def shadowed(driver: Any, host: Any, view: DevicePolicy, intended: DevicePolicy, ops: list[Op]) -> list[Op]:
    """`ops` (ordered) with each route-map edit that needs it wrapped in a copy-and-re-point block, placed
    where the route-map's first entry op stood."""
    if not getattr(driver, "live_lines", False):
        return ops
    ctx = driver.context(host, lookup_context(intended, view))
    groups: dict[str, list[int]] = {}
    for i, op in enumerate(ops):
        if op.kind == "route_map" and isinstance(op, (AddEntry, RemoveEntry, ModifyEntry)):
            groups.setdefault(op.name, []).append(i)
    blocks: dict[int, list[Op]] = {}
    dropped: set[int] = set()
    for name, idxs in groups.items():
        old, new = view.route_maps.get(name), intended.route_maps.get(name)
        if old is None or new is None:
            continue
        uses = view.uses_of("route_map", name)
        bound = {b.key for b in view.bindings.values() if b.route_map == name}
        if not uses and not bound:
            continue  # nothing applies it while it is edited
        for rm in (old, new):  # printing their clauses below needs what the platform can express (a rollback's
            driver.check("route_map", rm, ctx)  # old is the change's version, unchecked if it was not bound before)
        if driver.route_map_edit_in_place(old, new, ctx):
            continue
        uncovered = bound - {k for u in uses for k in u.covers}
        if uncovered or any(not u.repointable for u in uses):
            who = [f"neighbor {k[0]} {k[1]} {k[2]}" for k in sorted(uncovered)] + [u.who for u in uses if not u.repointable]
            driver.refuse(f"route-map {name}: this edit cannot be typed line by line without routes meeting a "
                          f"half-edited route-map, and {', '.join(who)} cannot be pointed at a copy meanwhile; "
                          "use strategy: versioned")
        left = left_copy(name, new, view, driver.canonical)
        tmp = left or temp_name(name, set(view.route_maps) | set(intended.route_maps))
        copy = new.model_copy(update={"name": tmp})
        block: list[Op] = [] if left else [Create("route_map", tmp, copy)]
        block += [Repoint("route_map", tmp, u, tmp) for u in uses]
        block += [ops[i] for i in idxs]
        block += [Repoint("route_map", name, u.renamed(tmp), name) for u in uses]
        block.append(Delete("route_map", tmp, copy))
        blocks[idxs[0]] = block
        dropped.update(idxs[1:])
    if not blocks:
        return ops
    out: list[Op] = []
    for i, op in enumerate(ops):
        if i in blocks:
            out += blocks[i]
        elif i not in dropped:
            out.append(op)
    return out
