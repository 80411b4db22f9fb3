"""Staging one ordered first-match list edit (prefix-list, ACL, sequenced community/AS-path list, route-map
clauses) for a CLI where every line is live as it is typed. Pure sequence arithmetic: drivers print the steps,
the planner's tests check them; it sits in `model` because drivers (below plan) use it."""

from __future__ import annotations

import bisect
from typing import Any, Callable, NamedTuple

from ..errors import NetchangeError


class Step(NamedTuple):
    """One line of a staged list edit: `add` writes `entry` at `seq`, `remove` takes the entry at `seq` away.
    A tuple (cheap to make by the ten thousand; templates may unpack it)."""

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
    positions = sorted(old.keys() | new.keys())
    changed = [s for s in positions if old.get(s) != new.get(s)]
    if len(changed) == 1:
        s = changed[0]
        o, n = old.get(s), new.get(s)
        if o is None:
            return [Step("add", s, n)]
        if n is None:
            return [Step("remove", s, o)]
        if in_place(o, n):
            return [Step("add", s, n)]
    # one pass over the changed positions, (seq, old, new, replaced in place, no copy needed) each
    edits = []
    for s in changed:
        o, n = old.get(s), new.get(s)
        here = o is not None and n is not None and in_place(o, n)
        edits.append((s, o, n, here, here and same_match(o, n)))
    temps: dict[int, int] = {}
    grow: list[Step] = []
    last = 0  # the highest copy placed so far: every earlier copy sits below the position now placed
    for s, o, n, _, direct in edits:
        if o is None:
            grow.append(Step("add", s, n))
        elif n is not None and not direct:
            last = temps[s] = _beside(s, positions, last, max_seq)
            grow.append(Step("add", last, n))
    shrink: list[Step] = []
    for s, o, n, here, direct in reversed(edits):
        if n is None:
            shrink.append(Step("remove", s, o))
        elif direct:
            shrink.append(Step("add", s, n))
        elif o is not None:
            if not here:
                shrink.append(Step("remove", s, o))
            shrink.append(Step("add", s, n))
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
