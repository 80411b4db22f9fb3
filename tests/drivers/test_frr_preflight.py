"""FRR's delay-timer guard refuses an in-place deploy only when something live can see an edited object.

With FRR's default `bgp route-map delay-timer` (5 s) bgpd re-applies route-maps and lists by itself 5 s after
the last edit, so an in-place edit of a bound route-map (or a list a bound route-map matches, or a
route-map `redistribute` uses) could go live half-written before the refresh. A new, unbound object cannot:
bindings wait for phase 2 on FRR. The old guard refused every in-place edit without `delay-timer 0`; the
tests that expect a deploy to go ahead fail on it (and on its signature, which took no edited objects).
"""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.frr import live_names
from pipeline.inventory import Inventory
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device

from fleetdata import FLEET

RUNNING = """\
Building configuration...

Current configuration:
!
frr version 8.4.4
hostname r1
!
ip prefix-list PL-R2-IN seq 10 permit 198.18.2.0/24
ip prefix-list PL-SPARE seq 10 permit 198.18.9.0/24
ip prefix-list PL-NHOP seq 10 permit 198.51.100.0/24
route-map RM-R2-IN permit 10
 match ip address prefix-list PL-R2-IN
 set local-preference 200
route-map RM-SPARE permit 10
 match ip address prefix-list PL-SPARE
route-map RM-REDIST permit 10
 match ip next-hop prefix-list PL-NHOP
router bgp 65001
 neighbor 198.51.100.2 remote-as 65002
 neighbor 198.51.100.6 remote-as 65003
 address-family ipv4 unicast
  redistribute connected route-map RM-REDIST
  neighbor 198.51.100.2 route-map RM-R2-IN in
 exit-address-family
!
end
"""


@pytest.fixture(scope="module")
def r1():
    return Inventory(FLEET).hosts["r1"]


def _change(routing: dict) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-9", "title": "Filter and prefer r3's own prefixes",
                                         "requested_by": "noc", "strategy": "in_place",
                                         "targets": {"hosts": ["r1"]}, "routing": routing})


def _preflight(r1, routing: dict, running: str = RUNNING):
    driver = get_driver(r1.platform)
    plan = plan_device(r1, driver, running, _change(routing), ObjectStore())
    touched = [(e["kind"], tuple(e["key"]) if isinstance(e["key"], list) else e["key"]) for e in plan.expect_after_commit]
    kw = dict(strategy=plan.strategy, edits=bool(plan.commands), touched=touched)
    return plan, driver.preflight(running, **kw), driver.preflight_notes(running, **kw)


NEW_BOUND = {
    "prefix_lists": [{"name": "PL-R3-OWN", "afi": "ipv4", "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.3.0/24"}]}],
    "route_maps": [{"name": "RM-R3-IN", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-R3-OWN"},
                                                     "set": {"local_preference": 250}}]}],
    "bindings": [{"neighbor": "198.51.100.6", "afi": "ipv4", "direction": "in", "route_map": "RM-R3-IN"}],
}


def test_new_list_route_map_and_binding_go_ahead_with_the_default_timer(r1):
    plan, why, notes = _preflight(r1, NEW_BOUND)
    assert plan.commands and plan.switch_commands  # the binding waits for phase 2
    assert why is None
    assert notes and "no live binding" in notes[0]


def test_edit_of_a_bound_route_map_is_refused_naming_it(r1):
    routing = {"route_maps": [{"name": "RM-R2-IN", "entries": [{"seq": 10, "action": "permit",
                                                                  "match": {"prefix_list": "PL-R2-IN"},
                                                                  "set": {"local_preference": 250}}]}]}
    _, why, notes = _preflight(r1, routing)
    assert why and "route-map RM-R2-IN" in why and "delay-timer 0" in why
    assert not notes


def test_edit_of_a_list_a_bound_route_map_matches_is_refused(r1):
    routing = {"prefix_lists": [{"name": "PL-R2-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "198.18.2.0/24"},
        {"seq": 20, "action": "permit", "prefix": "198.18.22.0/24"}]}]}
    _, why, _ = _preflight(r1, routing)
    assert why and "prefix-list PL-R2-IN" in why


def test_edit_of_a_list_only_an_unbound_route_map_matches_goes_ahead(r1):
    routing = {"prefix_lists": [{"name": "PL-SPARE", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "198.18.9.0/24"},
        {"seq": 20, "action": "permit", "prefix": "198.18.19.0/24"}]}]}
    plan, why, notes = _preflight(r1, routing)
    assert plan.commands and why is None and notes


def test_an_unmodelled_use_counts_redistribute_route_map(r1):
    # `redistribute connected route-map RM-REDIST` is not in the model, but bgpd re-runs it after the timer
    routing = {"prefix_lists": [{"name": "PL-NHOP", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "198.51.100.0/24"},
        {"seq": 20, "action": "permit", "prefix": "203.0.113.0/24"}]}]}
    _, why, _ = _preflight(r1, routing)
    assert why and "prefix-list PL-NHOP" in why


def test_timer_zero_allows_everything_without_a_note(r1):
    running = RUNNING.replace("router bgp 65001\n", "router bgp 65001\n bgp route-map delay-timer 0\n")
    routing = {"route_maps": [{"name": "RM-R2-IN", "entries": [{"seq": 10, "action": "permit",
                                                                  "match": {"prefix_list": "PL-R2-IN"},
                                                                  "set": {"local_preference": 250}}]}]}
    _, why, notes = _preflight(r1, routing, running)
    assert why is None and not notes


def test_unknown_edits_are_judged_coarsely():
    driver = get_driver("frr")
    assert driver.preflight(RUNNING, strategy="in_place", edits=True) is not None
    assert driver.preflight(RUNNING, strategy="versioned", edits=True) is None


def test_live_names_follow_bodies_of_live_route_maps_only():
    live = live_names(RUNNING)
    assert {"RM-R2-IN", "PL-R2-IN", "RM-REDIST", "PL-NHOP"} <= live
    assert not {"RM-SPARE", "PL-SPARE"} & live
