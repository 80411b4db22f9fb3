"""Ordering rules of the planner: the reason netchange diffs objects, not text."""

import ipaddress

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import DevicePolicy, resolve
from pipeline.plan.diff import apply_desired, diff
from pipeline.plan.order import order
from pipeline.plan.refresh import RefreshTarget, refresh_set
from pipeline.plan.replay import replay
from policy_builders import bind, pl, policy, rm


def verbs(ops):
    return [f"{o.verb} {o.name}" for o in ops]


def test_new_policy_is_built_bottom_up(fleet, store, example):
    desired = resolve(example("CHG-1002"), store, fleet.hosts["r1"])
    running = DevicePolicy()
    ops = order(diff(running, apply_desired(running, desired)))
    kinds = [o.kind for o in ops]
    # every list before any route-map, every route-map before any binding
    assert kinds.index("route_map") > max(i for i, k in enumerate(kinds) if k.endswith("list"))
    assert kinds.index("binding") > max(i for i, k in enumerate(kinds) if k == "route_map")


def test_removal_tears_down_references_first(fleet, store, example):
    desired = resolve(example("CHG-1002"), store, fleet.hosts["r1"])
    built = apply_desired(DevicePolicy(), desired)
    ops = order(diff(built, DevicePolicy()))
    kinds = [o.kind for o in ops]
    assert {o.verb for o in ops} == {"Unbind", "Delete"}
    assert max(i for i, k in enumerate(kinds) if k == "binding") < kinds.index("route_map")
    assert max(i for i, k in enumerate(kinds) if k == "route_map") < min(i for i, k in enumerate(kinds) if k.endswith("list"))


def test_replaced_entry_is_added_before_the_old_one_goes():
    old = policy(pl("PL-A", (10, "198.51.100.0/25")))
    new = policy(pl("PL-A", (20, "198.51.100.0/26")))
    assert verbs(order(diff(old, new))) == ["AddEntry PL-A", "RemoveEntry PL-A"]


def test_binding_is_switched_never_unbound_then_rebound():
    old = policy(rm("RM-OLD", (10, None)), bind("RM-OLD"))
    new = policy(rm("RM-OLD", (10, None)), rm("RM-NEW", (10, None)), bind("RM-NEW"))
    ops = order(diff(old, new))
    assert verbs(ops) == ["Create RM-NEW", "Bind 198.51.100.2/ipv4/in"]
    assert ops[1].old.route_map == "RM-OLD"


def test_new_list_exists_before_an_entry_references_it():
    old = policy(rm("RM-A", (10, None)))
    new = policy(pl("PL-NEW", (5, "203.0.113.0/24")), rm("RM-A", (10, "PL-NEW")))
    assert verbs(order(diff(old, new))) == ["Create PL-NEW", "ModifyEntry RM-A"]


def test_reference_is_removed_before_its_list_is_deleted():
    old = policy(pl("PL-OLD", (5, "203.0.113.0/24")), rm("RM-A", (10, "PL-OLD"), (20, None)))
    new = policy(rm("RM-A", (20, None)))
    assert verbs(order(diff(old, new))) == ["RemoveEntry RM-A", "Delete PL-OLD"]


def _rm_twice(name, seq, plist):
    """A route-map entry naming one prefix-list twice (address and next hop): two edges between the same ops."""
    from pipeline.model import RouteMap, RouteMapEntry
    from pipeline.model.routing import Match
    return RouteMap(name=name, entries=(RouteMapEntry(seq=seq, action="permit",
                                                      match=Match(prefix_list=plist, next_hop_prefix_list=plist)),))


def test_a_list_named_twice_by_one_entry_is_ordered_as_if_named_once():
    old = policy(pl("PL-OLD", (5, "198.51.100.0/24")), _rm_twice("RM-A", 10, "PL-OLD"))
    new = policy(pl("PL-NEW", (5, "203.0.113.0/24")), _rm_twice("RM-A", 10, "PL-NEW"))
    assert verbs(order(diff(old, new))) == ["Create PL-NEW", "ModifyEntry RM-A", "Delete PL-OLD"]
    assert verbs(order(diff(new, old))) == ["Create PL-OLD", "ModifyEntry RM-A", "Delete PL-NEW"]


def test_plan_of_intended_against_itself_is_empty(fleet, store, example):
    for cid, host in (("CHG-1001", "fw1"), ("CHG-1002", "r1")):
        intended = apply_desired(DevicePolicy(), resolve(example(cid), store, fleet.hosts[host]))
        assert diff(intended, intended) == []


def test_refresh_set_is_exactly_the_affected_sessions():
    base = policy(pl("PL-A", (5, "203.0.113.0/24")), pl("PL-B", (5, "198.51.100.0/24")),
                  rm("RM-A", (10, "PL-A")), rm("RM-B", (10, "PL-B")),
                  bind("RM-A", "198.51.100.2", "in"), bind("RM-B", "198.51.100.6", "in"), bind("RM-A", "198.51.100.6", "out"))
    changed = base.copy()
    changed.prefix_lists["PL-A"] = pl("PL-A", (5, "203.0.113.0/25"))
    ops = order(diff(base, changed))
    assert refresh_set(base, changed, ops) == [RefreshTarget("198.51.100.2", "ipv4", "in"), RefreshTarget("198.51.100.6", "ipv4", "out")]


prefixes = st.sampled_from([str(n) for n in ipaddress.ip_network("198.51.100.0/24").subnets(new_prefix=28)])
entries = st.dictionaries(st.sampled_from([5, 10, 15, 20, 25]), prefixes, max_size=4)
list_names = st.sampled_from(["PL-A", "PL-B", "PL-C"])


@st.composite
def policies(draw):
    lists = {n: e for n, e in draw(st.dictionaries(list_names, entries, max_size=3)).items()}
    objs = [pl(n, *sorted(e.items())) for n, e in lists.items()]
    rms = draw(st.dictionaries(st.sampled_from(["RM-X", "RM-Y"]), st.lists(st.sampled_from(sorted(lists) or [None]), max_size=3), max_size=2))
    for name, refs in rms.items():
        objs.append(rm(name, *[(10 * (i + 1), r) for i, r in enumerate(refs)]))
    for nbr in draw(st.lists(st.sampled_from(["198.51.100.2", "198.51.100.6"]), unique=True, max_size=2)):
        if rms:
            objs.append(bind(draw(st.sampled_from(sorted(rms))), nbr))
    return policy(*objs)


def _dangling(p: DevicePolicy) -> list[str]:
    bad = [f"binding->{b.route_map}" for b in p.bindings.values() if b.route_map not in p.route_maps]
    for r in p.route_maps.values():
        bad += [f"{r.name}->{n}" for k, n in r.references() if n not in p.prefix_lists]
    return bad


@settings(max_examples=150, deadline=None)
@given(policies(), policies())
def test_any_plan_replays_to_intended_and_never_dangles(running, intended):
    ops = order(diff(running, intended))
    assert replay(running, ops) == intended
    # Walk the edits one by one: a reference may only dangle if it already dangled before or after.
    allowed = set(_dangling(running)) | set(_dangling(intended))
    state = running
    for op in ops:
        state = replay(state, [op])
        assert set(_dangling(state)) <= allowed, f"after {op.verb} {op.name}"


# ---------------------------------------------------------------- one list edited line by line (staged_edit)

from pipeline.plan.order import NoRoom, staged_edit  # noqa: E402

INPUTS = range(6)


def _result(entries: dict, x: int) -> str:
    """A first-match list: entries are (action, inputs it matches), by sequence number; no match denies."""
    for seq in sorted(entries):
        action, matched = entries[seq]
        if x in matched:
            return action
    return "deny"


_entry = st.tuples(st.sampled_from(["permit", "deny"]), st.frozensets(st.sampled_from(INPUTS), max_size=3))


@settings(max_examples=400, deadline=None)
@given(old=st.dictionaries(st.integers(1, 40), _entry, max_size=6), new=st.dictionaries(st.integers(1, 40), _entry, max_size=6),
       overwrite=st.booleans())
def test_a_staged_list_edit_never_gives_an_input_a_third_result(old, new, overwrite):
    """After every line, every input gets the result the old list or the new list gives it; a line never
    writes over a taken sequence number unless the CLI replaces an entry in place; the end is the new list."""
    try:
        steps = staged_edit(old, new, lambda o, n: overwrite, lambda o, n: o[1] == n[1])
    except NoRoom:
        return
    cur = dict(old)
    for step in steps:
        if step.verb == "add":
            assert step.seq not in cur or overwrite or cur[step.seq] == step.entry
            cur[step.seq] = step.entry
        else:
            assert cur.pop(step.seq) == step.entry
        for x in INPUTS:
            assert _result(cur, x) in (_result(old, x), _result(new, x)), (step, x)
    assert cur == new


def test_a_changed_entry_is_copied_beside_itself_first():
    old = {10: ("permit", frozenset({1})), 20: ("permit", frozenset({2}))}
    new = {10: ("permit", frozenset({1})), 20: ("permit", frozenset({2, 3}))}
    steps = staged_edit(old, new, lambda o, n: False)
    assert [(s.verb, s.seq) for s in steps] == [("add", 15), ("remove", 20), ("add", 20), ("remove", 15)]
    assert staged_edit(old, new, lambda o, n: True) == [steps[2]]  # one line where the CLI replaces in place
    with pytest.raises(NoRoom):
        staged_edit({**old, 19: ("deny", frozenset()), 21: ("deny", frozenset())}, {**new, 19: ("deny", frozenset()),
                    21: ("deny", frozenset()), 10: ("deny", frozenset({1}))}, lambda o, n: False)
