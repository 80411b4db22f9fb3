"""The box analysis against brute force over a tiny packet space (every point enumerated)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from pipeline.validate.boxes import Budget, BudgetExceeded, covered
from pipeline.validate.shadow import Item, analyse, pairwise

W = 3  # dimension 0: 3-bit 'addresses' as prefixes; dimension 1: any interval of 0..7
SPACE = list(itertools.product(range(1 << W), range(8)))


@st.composite
def boxes(draw):
    plen = draw(st.integers(0, W))
    base = draw(st.integers(0, (1 << plen) - 1)) << (W - plen) if plen else 0
    lo = draw(st.integers(0, 7))
    hi = draw(st.integers(lo, 7))
    return (base, base + (1 << (W - plen)) - 1, lo, hi)


items_st = st.lists(st.builds(lambda bs, a: Item(tuple(bs), a), st.lists(boxes(), min_size=1, max_size=2),
                              st.sampled_from(["accept", "deny", "reject"])), min_size=1, max_size=7)


def _in(p, b):
    return b[0] <= p[0] <= b[1] and b[2] <= p[1] <= b[3]


def _decide(items, p, default="deny"):
    for i, it in enumerate(items):
        if any(_in(p, b) for b in it.boxes):
            return i, it.action
    return None, default


def truth(items):
    out = {}
    for i, it in enumerate(items):
        mine = [p for p in SPACE if any(_in(p, b) for b in it.boxes)]
        firsts = [_decide(items, p) for p in mine]
        if all(j != i for j, _ in firsts):
            out[i] = "redundant" if all(a == it.action for _, a in firsts) else "shadowed"
            continue
        without = items[:i] + items[i + 1:]
        if all(_decide(items, p)[1] == _decide(without, p)[1] for p in mine):
            out[i] = "fallthrough"
    return out


@settings(max_examples=300, deadline=None)
@given(items_st)
def test_matches_brute_force(items):
    got = {r.index: r.verdict for r in analyse(items, "deny", ((0, W),))}
    assert got == truth(items)


@settings(max_examples=100, deadline=None)
@given(items_st)
def test_cover_sets_really_cover(items):
    for r in analyse(items, "deny", ((0, W),)):
        if r.verdict in ("shadowed", "redundant"):
            cover = [b for j in r.by for b in items[j].boxes]
            assert all(j < r.index for j in r.by)
            assert all(any(_in(p, b) for b in cover) for p in SPACE if any(_in(p, b) for b in items[r.index].boxes))


def test_several_terms_together_and_pairwise_misses_it():
    items = [Item(((0, 3, 0, 7),), "accept"), Item(((4, 7, 0, 7),), "accept"), Item(((0, 7, 0, 7),), "accept")]
    res = analyse(items, "deny", ((0, W),))
    # 2 is dead code covered only by 0 and 1 together; 0 and 1 are each replaceable by 2 (fall-through).
    assert [(r.index, r.verdict, r.by) for r in res] == [(0, "fallthrough", ()), (1, "fallthrough", ()), (2, "redundant", (0, 1))]
    assert pairwise(items) == []


def test_budget_turns_into_incomplete():
    many = [((i, i, 0, 0), i) for i in range(8)]
    try:
        covered((0, 7, 0, 0), many, Budget(5))
    except BudgetExceeded:
        pass
    else:
        raise AssertionError("budget not enforced")
    from pipeline.validate.shadow import Analysis

    items = [Item(((i, i, 0, 7),), "accept") for i in range(8)] + [Item(((0, 7, 0, 7),), "accept")]
    res = Analysis(items, "deny", ((0, W),), budget_per_item=3).run()
    assert any(r.verdict == "incomplete" for r in res)


def test_incomplete_is_reported_as_NC209(check, monkeypatch):
    from pipeline.validate import shadow

    from .conftest import fw, ids, term

    real = shadow.Analysis.__init__

    def tiny(self, items, default_action, prefix_dims, budget_per_item=200_000, **kw):
        real(self, items, default_action, prefix_dims, budget_per_item=1, **kw)

    monkeypatch.setattr(shadow.Analysis, "__init__", tiny)
    found = check(fw(term("a", sources=["10.0.0.0/9"]), term("b", sources=["10.0.0.0/8"])))
    assert "NC209" in ids(found)


# The fast path (items that overlap nothing decided without the index) against the full analysis of every
# item, on lists where many items stand alone: 6-bit addresses, mostly long prefixes, as real prefix-lists.
W6 = 6


@st.composite
def sparse_boxes(draw):
    plen = draw(st.sampled_from([0, 2, 4, 5, 6, 6, 6, 6]))
    base = draw(st.integers(0, (1 << plen) - 1)) << (W6 - plen) if plen else 0
    lo = draw(st.integers(plen, W6))
    hi = draw(st.integers(lo, W6))
    return (base, base + (1 << (W6 - plen)) - 1, lo, hi)


sparse_items = st.lists(st.builds(lambda bs, a, k: Item(tuple(bs), a, keep=k), st.lists(sparse_boxes(), max_size=2),
                                  st.sampled_from(["permit", "deny"]), st.booleans()), min_size=1, max_size=14)


@settings(max_examples=400, deadline=None)
@given(sparse_items)
def test_fast_path_gives_the_full_analysis_answers(items):
    from pipeline.validate.shadow import Analysis

    assert analyse(items, "deny", ((0, W6),)) == Analysis(items, "deny", ((0, W6),)).run()


def _overlap(a, b):
    return all(a[k] <= b[k + 1] and b[k] <= a[k + 1] for k in range(0, len(a), 2))


@settings(max_examples=400, deadline=None)
@given(sparse_items)
def test_isolated_means_no_box_overlaps_another_items_box(items):
    from pipeline.validate.shadow import isolated

    alone = isolated(items)
    for i, it in enumerate(items):
        touches = any(_overlap((b[0], b[1]), (c[0], c[1])) for j, other in enumerate(items) if j != i
                      for b in it.boxes for c in other.boxes)
        if touches:
            assert not alone[i], (i, items)
        elif len(it.boxes) < 2:  # two boxes of one item that overlap may count (analysed in full, safe)
            assert alone[i], (i, items)
