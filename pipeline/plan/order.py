"""Dependency order for edit ops (the reason netchange diffs objects rather than text).

Rules: an object exists and is complete before anything references it; a reference is removed before
its object; a neighbor's route-map is switched in one command. Within one object, new entries land
before old ones are removed, so a list is never momentarily empty or narrower than both versions; where
every line is live at once, `model.staging.staged_edit` orders one list's entry edits so that no intermediate list
gives any input a result neither version gives.
"""

from __future__ import annotations

from collections import defaultdict
import heapq
from typing import Any

from ..errors import NetchangeError
from ..model.staging import NoRoom, Step, staged_edit  # noqa: F401  (the planner's vocabulary too)
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Repoint, Rewrite, Unbind

_KIND_RANK = {"prefix_list": 0, "community_list": 1, "as_path_list": 2, "route_map": 3, "binding": 4, "filter": 5}
_VERB_RANK = {"Create": 0, "AddEntry": 1, "ModifyEntry": 2, "Rewrite": 2, "ReplaceFilter": 2, "Bind": 3, "Repoint": 3,
              "Unbind": 4, "RemoveEntry": 5, "Delete": 6}


def _refs(entry_or_obj: object) -> list[tuple[str, str]]:
    # Looked up once per class: a missing attribute costs an exception (in pydantic's metaclass) per entry.
    cls = type(entry_or_obj)
    f = _REFERENCES[cls] if cls in _REFERENCES else _REFERENCES.setdefault(cls, getattr(cls, "references", None))
    return list(f(entry_or_obj)) if f else []


_REFERENCES: dict[type, Any] = {}


def needs(op: Op) -> list[tuple[str, str]]:
    """Objects that must exist (complete) before this op runs."""
    if isinstance(op, Create):
        return _refs(op.obj)
    if isinstance(op, AddEntry):
        return _refs(op.entry)
    if isinstance(op, ModifyEntry):
        return _refs(op.new)
    if isinstance(op, Rewrite):
        return _refs(op.new)
    if isinstance(op, Bind):
        return [("route_map", op.binding.route_map)]
    if isinstance(op, Repoint):
        return [(op.use.kind, op.to)]
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
    if isinstance(op, Repoint) and op.use.name != op.to:
        return [(op.use.kind, op.use.name)]
    return []


def provides(op: Op) -> tuple[str, str] | None:
    if isinstance(op, (Create, AddEntry, ModifyEntry, ReplaceFilter, Rewrite)):
        return (op.kind, op.name)
    return None


def destroys(op: Op) -> tuple[str, str] | None:
    return (op.kind, op.name) if isinstance(op, Delete) else None


def order(ops: list[Op]) -> list[Op]:
    """Topologically sorted ops; ties broken by kind (lists before route-maps before bindings) and verb.

    Many-to-many constraints (every op needing an object waits for every op providing it; every entry
    removal waits for every addition to the same object) go through one barrier node per object, so the
    graph has O(ops) edges: a 20,000-entry list edit is not 10^8 edges."""
    n = len(ops)
    graph = _Graph(n)
    by_destroy: dict[tuple[str, str], list[int]] = defaultdict(list)
    provided: dict[tuple[str, str], int] = {}  # object -> barrier after all its providers
    released: dict[tuple[str, str], int] = {}  # object -> barrier after all ops releasing a reference to it
    grown: dict[tuple[str, str], int] = {}  # object -> barrier after all its entry additions/modifications
    for i, op in enumerate(ops):
        if (p := provides(op)) is not None:
            graph.edge(i, graph.barrier(provided, p))
        if (d := destroys(op)) is not None:
            by_destroy[d].append(i)
        if isinstance(op, (AddEntry, ModifyEntry)):
            graph.edge(i, graph.barrier(grown, (op.kind, op.name)))
    for i, op in enumerate(ops):
        own = (op.kind, op.name)
        for ref in needs(op):
            if ref in provided and ref != own:
                graph.edge(provided[ref], i)
        for ref in releases(op):
            if ref in by_destroy and ref != own:
                graph.edge(i, graph.barrier(released, ref))
        # Same object: additions before removals; a rebuilt object is deleted before it is created again.
        if isinstance(op, RemoveEntry) and own in grown:
            graph.edge(grown[own], i)
        if isinstance(op, Create):
            for j in by_destroy.get(own, ()):
                graph.edge(j, i)
    for ref, b in released.items():
        for j in by_destroy[ref]:
            graph.edge(b, j)
    return _kahn(ops, graph)


class _Graph:
    """Ops are nodes 0..n-1; barrier nodes (no op, released as soon as their predecessors are) follow."""

    def __init__(self, n: int):
        self.n = n
        # lists, not sets: an edge given twice counts twice in indegree and is released twice, the same order
        self.succ: list[list[int]] = [[] for _ in range(n)]

    def barrier(self, table: dict[Any, int], key: Any) -> int:
        if key not in table:
            table[key] = len(self.succ)
            self.succ.append([])
        return table[key]

    def edge(self, a: int, b: int) -> None:
        if a != b:
            self.succ[a].append(b)


_DESTRUCTIVE = {"Unbind", "RemoveEntry", "Delete"}


def _rank(ops: list[Op], i: int) -> tuple[int, int, int, int]:
    """Build up first (lists, route-maps, bindings), then tear down in reverse (bindings, route-maps, lists)."""
    op = ops[i]
    kind = "binding" if isinstance(op, Repoint) else op.kind  # a line re-pointed switches like a binding
    if op.verb in _DESTRUCTIVE:
        return (1, -_KIND_RANK[kind], _VERB_RANK[op.verb], i)
    return (0, _KIND_RANK[kind], _VERB_RANK[op.verb], i)


def _kahn(ops: list[Op], graph: _Graph) -> list[Op]:
    """Kahn's algorithm, always taking the best-ranked ready op (deterministic output). A barrier whose
    predecessors are done is passed through at once, exactly as if its edges joined them directly."""
    indeg = [0] * len(graph.succ)
    for ss in graph.succ:
        for s in ss:
            indeg[s] += 1
    ready = [_rank(ops, i) for i in range(graph.n) if indeg[i] == 0]
    heapq.heapify(ready)
    out: list[Op] = []

    def release(node: int) -> None:
        stack = [node]
        while stack:
            for s in graph.succ[stack.pop()]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    if s < graph.n:
                        heapq.heappush(ready, _rank(ops, s))
                    else:
                        stack.append(s)

    for b in range(graph.n, len(graph.succ)):  # barriers without predecessors (nothing provides the object)
        if indeg[b] == 0:
            release(b)
    while ready:
        *_, i = heapq.heappop(ready)
        out.append(ops[i])
        release(i)
    if len(out) != len(ops):
        stuck = [f"{o.verb} {o.kind} {o.name}" for i, o in enumerate(ops) if indeg[i] > 0]
        raise NetchangeError(f"edit operations have a dependency cycle: {', '.join(stuck)}")
    return out
