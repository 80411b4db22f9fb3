"""Versioned strategy: make-before-break under new names, old objects collected after verification."""

from pipeline.model import DevicePolicy, resolve
from pipeline.plan.diff import apply_desired, diff
from pipeline.plan.order import order
from pipeline.plan.replay import replay
from pipeline.plan.versioned import logical_view, versioned_plan

from policy_builders import bind, pl, policy, rm


def test_changed_list_gets_new_versions_and_bindings_switch():
    running = policy(pl("PL-A", (5, "203.0.113.0/24")), rm("RM-A", (10, "PL-A")), bind("RM-A"))
    intended = policy(pl("PL-A", (5, "203.0.113.0/25")), rm("RM-A", (10, "PL-A")), bind("RM-A"))
    view, names = logical_view(running)
    commit, gc = versioned_plan(view, intended, diff(view, intended), names)
    commit = order(commit)
    assert [f"{o.verb} {o.name}" for o in commit] == ["Create PL-A.nc1", "Create RM-A.nc1", "Bind 198.51.100.2/ipv4/in"]
    assert commit[1].obj.entries[0].match.prefix_list == "PL-A.nc1"
    # Until GC runs, the old objects stay intact (a rollback only has to switch the binding back).
    mid = replay(running, commit)
    assert mid.prefix_lists["PL-A"] == running.prefix_lists["PL-A"]
    final = replay(mid, order(gc))
    assert set(final.prefix_lists) == {"PL-A.nc1"} and set(final.route_maps) == {"RM-A.nc1"}
    logical, _ = logical_view(final)
    assert logical.prefix_lists == intended.prefix_lists and logical.bindings == intended.bindings


def test_second_change_builds_on_the_current_version():
    running = policy(pl("PL-A.nc1", (5, "203.0.113.0/24")), rm("RM-A.nc1", (10, "PL-A.nc1")), bind("RM-A.nc1"))
    intended = policy(pl("PL-A", (5, "203.0.113.0/26")), rm("RM-A", (10, "PL-A")), bind("RM-A"))
    view, names = logical_view(running)
    commit, gc = versioned_plan(view, intended, diff(view, intended), names)
    assert {o.name for o in commit if o.verb == "Create"} == {"PL-A.nc2", "RM-A.nc2"}
    assert {o.name for o in gc} == {"PL-A.nc1", "RM-A.nc1"}


def test_unchanged_device_plans_nothing_in_either_strategy(fleet, store, example):
    intended = apply_desired(DevicePolicy(), resolve(example("CHG-1002"), store, fleet.hosts["r1"]))
    view, names = logical_view(intended)
    assert versioned_plan(view, intended, diff(view, intended), names) == ([], [])
