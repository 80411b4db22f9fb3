"""The deploy barrier's check (plan/expect.py): a device meets the plan's expectations when the planner would
change nothing, so the barrier never fails where a re-plan is empty."""

from __future__ import annotations

from pipeline.drivers import get_driver
from pipeline.model.policy import DevicePolicy
from pipeline.model.routing import PrefixList, PrefixListEntry
from pipeline.plan.expect import expectations, unmet

PL = PrefixList(name="PL-T", entries=(PrefixListEntry(seq=5, action="permit", prefix="203.0.113.0/24"),))


def test_a_family_left_to_inference_meets_the_family_the_device_prints():
    """Regression: a change's prefix-list without `afi` failed the barrier ("differs") on every platform that
    prints the family, though planning the device again was empty."""
    frr = get_driver("frr")
    device = frr.parse("ip prefix-list PL-T seq 5 permit 203.0.113.0/24\n")
    assert device.prefix_lists["PL-T"].afi == "ipv4" and PL.afi is None
    want = expectations(DevicePolicy(prefix_lists={"PL-T": PL}), [("prefix_list", "PL-T")])
    assert unmet(device, want, frr.canonical) == []


def test_real_differences_are_still_unmet():
    want = expectations(DevicePolicy(prefix_lists={"PL-T": PL}), [("prefix_list", "PL-T"), ("prefix_list", "PL-GONE")])
    other = PL.model_copy(update={"entries": (PL.entries[0].model_copy(update={"le": 28}),)})
    assert unmet(DevicePolicy(prefix_lists={"PL-T": other, "PL-GONE": PL}), want) == [
        "prefix_list PL-T differs", "prefix_list PL-GONE should be absent"]
    assert unmet(DevicePolicy(), want[:1]) == ["prefix_list PL-T missing"]
