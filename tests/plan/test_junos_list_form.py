"""Junos names a prefix-list with ge/le differently (`route-filter-list`): an edit that flips the form must
switch every policy-statement that says `from prefix-list X`, also one the change leaves alone, and its undo
must switch them back. Found by the fuzz suite and the Junos simulator: the plan printed `delete
policy-options prefix-list PL-B` with RM-X still bound to neighbors and matching it, exit 0 (a Junos commit
then fails on the undefined reference)."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
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


SWITCH_TO_RANGES = ["delete policy-options policy-statement RM-X term 10 from prefix-list PL-B",
                    "set policy-options policy-statement RM-X term 10 from route-filter-list PL-B"]
SWITCH_BACK = ["delete policy-options policy-statement RM-X term 10 from route-filter-list PL-B",
               "set policy-options policy-statement RM-X term 10 from prefix-list PL-B"]


@pytest.mark.parametrize("with_user", [False, True], ids=["user-untouched", "user-in-change"])
def test_flipping_the_form_takes_every_user_along_and_back(fleet, with_user):
    """The list becomes a route-filter-list and RM-X's match follows it in the same candidate; the undo
    switches RM-X back from the form the change wrote (read from the running config, which still says
    prefix-list, the undo printed `from route-filter-list` nowhere and left RM-X dangling)."""
    p = plan(fleet, {"prefix_lists": [PL_B_RANGES], **({"route_maps": [RM_X]} if with_user else {})})
    assert p.commands[-2:] == SWITCH_TO_RANGES
    assert "set policy-options route-filter-list PL-B 198.18.0.0/17 upto /24" in p.commands
    assert p.rollback_commands[-2:] == SWITCH_BACK
    assert "set policy-options prefix-list PL-B 198.19.48.0/21" in p.rollback_commands


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
