"""Dependency order for edit ops (the reason netchange diffs objects rather than text).

Rules: an object exists and is complete before anything references it; a reference is removed before
its object; a neighbor's route-map is switched in one command. Within one object, new entries land
before old ones are removed, so a list is never momentarily empty or narrower than both versions; where
every line is live at once, `staged_edit` orders one list's entry edits so that no intermediate list
gives any input a result neither version gives.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
import heapq
from typing import Any, Callable

from ..errors import NetchangeError
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Repoint, Rewrite, Unbind

_KIND_RANK = {"prefix_list": 0, "community_list": 1, "as_path_list": 2, "route_map": 3, "binding": 4, "filter": 5}
_VERB_RANK = {"Create": 0, "AddEntry": 1, "ModifyEntry": 2, "Rewrite": 2, "ReplaceFilter": 2, "Bind": 3, "Repoint": 3,
              "Unbind": 4, "RemoveEntry": 5, "Delete": 6}


def _refs(entry_or_obj) -> list[tuple[str, str]]:
    # Looked up on the class: a missing attribute on a pydantic instance costs an exception per entry.
    f = getattr(type(entry_or_obj), "references", None)
    return list(f(entry_or_obj)) if f else []


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
        self.succ: list[set[int]] = [set() for _ in range(n)]

    def barrier(self, table: dict, key) -> int:
        if key not in table:
            table[key] = len(self.succ)
            self.succ.append(set())
        return table[key]

    def edge(self, a: int, b: int) -> None:
        if a != b:
            self.succ[a].add(b)


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


# ---------------------------------------------------------------- one list, line by line

@dataclass(frozen=True)
class Step:
    """One line of a staged list edit: `add` writes `entry` at `seq`, `remove` takes the entry at `seq` away."""

    verb: str  # "add" | "remove"
    seq: int
    entry: Any


class NoRoom(NetchangeError):
    """A changed entry has no free sequence number beside it for the temporary copy a staged edit needs."""

    def __init__(self, seq: int):
        self.seq = seq
        super().__init__(f"no free sequence number next to seq {seq}")


def staged_edit(old: dict[int, Any], new: dict[int, Any], in_place: Callable[[Any, Any], bool],
                same_match: Callable[[Any, Any], bool] = lambda o, n: False, max_seq: int = 65535) -> list[Step]:
    """Entry edits of one ordered first-match list (prefix-list, ACL, sequenced community/AS-path list) for
    a CLI where every line is live as it is typed, such that after every line each input gets the result
    either the old or the new list gives it.

    Think of each sequence number as a position holding its old version, its new version, or both (the old
    one and a copy of the new one right beside it). Positions that hold both form a prefix while they are
    added (ascending), and the new versions alone a suffix while the old ones go (descending): whatever an
    input matches first is then the entry it matches first in the old list, or in the new one. A changed
    entry is copied to a free sequence number beside it (`NoRoom` when there is none), its old version goes,
    the new one takes its number (`in_place(old, new)`: one line replaces the entry where the CLI allows it)
    and the copy goes. An entry replaced in place whose versions match the same inputs (`same_match`: only
    its action changes) needs no copy: either version at its position is as good as both. A single changed
    position needs none of that: one line, or the four with the copy."""
    changed = sorted(s for s in old.keys() | new.keys() if old.get(s) != new.get(s))
    if len(changed) == 1:
        s = changed[0]
        o, n = old.get(s), new.get(s)
        if o is None:
            return [Step("add", s, n)]
        if n is None:
            return [Step("remove", s, o)]
        if in_place(o, n):
            return [Step("add", s, n)]
    positions = sorted(old.keys() | new.keys())
    temps: dict[int, int] = {}
    grow: list[Step] = []
    direct = {s for s in changed if s in old and s in new and in_place(old[s], new[s]) and same_match(old[s], new[s])}
    last = 0  # the highest copy placed so far: every earlier copy sits below the position now placed
    for s in changed:
        o, n = old.get(s), new.get(s)
        if o is None:
            grow.append(Step("add", s, n))
        elif n is not None and s not in direct:
            last = temps[s] = _beside(s, positions, last, max_seq)
            grow.append(Step("add", last, n))
    shrink: list[Step] = []
    for s in reversed(changed):
        o, n = old.get(s), new.get(s)
        if n is None:
            shrink.append(Step("remove", s, o))
        elif s in direct:
            shrink.append(Step("add", s, n))
        elif o is not None:
            shrink += [Step("add", s, n)] if in_place(o, n) else [Step("remove", s, o), Step("add", s, n)]
            shrink.append(Step("remove", temps[s], n))
    return grow + shrink


def _beside(s: int, positions: list[int], last: int, max_seq: int) -> int:
    """A free sequence number with nothing between it and `s`: just before `s` (after the copy placed last),
    else just after it."""
    i = bisect.bisect_left(positions, s)
    before = max(positions[i - 1] if i else 0, last)
    if s - before >= 2:
        return (before + s) // 2
    after = positions[i + 1] if i + 1 < len(positions) else min(max_seq + 1, s + 10)
    if after - s >= 2:
        return (s + after) // 2
    raise NoRoom(s)
