"""Reachability of ordered first-match lists (firewall terms, prefix-list entries).

Each item is a union of boxes with an action; the first item that matches decides. For every item:

* shadowed   - its boxes lie inside the union of EARLIER items (one or several together), so it can
               never match; `conflict` tells whether some packet it names is decided differently.
* fallthrough - it can match, but removing it changes nothing: every packet it decides would get the
               same action from the later items or the list's default action.

Nothing is pairwise: candidates come from a prefix index, and covering is decided by depth-first box
subtraction over the few candidates that overlap (see boxes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from .boxes import Box, BoxIndex, Budget, BudgetExceeded, covered, intersect

Verdict = Literal["shadowed", "redundant", "fallthrough", "incomplete"]


@dataclass(frozen=True)
class Item:
    boxes: tuple[Box, ...]
    action: str
    keep: bool = False  # has effects beyond its action (log, counter) or is the explicit default


@dataclass(frozen=True)
class Result:
    index: int
    verdict: Verdict
    by: tuple[int, ...] = ()  # earlier items that cover it (shadowed/redundant)


class Analysis:
    """`budget_per_item`: an item whose analysis needs more becomes 'incomplete'. `total`: the whole
    list's share (nested in the change's work limit); once spent, every item left is 'incomplete'."""

    def __init__(self, items: Sequence[Item], default_action: str, prefix_dims: Sequence[tuple[int, int]],
                 budget_per_item: int = 200_000, total: Budget | None = None):
        self.items = items
        self.default = default_action
        self.budget_per_item = budget_per_item
        self.total = total
        self.owner: list[int] = []
        boxes: list[Box] = []
        for i, it in enumerate(items):
            for b in it.boxes:
                boxes.append(b)
                self.owner.append(i)
        self.boxes = boxes
        self.index = BoxIndex.build(boxes, prefix_dims)

    def _cands(self, box: Box, keep, budget: Budget) -> list[tuple[Box, int]]:
        owner = self.owner
        return [(self.boxes[k], owner[k]) for k in self.index.overlapping(box, budget, lambda k: keep(owner[k]))]

    def _covered_by(self, boxes: Sequence[Box], keep, budget: Budget, used: set[int] | None = None) -> bool:
        for b in boxes:
            if not covered(b, self._cands(b, keep, budget), budget, used):
                return False
        return True

    def run(self) -> list[Result]:
        out: list[Result] = []
        for i, it in enumerate(self.items):
            if self.total is not None and self.total.exhausted:
                out.extend(Result(j, "incomplete") for j in range(i, len(self.items)))
                break
            budget = Budget(self.budget_per_item, parent=self.total)
            try:
                r = self._one(i, it, budget)
            except BudgetExceeded:
                r = Result(i, "incomplete")
            if r is not None:
                out.append(r)
        return out

    def _one(self, i: int, it: Item, budget: Budget) -> Result | None:
        if not it.boxes:  # matches no packet at all (e.g. its exclusions cover its addresses): nothing to cover
            return None
        used: set[int] = set()
        if self._covered_by(it.boxes, lambda j: j < i, budget, used):
            return Result(i, "redundant" if self._same_fate(i, it, budget) else "shadowed", tuple(sorted(used)))
        if not it.keep and self._falls_through(i, it, budget):
            return Result(i, "fallthrough")
        return None

    def _same_fate(self, i: int, it: Item, budget: Budget) -> bool:
        """Does every packet of item i get i's action from the earlier item that decides it?"""
        for b in it.boxes:
            cands = self._cands(b, lambda j: j < i, budget)
            for j in sorted({o for _, o in cands}):
                if self.items[j].action == it.action:
                    continue
                for cb in self.items[j].boxes:
                    x = intersect(b, cb)
                    if x is not None and not covered(x, [c for c in cands if c[1] < j], budget):
                        return False
        return True

    def _falls_through(self, i: int, it: Item, budget: Budget) -> bool:
        """Would removing item i leave every packet it decides with the same action?"""
        for b in it.boxes:
            later = sorted({o for _, o in self._cands(b, lambda j: j > i, budget)})
            for j in later:
                if self.items[j].action == it.action:
                    continue
                for cb in self.items[j].boxes:
                    x = intersect(b, cb)
                    if x is not None and not self._covered_by((x,), lambda k, j=j: k < j and k != i, budget):
                        return False
        if it.action != self.default:
            return self._covered_by(it.boxes, lambda k: k != i, budget)
        return True


def analyse(items: Sequence[Item], default_action: str, prefix_dims: Sequence[tuple[int, int]],
            total: Budget | None = None) -> list[Result]:
    """Items that overlap no other item are decided without the index (the usual large prefix-list: 20,000
    disjoint prefixes); the others go through the full analysis among themselves only, which gives them the
    same answers, since an item that overlaps nothing is never a candidate of another."""
    alone = isolated(items)
    if not any(alone):
        return Analysis(items, default_action, prefix_dims, total=total).run()
    rest = [i for i, a in enumerate(alone) if not a]
    found: dict[int, Result] = {}
    if rest:
        for r in Analysis([items[i] for i in rest], default_action, prefix_dims, total=total).run():
            found[rest[r.index]] = Result(rest[r.index], r.verdict, tuple(rest[j] for j in r.by))
    for i, a in enumerate(alone):
        it = items[i]
        # nothing earlier covers it; nothing later decides what it matches, so removing it changes nothing
        # exactly when its action is the default's (as Analysis._falls_through concludes with no candidates)
        if a and it.boxes and not it.keep and it.action == default_action:
            found[i] = Result(i, "fallthrough")
    return [found[i] for i in sorted(found)]


def isolated(items: Sequence[Item]) -> list[bool]:
    """Per item: does no box of it overlap a box of another item? Decided on the first dimension alone (a
    pair apart there is apart), by one sort and a sweep: O(n log n), never pairwise. Two boxes of one item
    that overlap each other count as overlapping (the item is then analysed in full: safe, and rare)."""
    spans = sorted((b[0], b[1], i) for i, it in enumerate(items) for b in it.boxes)
    hit = [False] * len(items)
    reach, owner = -1, -1  # the highest end among the spans swept so far, and its item
    for k, (lo, hi, i) in enumerate(spans):
        if owner >= 0 and lo <= reach:  # overlaps an earlier span (the farthest-reaching one among them)
            hit[i] = hit[owner] = True
        if k + 1 < len(spans) and spans[k + 1][0] <= hi:  # overlaps the next span
            hit[i] = hit[spans[k + 1][2]] = True
        if hi > reach:
            reach, owner = hi, i
    return [not h for h in hit]


def pairwise(items: Sequence[Item]) -> list[int]:
    """The naive baseline: an item is shadowed when ONE earlier item contains all of it. O(n^2), and
    blind to covers made of several items. Kept for the benchmark and as a test oracle."""
    from .boxes import contains

    out = []
    for i, it in enumerate(items):
        for j in range(i):
            if all(any(contains(cb, b) for cb in items[j].boxes) for b in it.boxes):
                out.append(i)
                break
    return out
