"""The printer's re-validation (render.guard) checks each entry of a list once per process (drivers/render/guarded.py):
copies of a list that share entries with one already checked must still be refused for what is new in them,
and for what the list as a whole does not allow."""

from __future__ import annotations

import pytest

from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.guards import guard
from pipeline.model.routing import CommunityList, CommunityListEntry, PrefixList, PrefixListEntry


def _big() -> PrefixList:
    return PrefixList.model_validate({"name": "PL-BIG", "entries": [
        {"seq": 10 + i, "action": "permit", "prefix": f"198.18.{i}.0/24"} for i in range(50)]})


def test_a_copy_with_one_unvalidated_entry_is_refused():
    pl = _big()
    guard("prefix_list", pl)  # every entry now counts as checked
    bad = PrefixListEntry.model_construct(seq=99, action="permit permit", prefix=pl.entries[0].prefix)
    copy = pl.model_copy(update={"entries": pl.entries + (bad,)})
    with pytest.raises(UnsupportedConstruct, match="PL-BIG"):
        guard("prefix_list", copy)


def test_a_copy_with_a_unicode_line_break_in_a_new_entry_is_refused():
    pl = _big()
    guard("prefix_list", pl)
    bad = PrefixListEntry.model_construct(seq=99, action="permit", prefix=pl.entries[0].prefix, ge=None, le=None,
                                          description="x\u2028no router bgp 65001")
    with pytest.raises(UnsupportedConstruct, match="line break"):
        guard("prefix_list", pl.model_copy(update={"entries": (bad,) + pl.entries}))


def test_checked_entries_still_meet_the_lists_own_rules():
    std = CommunityList.model_validate({"name": "CL-A", "kind": "standard", "entries": [
        {"seq": 10, "action": "permit", "communities": ["65001:1"]}]})
    guard("community_list", std)
    # the same (checked) entry in a list whose kind it does not fit: the list-level validator must still run
    wrong = std.model_copy(update={"kind": "expanded"})
    with pytest.raises(UnsupportedConstruct, match="needs a regex"):
        guard("community_list", wrong)
    assert isinstance(wrong.entries[0], CommunityListEntry)
