"""Junos names a prefix-list with ge/le differently (`route-filter-list`): an edit that flips the form while a
policy-statement the change leaves alone still says `from prefix-list X` would delete what that user
matches. Found by the fuzz suite: the plan printed `delete policy-options prefix-list PL-B` with RM-X still
bound to neighbors and matching it, exit 0 (a Junos commit then fails on the undefined reference)."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device

JUNOS1 = """\
set policy-options prefix-list PL-B 198.19.48.0/21
set policy-options policy-statement RM-X term 10 from prefix-list PL-B
set policy-options policy-statement RM-X term 10 then accept
set policy-options policy-statement RM-X term netchange-final-reject then reject
set protocols bgp group AS65002 neighbor 198.51.100.2 import RM-X
"""
PL_B_RANGES = {"name": "PL-B", "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.0.0/17", "le": 24}]}
RM_X = {"name": "RM-X", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-B"}}]}


def plan(fleet, routing):
    ch = ChangeRequest.model_validate({"id": "CHG-9", "title": "t", "requested_by": "x", "targets": {"hosts": ["junos1"]},
                                       "routing": routing})
    h = fleet.hosts["junos1"]
    return plan_device(h, get_driver(h.platform), JUNOS1, ch, ObjectStore())


def test_flipping_the_form_under_an_untouched_user_is_refused_naming_it(fleet):
    with pytest.raises(UnsupportedConstruct, match=r"PL-B would become a route-filter-list.*RM-X"):
        plan(fleet, {"prefix_lists": [PL_B_RANGES]})


def test_flipping_the_form_is_refused_even_with_the_user_in_the_change(fleet):
    # RM-X's model is unchanged, so the plan would not rewrite its `from prefix-list PL-B`
    with pytest.raises(UnsupportedConstruct, match=r"PL-B would become a route-filter-list.*RM-X"):
        plan(fleet, {"prefix_lists": [PL_B_RANGES], "route_maps": [RM_X]})


def test_a_new_list_for_the_ranges_and_the_user_pointed_at_it_plans(fleet):
    new = {**PL_B_RANGES, "name": "PL-B2"}
    rm = {"name": "RM-X", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-B2"}}]}
    p = plan(fleet, {"prefix_lists": [new], "route_maps": [rm]})
    assert "set policy-options policy-statement RM-X term 10 from route-filter-list PL-B2" in p.commands
    # the undo names PL-B2 too (its form was looked up in the running config only: refused with "PL-B2 ... unknown")
    assert p.rollback_commands[:2] == ["delete policy-options policy-statement RM-X term 10 from route-filter-list PL-B2",
                                       "set policy-options policy-statement RM-X term 10 from prefix-list PL-B"]


def test_an_edit_in_the_same_form_needs_no_user(fleet):
    p = plan(fleet, {"prefix_lists": [{"name": "PL-B", "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.0.0/17"}]}]})
    assert "set policy-options prefix-list PL-B 198.18.0.0/17" in p.commands
