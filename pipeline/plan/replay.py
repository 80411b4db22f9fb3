"""Apply edit ops to a DevicePolicy: the model-level proof that a plan yields the intended policy.

Entry ops on one object are collected in a working table and the object is rebuilt once, when the
replay ends or a whole-object op replaces it: replaying n entry edits costs O(n log n), not O(n^2).
"""

from __future__ import annotations

from typing import Any

from ..model.policy import DevicePolicy, Kind
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Repoint, Rewrite, Unbind


def _key(e: object) -> int | None:
    return getattr(e, "seq", None)


def _sort_key(k: int | None) -> tuple[bool, int]:
    return (k is None, k or 0)


class _Entries:
    """One object's entries while its entry ops are replayed: entries by seq, in arrival order per seq."""

    def __init__(self, base: Any):  # a list or route-map model
        self.base = base
        self.by_seq: dict[int | None, list[Any]] = {}
        for e in base.entries:
            self.by_seq.setdefault(_key(e), []).append(e)

    def build(self) -> Any:
        entries = [e for k in sorted(self.by_seq, key=_sort_key) for e in self.by_seq[k]]
        return self.base.model_copy(update={"entries": tuple(entries)})


def repoint(policy: DevicePolicy, op: Repoint) -> None:
    """The line names `op.to` now, and so do the model bindings it decides."""
    use = op.use
    policy.uses = [use.renamed(op.to) if u == use else u for u in policy.uses]
    if use.kind == "route_map":
        for key in use.covers:
            b = policy.bindings.get(key)
            if b is not None:
                policy.bindings[key] = b.model_copy(update={"route_map": op.to})


def replay(policy: DevicePolicy, ops: list[Op]) -> DevicePolicy:
    out = policy.copy()
    pending: dict[tuple[Kind, object], _Entries] = {}

    def entries(op: AddEntry | ModifyEntry | RemoveEntry, missing_ok: bool = False) -> _Entries:
        k = (op.kind, op.name)
        if k not in pending:
            cur = out.get(op.kind, op.name)
            if cur is None and missing_ok:
                cur = op.obj.model_copy(update={"entries": ()})
            if cur is None:
                raise KeyError(f"{op.verb} on {op.kind} {op.name}, which does not exist")
            pending[k] = _Entries(cur)
        return pending[k]

    for op in ops:
        if isinstance(op, (Create, ReplaceFilter, Rewrite, Delete)):
            pending.pop((op.kind, op.name), None)
        if isinstance(op, (Create, ReplaceFilter, Rewrite)):
            out.put(op.kind, op.name, op.obj if isinstance(op, Create) else op.new)
        elif isinstance(op, Delete):
            out.remove(op.kind, op.name)
        elif isinstance(op, AddEntry):
            entries(op, missing_ok=True).by_seq.setdefault(_key(op.entry), []).append(op.entry)
        elif isinstance(op, ModifyEntry):
            t = entries(op)
            k = _key(op.old)
            if k in t.by_seq:
                t.by_seq[k] = [op.new] * len(t.by_seq[k])
        elif isinstance(op, RemoveEntry):
            entries(op).by_seq.pop(_key(op.entry), None)
        elif isinstance(op, Bind):
            out.put("binding", op.binding.key, op.binding)
        elif isinstance(op, Unbind):
            out.remove("binding", op.binding.key)
        elif isinstance(op, Repoint):
            repoint(out, op)
    for (kind, name), t in pending.items():
        out.put(kind, name, t.build())
    return out
