"""List entries: sequence numbers as a device gives them, one entry replaced, and route-map clause diffs."""

from __future__ import annotations

from typing import Any, Iterable


from ...model.routing import Match, RouteMapEntry, SetClause
from ...model.staging import Step
from .context import Context


# How IOS-style CLIs key route-map clauses: a line with the same key replaces the clause (or, for a match on
# IOS, adds a name to it); anything else is a clause of its own.
_CLAUSE_KEYS = sorted(("match ip address prefix-list", "match ipv6 address prefix-list", "match ip next-hop prefix-list",
                       "match ipv6 next-hop prefix-list", "match community", "match large-community", "match as-path",
                       "match aspath-list", "match community-list", "set local-preference", "set metric", "set weight",
                       "set as-path prepend", "set comm-list", "set community", "set large-community", "set ip next-hop",
                       "set ipv6 next-hop", "description", "continue", "on-match goto"), key=len, reverse=True)


def clause_key(line: str) -> str:
    return next((k for k in _CLAUSE_KEYS if line == k or line.startswith(k + " ")), line)


def clause_diff(old: RouteMapEntry, new: RouteMapEntry) -> tuple[RouteMapEntry, RouteMapEntry]:
    """(clauses only in old or changed, clauses only in new or changed) as partial entries of the same seq."""
    def split(a, b, cls):
        gone, come = {}, {}
        for name in cls.model_fields:
            va, vb = getattr(a, name), getattr(b, name)
            if va != vb:
                if va not in (None, ()):
                    gone[name] = va
                if vb not in (None, ()):
                    come[name] = vb
        return cls(**gone), cls(**come)

    m_gone, m_come = split(old.match, new.match, Match)
    s_gone, s_come = split(old.set, new.set, SetClause)
    desc_gone = old.description if old.description != new.description and old.description else None
    desc_come = new.description if old.description != new.description and new.description else None
    cont_gone = old.continue_ if old.continue_ != new.continue_ else None
    cont_come = new.continue_ if old.continue_ != new.continue_ else None
    gone = RouteMapEntry(seq=old.seq, action=old.action, description=desc_gone, match=m_gone, set=s_gone, **{"continue": cont_gone})
    come = RouteMapEntry(seq=new.seq, action=new.action, description=desc_come, match=m_come, set=s_come, **{"continue": cont_come})
    return gone, come


def numbered(entries: Iterable[Any], step: int = 5) -> list[tuple[int, Any]]:
    """Entries with their sequence numbers; a missing seq continues from the last one (as FRR numbers them)."""
    out, last = [], 0
    for e in entries:
        seq = e.seq if getattr(e, "seq", None) else last + step
        out.append((seq, e))
        last = seq
    return out


def written(entries: Iterable[Any]) -> list[Step]:
    """Each entry as the step that writes it at its own seq: a whole list prints through its list-edit macro."""
    return [Step("add", e.seq, e) for e in entries]


def seq_of(obj: Any, entry: Any) -> int:
    """The seq an entry has (or gets) within its list."""
    if getattr(entry, "seq", None):  # its own (no scan of the list: printing n entries stays O(n))
        return entry.seq
    for seq, e in numbered(obj.entries):
        if e == entry:
            return seq
    return entry.seq if getattr(entry, "seq", None) else numbered(obj.entries)[-1][0] + 5 if obj.entries else 5


def with_entry(obj: Any, old: Any, new: Any | None) -> Any:
    """obj with entry `old` replaced by `new` (or removed, or `new` appended when `old` is None)."""
    entries = [e for e in obj.entries if e != old] if old is not None else list(obj.entries)
    if new is not None and new not in entries:
        entries.append(new)
        if all(getattr(e, "seq", None) for e in entries):
            entries.sort(key=lambda e: e.seq)
    return obj.model_copy(update={"entries": tuple(entries)})


def _holds_at_seq(obj: Any, old: Any, new: Any, ctx: Context) -> bool:
    """Is `obj` already `with_entry(obj, old, new)` (the diff's ModifyEntry carries the edited object)?
    Answered from a per-render seq index, so n entry edits of one list cost O(n), not O(n^2)."""
    seq = getattr(new, "seq", None)
    if seq is None or getattr(old, "seq", None) != seq:
        return False
    key = ("seq-index", id(obj))
    cached = ctx.checked.get(key)
    if cached is None or cached[0] is not obj:
        cached = (obj, {getattr(e, "seq", None): e for e in obj.entries})
        ctx.checked[key] = cached
    return cached[1].get(seq) is new
