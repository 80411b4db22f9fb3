"""Reference safety: a plan refuses to delete or empty an object the device still uses, names who uses
it, and lets the change go ahead when it also removes (or rebinds away) the user.

Each refusal case planned without an error on the old code (exit 0, the object deleted): on IOS a
route-map entry matching a missing prefix-list matches everything, on FRR a neighbor bound to a missing
route-map is denied everything, an interface whose ACL is gone passes all traffic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.drivers import get_driver
from pipeline.model import ConcreteFilter, ObjectStore, Rule
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device
from pipeline.plan.references import ObjectInUse

ROOT = Path(__file__).resolve().parents[2]

R1 = """\
ip prefix-list PL-A seq 10 permit 203.0.113.0/24
ip prefix-list PL-B seq 10 permit 198.51.100.0/24
ip prefix-list PL-C seq 10 permit 198.18.0.0/16 le 24
bgp community-list standard CL-A seq 10 permit 65001:100
route-map RM-A permit 10
 match ip address prefix-list PL-A
route-map RM-B permit 10
 match ip address prefix-list PL-B
route-map RM-C permit 10
 match ip address prefix-list PL-C
 set comm-list CL-A delete
router bgp 65001
 neighbor 198.51.100.2 remote-as 65002
 neighbor 198.51.100.6 remote-as 65003
 address-family ipv4 unicast
  neighbor 198.51.100.2 route-map RM-A in
  neighbor 198.51.100.6 route-map RM-C in
  neighbor 198.51.100.6 prefix-list PL-B out
 exit-address-family
"""


def change(routing=None, firewall=None, hosts=("r1",), strategy="in_place") -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-9", "title": "t", "requested_by": "x", "strategy": strategy,
                                         "targets": {"hosts": list(hosts)}, "routing": routing or {},
                                         "firewall": firewall or {}})


def plan(fleet, ch, text=R1, host="r1", parsed=None):
    h = fleet.hosts[host]
    return plan_device(h, get_driver(h.platform), text, ch, ObjectStore(), parsed=parsed)


def refused(fleet, ch, **kw) -> str:
    with pytest.raises(ObjectInUse) as e:
        plan(fleet, ch, **kw)
    return str(e.value)


ABSENT = {"state": "absent"}
UNBIND_2 = {"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "state": "absent"}


@pytest.mark.parametrize("strategy", ["in_place", "versioned"])
def test_a_route_map_still_bound_is_not_deleted(fleet, strategy):
    msg = refused(fleet, change({"route_maps": [{"name": "RM-A", **ABSENT}]}, strategy=strategy))
    assert msg.startswith("r1: ") and "removes route-map RM-A" in msg
    assert "neighbor 198.51.100.2 ipv4 in" in msg


def test_a_prefix_list_matched_by_an_untouched_bound_route_map_is_not_deleted(fleet):
    msg = refused(fleet, change({"prefix_lists": [{"name": "PL-A", **ABSENT}]}))
    assert "removes prefix-list PL-A" in msg and "route-map RM-A entry 10 (bound to 198.51.100.2 ipv4 in)" in msg


def test_a_community_list_a_route_map_deletes_with_is_in_use_too(fleet):
    msg = refused(fleet, change({"community_lists": [{"name": "CL-A", **ABSENT}]}))
    assert "community-list CL-A" in msg and "route-map RM-C entry 10" in msg


def test_emptying_a_used_list_is_refused_like_deleting_it(fleet):
    msg = refused(fleet, change({"prefix_lists": [{"name": "PL-A", "afi": "ipv4", "entries": []}]}))
    assert "empties prefix-list PL-A" in msg


def test_removing_an_empty_list_a_route_map_still_matches_is_refused(fleet):
    """Found by the long fuzz run: EOS keeps `ipv6 prefix-list PL-V6` with no entries, and a bound route-map
    matching it denies every route; deleting it made the same route-map match every route (IOS, EOS). Only
    lists with entries counted as in use."""
    eos = ("ipv6 prefix-list PL-V6\nroute-map RM-IN permit 10\n   match ipv6 address prefix-list PL-V6\n"
           "router bgp 65102\n   neighbor 2001:db8:12::2 remote-as 65002\n   address-family ipv6\n"
           "      neighbor 2001:db8:12::2 route-map RM-IN in\n")
    msg = refused(fleet, change({"prefix_lists": [{"name": "PL-V6", **ABSENT}]}, hosts=("eos1",)), text=eos, host="eos1")
    assert "removes prefix-list PL-V6" in msg and "route-map RM-IN entry 10" in msg


def test_a_use_netchange_does_not_model_counts(fleet):
    # `neighbor X prefix-list P out` is not modelled; deleting P with its only modelled user is still refused.
    msg = refused(fleet, change({"prefix_lists": [{"name": "PL-B", **ABSENT}], "route_maps": [{"name": "RM-B", **ABSENT}]}))
    assert "neighbor 198.51.100.6 prefix-list PL-B out" in msg


def test_a_redistribution_naming_the_route_map_counts(fleet):
    """`redistribute connected route-map RM-B` (no binding of the model stands for it) keeps RM-B in use; the
    old code deleted it and left the redistribution naming nothing."""
    text = R1.replace("  neighbor 198.51.100.6 prefix-list PL-B out\n", "  redistribute connected route-map RM-B\n")
    msg = refused(fleet, change({"route_maps": [{"name": "RM-B", **ABSENT}]}), text=text)
    assert "removes route-map RM-B, still used by the line 'redistribute connected route-map RM-B'" in msg


def test_deleting_an_object_together_with_its_users_is_allowed(fleet):
    p = plan(fleet, change({"prefix_lists": [{"name": "PL-A", **ABSENT}], "route_maps": [{"name": "RM-A", **ABSENT}],
                            "bindings": [UNBIND_2]}))
    cmds = p.commands + p.switch_commands
    assert any("no ip prefix-list PL-A" in c for c in cmds) and any("no route-map RM-A" in c for c in cmds)


def test_rebinding_away_then_deleting_is_allowed(fleet):
    p = plan(fleet, change({"route_maps": [{"name": "RM-A", **ABSENT},
                                           {"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit",
                                                                           "match": {"prefix_list": "PL-A"}}]}],
                            "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-NEW"}]}))
    assert any("no route-map RM-A" in c for c in p.commands + p.switch_commands)


def test_a_route_map_edited_to_stop_matching_the_list_releases_it(fleet):
    p = plan(fleet, change({"prefix_lists": [{"name": "PL-A", **ABSENT}],
                            "route_maps": [{"name": "RM-A", "entries": [{"seq": 10, "action": "permit",
                                                                          "match": {"prefix_list": "PL-C"}}]}]}))
    assert any("no ip prefix-list PL-A" in c for c in p.commands + p.switch_commands)


def test_an_unused_object_is_deleted_as_before(fleet):
    text = R1 + "ip prefix-list PL-UNUSED seq 10 permit 198.18.9.0/24\n"
    p = plan(fleet, change({"prefix_lists": [{"name": "PL-UNUSED", **ABSENT}]}), text=text)
    assert any("no ip prefix-list PL-UNUSED" in c for c in p.commands)


# ---- filters: an attached filter's interface or hook would pass everything

def _acl(attachments) -> ConcreteFilter:
    return ConcreteFilter(name="SERVER-EDGE", attachments=tuple(attachments), rules=(
        Rule(name="web", family="ipv4", destinations=("198.51.100.128/25",), action="accept"),))


def _filter_snapshot(fleet, host: str) -> str:
    from pipeline.model.resolve import Desired
    from pipeline.model import DevicePolicy

    h = fleet.hosts[host]
    f = _acl([h.data.firewall.attachments["server-edge"]])
    return get_driver(h.platform).render([Desired("filter", f.name, f)], h, known=DevicePolicy())


@pytest.mark.parametrize("host", ["ios1", "eos1", "junos1"])
def test_an_attached_filter_is_not_deleted(fleet, host):
    text = _filter_snapshot(fleet, host)
    msg = refused(fleet, change(firewall={"filters": [{"name": "SERVER-EDGE", **ABSENT}]}, hosts=(host,)), text=text, host=host)
    assert f"{host}: " in msg and "filter SERVER-EDGE" in msg and "no longer be filtered" in msg
    point = fleet.hosts[host].data.firewall.attachments["server-edge"].interface
    assert point.split(".")[0] in msg


@pytest.mark.parametrize("host", ["ios1", "junos1"])
def test_naming_the_points_in_the_absent_filter_detaches_it_knowingly(fleet, host):
    text = _filter_snapshot(fleet, host)
    p = plan(fleet, change(firewall={"filters": [{"name": "SERVER-EDGE", "attach": ["server-edge"], **ABSENT}]},
                           hosts=(host,)), text=text, host=host)
    assert p.commands


def test_an_nftables_hook_chain_is_not_deleted_unless_another_filter_takes_the_hook(fleet):
    from pipeline.model import DevicePolicy

    h = fleet.hosts["fw1"]
    running = DevicePolicy(filters={"SERVER-EDGE": _acl([h.data.firewall.attachments["server-edge"]])})
    gone = {"name": "SERVER-EDGE", **ABSENT}
    msg = refused(fleet, change(firewall={"filters": [gone]}, hosts=("fw1",)), text="{}", host="fw1", parsed=running)
    assert "hook forward" in msg
    new = {"name": "EDGE-V2", "attach": ["server-edge"],
           "terms": [{"name": "web", "action": "accept", "destinations": ["198.51.100.128/25"]}]}
    p = plan(fleet, change(firewall={"filters": [gone, new]}, hosts=("fw1",)), text="{}", host="fw1", parsed=running)
    assert p.commands


def test_plan_cli_exits_non_zero_naming_device_object_and_user(tmp_path):
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    (snaps / "r1.cfg").write_text(R1)
    f = tmp_path / "CHG-9.yaml"
    f.write_text("id: CHG-9\ntitle: drop RM-A\nrequested_by: x\ntargets: {hosts: [r1]}\n"
                 "routing:\n  route_maps:\n    - {name: RM-A, state: absent}\n")
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "plan", str(f), "--snapshots", str(snaps),
                          "--inventory", str(ROOT / "tests" / "fixtures" / "fleet")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode != 0
    both = out.stdout + out.stderr
    assert "r1" in both and "route-map RM-A" in both and "198.51.100.2 ipv4 in" in both
    assert "Traceback" not in both
