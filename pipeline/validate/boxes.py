"""Packet-space geometry: boxes (products of inclusive integer intervals), cover tests and an index.

A box is a flat tuple (lo0, hi0, lo1, hi1, ...). A firewall rule is a union of boxes over
(source, destination, protocol, source port, destination port); a prefix-list entry one box over
(network address, prefix length). Python ints carry 128-bit IPv6 addresses without special cases.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

Box = tuple[int, ...]


def overlaps(a: Box, b: Box) -> bool:
    for k in range(0, len(a), 2):
        if a[k] > b[k + 1] or b[k] > a[k + 1]:
            return False
    return True


def contains(outer: Box, inner: Box) -> bool:
    for k in range(0, len(outer), 2):
        if outer[k] > inner[k] or inner[k + 1] > outer[k + 1]:
            return False
    return True


def intersect(a: Box, b: Box) -> Box | None:
    out: list[int] = []
    for k in range(0, len(a), 2):
        lo, hi = max(a[k], b[k]), min(a[k + 1], b[k + 1])
        if lo > hi:
            return None
        out += (lo, hi)
    return tuple(out)


def subtract(a: Box, b: Box) -> list[Box]:
    """a minus b as disjoint boxes (at most two per dimension); assumes they overlap."""
    out: list[Box] = []
    cur = list(a)
    for k in range(0, len(a), 2):
        if cur[k] < b[k]:
            piece = cur.copy()
            piece[k + 1] = b[k] - 1
            out.append(tuple(piece))
            cur[k] = b[k]
        if cur[k + 1] > b[k + 1]:
            piece = cur.copy()
            piece[k] = b[k + 1] + 1
            out.append(tuple(piece))
            cur[k + 1] = b[k + 1]
    return out


def _share(b: Box, c: Box) -> float:
    """Fraction of b's volume inside c (to subtract the most useful box first)."""
    f = 1.0
    for k in range(0, len(b), 2):
        f *= (min(b[k + 1], c[k + 1]) - max(b[k], c[k]) + 1) / (b[k + 1] - b[k] + 1)
    return f


class BudgetExceeded(Exception):
    """One analysis used its share: its answer becomes 'incomplete'."""


class WorkLimitExceeded(Exception):
    """The whole validation of one change used its work limit: it stops with a 'too complex' error."""


@dataclass
class Budget:
    """Caps the work of one analysis so hostile input degrades into 'incomplete', never a hang.

    A unit is one candidate box looked at (in an index scan or a cover test). Budgets nest: spending
    also spends the `parent` (a filter's share, then the change's `WorkLimit`), so no phase escapes."""

    left: int = 2_000_000
    parent: "Budget | None" = None

    def spend(self, n: int) -> None:
        self.left -= n
        if self.parent is not None:
            self.parent.spend(n)
        if self.left < 0:
            raise BudgetExceeded()

    @property
    def exhausted(self) -> bool:
        return self.left < 0 or (self.parent is not None and self.parent.exhausted)


@dataclass
class WorkLimit(Budget):
    """The work limit of one change's validation (every phase spends from it)."""

    left: int = 4_000_000

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise WorkLimitExceeded()


def covered(box: Box, cands: Sequence[tuple[Box, int]], budget: Budget, used: set[int] | None = None) -> bool:
    """Is *box* inside the union of the candidate boxes? `cands` holds (box, owner); owners whose
    boxes did the covering are added to *used*. Depth-first over fragments: the first fragment no
    candidate touches proves 'not covered' early."""
    stack: list[tuple[Box, Sequence[tuple[Box, int]]]] = [(box, cands)]
    while stack:
        b, cs = stack.pop()
        budget.spend(len(cs) + 1)
        live = [c for c in cs if overlaps(b, c[0])]
        if not live:
            return False
        best = None
        best_share = -1.0
        for c in live:
            if contains(c[0], b):
                best = c
                break
            s = _share(b, c[0])
            if s > best_share:
                best, best_share = c, s
        assert best is not None
        if used is not None:
            used.add(best[1])
        if contains(best[0], b):
            continue
        rest = [c for c in live if c is not best]
        for frag in subtract(b, best[0]):
            stack.append((frag, rest))
    return True


@dataclass
class PrefixIndex:
    """Overlap queries on one dimension whose intervals are CIDR prefixes (nested or disjoint).

    Prefixes overlap only when one contains the other, so the boxes overlapping a query prefix are
    its ancestors (one dict look-up per prefix length in use) plus everything starting inside it
    (one bisect range). No pairwise scan.
    """

    dim: int
    width: int
    by_interval: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, boxes: Sequence[Box], dim: int, width: int) -> "PrefixIndex":
        idx = cls(dim, width)
        k = 2 * dim
        lens: set[int] = set()
        order = sorted(range(len(boxes)), key=lambda i: boxes[i][k])
        for i in order:
            lo, hi = boxes[i][k], boxes[i][k + 1]
            idx.by_interval.setdefault((lo, hi), []).append(i)
            lens.add(width - (hi - lo + 1).bit_length() + 1)
            idx.starts.append(lo)
            idx.ids.append(i)
        idx.lengths = sorted(lens)
        return idx

    def _ancestor_keys(self, lo: int, hi: int) -> Iterable[tuple[int, int]]:
        qlen = self.width - (hi - lo + 1).bit_length() + 1
        full = (1 << self.width) - 1
        for plen in self.lengths:
            if plen >= qlen:
                break
            host = full >> plen
            base = lo & ~host & full
            if base != lo:  # same start: the bisect range in query() already has it
                yield (base, base | host)

    def estimate(self, box: Box) -> int:
        k = 2 * self.dim
        lo, hi = box[k], box[k + 1]
        n = sum(len(self.by_interval.get(key, ())) for key in self._ancestor_keys(lo, hi))
        return n + bisect.bisect_right(self.starts, hi) - bisect.bisect_left(self.starts, lo)

    def query(self, box: Box) -> list[int]:
        k = 2 * self.dim
        lo, hi = box[k], box[k + 1]
        out: list[int] = []
        for key in self._ancestor_keys(lo, hi):
            out.extend(self.by_interval.get(key, ()))
        out.extend(self.ids[bisect.bisect_left(self.starts, lo): bisect.bisect_right(self.starts, hi)])
        return out


@dataclass
class BoxIndex:
    """Candidate boxes overlapping a query, via whichever prefix dimension is more selective."""

    boxes: Sequence[Box]
    dims: list[PrefixIndex]

    @classmethod
    def build(cls, boxes: Sequence[Box], prefix_dims: Sequence[tuple[int, int]]) -> "BoxIndex":
        return cls(boxes, [PrefixIndex.build(boxes, d, w) for d, w in prefix_dims])

    def overlapping(self, box: Box, budget: Budget | None = None, keep: Callable[[int], bool] | None = None) -> list[int]:
        """Ids of boxes overlapping `box` (and passing `keep`); every id scanned is charged to `budget`."""
        if not self.dims:
            ids: Sequence[int] = range(len(self.boxes))
        else:
            best = min(self.dims, key=lambda ix: ix.estimate(box))
            ids = best.query(box)
        if budget is not None:  # the ids scanned, plus the look-ups (one per prefix length in use)
            budget.spend(len(ids) + 1 + sum(len(ix.lengths) for ix in self.dims))
        boxes = self.boxes
        return [i for i in ids if (keep is None or keep(i)) and overlaps(box, boxes[i])]
