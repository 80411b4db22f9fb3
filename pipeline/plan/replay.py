"""Apply edit ops to a DevicePolicy: the model-level proof that a plan yields the intended policy."""

from __future__ import annotations

from ..model.policy import DevicePolicy
from .ops import AddEntry, Bind, Create, Delete, ModifyEntry, Op, RemoveEntry, ReplaceFilter, Unbind


def _key(e):
    return getattr(e, "seq", None)


def _with_entries(obj, entries):
    return obj.model_copy(update={"entries": tuple(sorted(entries, key=lambda e: (_key(e) is None, _key(e) or 0)))})


def replay(policy: DevicePolicy, ops: list[Op]) -> DevicePolicy:
    out = policy.copy()
    for op in ops:
        if isinstance(op, (Create, ReplaceFilter)):
            out.put(op.kind, op.name, op.obj if isinstance(op, Create) else op.new)
        elif isinstance(op, Delete):
            out.remove(op.kind, op.name)
        elif isinstance(op, AddEntry):
            cur = out.get(op.kind, op.name)
            base = cur if cur is not None else op.obj.model_copy(update={"entries": ()})
            out.put(op.kind, op.name, _with_entries(base, [*base.entries, op.entry]))
        elif isinstance(op, ModifyEntry):
            cur = out.get(op.kind, op.name)
            out.put(op.kind, op.name, _with_entries(cur, [op.new if _key(e) == _key(op.old) else e for e in cur.entries]))
        elif isinstance(op, RemoveEntry):
            cur = out.get(op.kind, op.name)
            out.put(op.kind, op.name, _with_entries(cur, [e for e in cur.entries if _key(e) != _key(op.entry)]))
        elif isinstance(op, Bind):
            out.put("binding", op.binding.key, op.binding)
        elif isinstance(op, Unbind):
            out.remove("binding", op.binding.key)
    return out
