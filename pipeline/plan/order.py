"""Dependency order for edit ops (the reason netchange diffs objects rather than text).

Rules: an object exists and is complete before anything references it; a reference is removed before
its object; a neighbor's route-map is switched in one command. Within one object, new entries land
before old ones are removed, so a list is never momentarily empty or narrower than both versions.
"""

from __future__ import annotations

from collections import defaultdict
import heapq

from ..errors import NetchangeError
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Unbind

_KIND_RANK = {"prefix_list": 0, "community_list": 1, "as_path_list": 2, "route_map": 3, "binding": 4, "filter": 5}
_VERB_RANK = {"Create": 0, "AddEntry": 1, "ModifyEntry": 2, "ReplaceFilter": 2, "Bind": 3, "Unbind": 4, "RemoveEntry": 5, "Delete": 6}


def _refs(entry_or_obj) -> list[tuple[str, str]]:
    f = getattr(entry_or_obj, "references", None)
    return list(f()) if f else []


def needs(op: Op) -> list[tuple[str, str]]:
    """Objects that must exist (complete) before this op runs."""
    if isinstance(op, Create):
        return _refs(op.obj)
    if isinstance(op, AddEntry):
        return _refs(op.entry)
    if isinstance(op, ModifyEntry):
        return _refs(op.new)
    if isinstance(op, Bind):
        return [("route_map", op.binding.route_map)]
    return []


def releases(op: Op) -> list[tuple[str, str]]:
    """References this op removes (they must be gone before the referenced object is deleted)."""
    if isinstance(op, Delete):
        return _refs(op.obj) if op.kind != "binding" else []
    if isinstance(op, RemoveEntry):
        return _refs(op.entry)
    if isinstance(op, ModifyEntry):
        return [r for r in _refs(op.old) if r not in _refs(op.new)]
    if isinstance(op, Unbind):
        return [("route_map", op.binding.route_map)] if op.binding.route_map else []
    if isinstance(op, Bind) and op.old is not None and op.old.route_map:
        return [("route_map", op.old.route_map)]
    return []


def provides(op: Op) -> tuple[str, str] | None:
    if isinstance(op, (Create, AddEntry, ModifyEntry, ReplaceFilter)):
        return (op.kind, op.name)
    return None


def destroys(op: Op) -> tuple[str, str] | None:
    return (op.kind, op.name) if isinstance(op, Delete) else None


def order(ops: list[Op]) -> list[Op]:
    """Topologically sorted ops; ties broken by kind (lists before route-maps before bindings) and verb."""
    by_provide: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_destroy: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, op in enumerate(ops):
        if (p := provides(op)) is not None:
            by_provide[p].append(i)
        if (d := destroys(op)) is not None:
            by_destroy[d].append(i)
    graph: dict[int, set[int]] = {i: set() for i in range(len(ops))}
    for i, op in enumerate(ops):
        for ref in needs(op):
            graph[i].update(j for j in by_provide.get(ref, []) if j != i)
        for ref in releases(op):
            for j in by_destroy.get(ref, []):
                if j != i:
                    graph[j].add(i)
        # Same object: additions before removals; a rebuilt object is deleted before it is created again.
        if isinstance(op, RemoveEntry):
            graph[i].update(j for j, o in enumerate(ops) if o.kind == op.kind and o.name == op.name and isinstance(o, (AddEntry, ModifyEntry)))
        if isinstance(op, Create):
            graph[i].update(by_destroy.get((op.kind, op.name), []))
    return _kahn(ops, graph)


_DESTRUCTIVE = {"Unbind", "RemoveEntry", "Delete"}


def _rank(ops: list[Op], i: int) -> tuple[int, int, int, int]:
    """Build up first (lists, route-maps, bindings), then tear down in reverse (bindings, route-maps, lists)."""
    op = ops[i]
    if op.verb in _DESTRUCTIVE:
        return (1, -_KIND_RANK[op.kind], _VERB_RANK[op.verb], i)
    return (0, _KIND_RANK[op.kind], _VERB_RANK[op.verb], i)


def _kahn(ops: list[Op], preds: dict[int, set[int]]) -> list[Op]:
    """Kahn's algorithm, always taking the best-ranked ready op (deterministic output)."""
    succ: dict[int, set[int]] = defaultdict(set)
    indeg = {i: len(p) for i, p in preds.items()}
    for i, ps in preds.items():
        for p in ps:
            succ[p].add(i)
    ready = [_rank(ops, i) for i, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    out: list[Op] = []
    while ready:
        *_, i = heapq.heappop(ready)
        out.append(ops[i])
        for s in succ[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(ready, _rank(ops, s))
    if len(out) != len(ops):
        stuck = [f"{o.verb} {o.kind} {o.name}" for i, o in enumerate(ops) if indeg[i] > 0]
        raise NetchangeError(f"edit operations have a dependency cycle: {', '.join(stuck)}")
    return out
