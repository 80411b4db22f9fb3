"""Plans for every example change on every platform it targets, from snapshots: the ops replay to the
intended policy, removals really remove, planning the result again is empty, and drift is detected."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.drivers import get_driver
from pipeline.model import DevicePolicy, resolve
from pipeline.model.resolve import Desired
from pipeline.plan.diff import apply_desired
from pipeline.plan.planner import config_hash, plan_device
from pipeline.plan.run import plan_snapshots, targets
from pipeline.project import load_change

from fleetdata import EXAMPLE_HOSTS as CASES, EXAMPLES, PLATFORM_HOST


def snapshot(host, policy: DevicePolicy) -> str:
    """What the device would print for `policy`: rendered by its driver and parsed back as a check."""
    driver = get_driver(host.platform)
    desired = [Desired(kind, key, obj) for kind, key, obj in policy.items()]
    return driver.render(desired, host, known=policy) if desired else ""


def legacy_policy(change, store, host) -> DevicePolicy:
    """For the removal example: a device that carries every object the change removes."""
    from pipeline.model import AsPathList, CommunityList, NeighborBinding, PrefixList, RouteMap
    from pipeline.model.routing import AsPathEntry, CommunityListEntry, Match, PrefixListEntry, RouteMapEntry

    p = DevicePolicy()
    if host.data.bgp:
        p.prefix_lists["PL-LEGACY"] = PrefixList(name="PL-LEGACY", afi="ipv4", entries=(
            PrefixListEntry(seq=10, action="permit", prefix="198.18.40.0/24"),))
        p.community_lists["CL-LEGACY"] = CommunityList(name="CL-LEGACY", entries=(
            CommunityListEntry(seq=10, action="permit", communities=("65001:40",)),))
        # IOS numbers its AS-path lists; elsewhere the change's own name is used.
        asp = "40" if host.platform.value == "cisco_ios" else "AS-LEGACY"
        p.as_path_lists[asp] = AsPathList(name=asp, entries=(AsPathEntry(seq=10, action="permit", regex="^65040$"),))
        p.route_maps["RM-LEGACY"] = RouteMap(name="RM-LEGACY", entries=(RouteMapEntry(
            seq=10, action="permit", match=Match(prefix_list="PL-LEGACY", community_list="CL-LEGACY", as_path=asp)),))
        b = NeighborBinding(neighbor="198.51.100.2", afi="ipv4", direction="out", route_map="RM-LEGACY")
        p.bindings[b.key] = b
    return p


@pytest.mark.parametrize("cid,hostname", CASES)
def test_plan_replays_to_intended_and_is_then_empty(cid, hostname, fleet, store):
    change = load_change(EXAMPLES / f"{cid}.yaml")[0]
    host = fleet.hosts[hostname]
    driver = get_driver(host.platform)
    before = legacy_policy(change, store, host) if cid == "CHG-1003" else DevicePolicy()
    if host.platform.value == "juniper_junos" and before.as_path_lists:
        before.as_path_lists.clear()  # Junos AS-path regexes differ; the removal of the rest is still planned
        before.route_maps["RM-LEGACY"] = before.route_maps["RM-LEGACY"].model_copy(update={"entries": tuple(
            e.model_copy(update={"match": e.match.model_copy(update={"as_path": None})}) for e in before.route_maps["RM-LEGACY"].entries)})
    if host.platform.value == "aruba_aoscx":
        before.community_lists.clear()
        before.route_maps["RM-LEGACY"] = before.route_maps["RM-LEGACY"].model_copy(update={"entries": tuple(
            e.model_copy(update={"match": e.match.model_copy(update={"community_list": None})}) for e in before.route_maps["RM-LEGACY"].entries)})
    # nftables answers `nft -j list ruleset` (an empty host here; its round trip is in tests/render).
    empty = '{"nftables": []}' if host.platform.value == "nftables" else ""
    text = snapshot(host, before) if not empty else empty
    running = driver.parse(text) if text else DevicePolicy()
    intended = apply_desired(running, resolve(change, store, host))
    plan = plan_device(host, driver, text, change, store)
    assert plan.commands or plan.switch_commands, "the change does something on this host"
    # Removals are printed as removals.
    if cid == "CHG-1003" and host.data.bgp:
        assert any(c.strip().startswith(("no ", "delete ")) for c in plan.commands + plan.switch_commands)
    # The device after the plan (model replay of the rendered commands' ops) is the intended policy.
    from pipeline.plan.diff import diff
    from pipeline.plan.order import order
    from pipeline.plan.replay import replay

    assert replay(running, order(diff(running, intended))) == intended
    # Planning the intended state again yields nothing.
    after_text = snapshot(host, intended) if not empty else None
    if after_text is not None:
        again = plan_device(host, driver, after_text, change, store)
        assert again.empty, again.ops
    assert plan.running_hash == config_hash(text)


def test_snapshots_are_planned_for_every_target_and_missing_ones_reported(fleet, store, tmp_path):
    change = load_change(EXAMPLES / "CHG-1003.yaml")[0]
    hosts = targets(change, fleet)
    for h in hosts[:-1]:
        (tmp_path / f"{h.name}.cfg").write_text(snapshot(h, legacy_policy(change, store, h)))
    results = list(plan_snapshots(change, fleet, store, tmp_path, workers=1))
    plans = [r for r in results if not isinstance(r, str)]
    errors = [r for r in results if isinstance(r, str)]
    assert len(plans) == len(hosts) - 1 and all(not p.empty for p in plans)
    assert errors == [f"{hosts[-1].name}: no snapshot at {tmp_path / (hosts[-1].name + '.cfg')} (run `netchange backup` first)"]


@pytest.mark.parametrize("case", ["filters", "matches"])
@pytest.mark.parametrize("hostname", [h for p, h in PLATFORM_HOST.items()
                                      if "filter" in get_driver(p).kinds and get_driver(p).snapshot_suffix == ".cfg"])
def test_a_filter_read_back_from_the_device_plans_empty(hostname, case, fleet, store):
    """The rendered filter and its attachment, parsed back as the device would print them, are no change
    (Junos prints the inventory's `ge-0/0/1` as `ge-0/0/1 unit 0`). `matches` holds every match a stateless
    ACL expresses (ICMP types and codes, established, TCP flags, fragments, exclusions, DSCP, TTL)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from render.cases import CASES

    change = CASES[case]
    host = fleet.hosts[hostname]
    driver = get_driver(host.platform)
    desired = resolve(change, store, host)
    assert any(d.kind == "filter" and d.obj.attachments for d in desired)
    text = driver.render(desired, host)
    plan = plan_device(host, driver, text, change, store)
    assert plan.ops == [], plan.ops
