"""Entry edits of one list or ACL: which ops edit which list, the list before and after them, and what an
ACL position matches."""

from __future__ import annotations

from typing import Any, TypeGuard


from ...model import ops as O
from .aces import AclLine


LIST_KINDS = ("prefix_list", "community_list", "as_path_list")


EntryOp = O.AddEntry | O.RemoveEntry | O.ModifyEntry


def _entry_op(op: O.Op) -> TypeGuard[EntryOp]:
    return isinstance(op, (O.AddEntry, O.RemoveEntry, O.ModifyEntry))


def _list_edits(ops: list[O.Op]) -> dict[tuple[str, str], list[EntryOp]]:
    """Entry ops of each list, in order; a list whose entries lack sequence numbers is left to op_lines."""
    out: dict[tuple[str, str], list[EntryOp]] = {}
    for op in ops:
        if _entry_op(op) and op.kind in LIST_KINDS:
            out.setdefault((op.kind, op.name), []).append(op)
    return {k: v for k, v in out.items() if all(_edited(op).seq is not None for op in v)}


def _edited(op: EntryOp) -> Any:
    """The entry an entry op writes or removes."""
    return op.new if isinstance(op, O.ModifyEntry) else op.entry


def _acl_positions(lines: list[AclLine]) -> dict[int, tuple[AclLine, ...]]:
    """Numbered ACL lines by sequence number (an AOS-CX comment shares its ACE's number), remark first."""
    out: dict[int, tuple[AclLine, ...]] = {}
    for ln in lines:
        out[ln.seq] = tuple(sorted(out.get(ln.seq, ()) + (ln,), key=lambda x: x.remark is None))
    return out


def _remark_of(pos: tuple[AclLine, ...]) -> str | None:
    return next((ln.remark for ln in pos if ln.remark is not None), None)


def _ace_match(pos: tuple[AclLine, ...]) -> tuple | None:
    """What an ACL position matches (its ACE without action, log or counter), None for a remark alone."""
    a = next((ln.ace for ln in pos if ln.ace is not None), None)
    return None if a is None else (a.src, a.dst, a.protocol, a.sport, a.dport)


def _same_match(old: Any, new: Any) -> bool:
    """Two versions of one list entry that match the same routes (only the action or description differ).
    Field by field, as pydantic's `==` compares (type, then fields): called once per changed entry."""
    if type(old) is not type(new):
        return False
    theirs = new.__dict__
    return all(v == theirs[k] for k, v in old.__dict__.items() if k not in _NOT_MATCHED)


# The fields of a list entry that do not decide which routes it matches.
_NOT_MATCHED = frozenset({"action", "seq", "description"})


def _before_after(ops: list[EntryOp]) -> tuple[Any, Any]:
    """The list before and after its entry ops (each op carries one of the two versions)."""
    base = next((op.obj for op in ops if isinstance(op, (O.AddEntry, O.ModifyEntry))), None)
    if base is not None:
        entries = {e.seq: e for e in base.entries}
        for op in ops:
            if isinstance(op, O.AddEntry):
                entries.pop(op.entry.seq, None)
            elif isinstance(op, O.ModifyEntry):
                entries[op.old.seq] = op.old
            else:
                entries[op.entry.seq] = op.entry
    else:
        base = ops[0].obj
        entries = {e.seq: e for e in base.entries}
    old = dict(entries)
    for op in ops:
        if isinstance(op, (O.AddEntry, O.ModifyEntry)):
            e = op.entry if isinstance(op, O.AddEntry) else op.new
            entries[e.seq] = e
        else:
            entries.pop(op.entry.seq, None)
    order = lambda d: tuple(d[k] for k in sorted(d))  # noqa: E731
    return base.model_copy(update={"entries": order(old)}), base.model_copy(update={"entries": order(entries)})
