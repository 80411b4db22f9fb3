"""Bugs the device simulators found in netchange's plans, each as the smallest running config + change that
shows it. Issue 15's three first; then what the property tests found (docs/SIMULATORS.md, "Findings").
Every one failed on the code before its fix (commit cd950e2; findings 10-12 checked against the tree
before their own fix commits); they guard the fixes now."""

from __future__ import annotations

from pipeline.model.change import ChangeRequest

from sim import simulator
from sim.harness import host_for, run_change


def change(routing: dict | None = None, firewall: dict | None = None) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-9002", "title": "regression", "requested_by": "tests/sim",
                                         "targets": {"hosts": ["dut"]}, "routing": routing or {}, "firewall": firewall or {}})


def run(platform: str, running: str, chg: ChangeRequest, attachments: dict | None = None):
    return run_change(platform, running, chg, host_for(platform, simulator(platform, running), attachments=attachments))


IOS_EDGE = """hostname ios1
interface GigabitEthernet0/1
 ip address 203.0.113.1 255.255.255.0
 ip access-group SERVER-EDGE out
!
router bgp 65101
 neighbor 198.51.100.2 remote-as 65002
 address-family ipv4
  neighbor 198.51.100.2 activate
  neighbor 198.51.100.2 route-map RM-UP-IN in
 exit-address-family
!
ip prefix-list PL-UP-IN seq 10 permit 203.0.113.0/24
ip prefix-list PL-UP-IN seq 20 permit 198.18.0.0/15 le 24
!
route-map RM-UP-IN permit 10
 match ip address prefix-list PL-UP-IN
 set local-preference 150
!
ip access-list extended SERVER-EDGE
 remark web
 permit tcp any host 203.0.113.10 eq 443
"""

JUNOS_EDGE = """set routing-options autonomous-system 65104
set interfaces ge-0/0/1 unit 0 family inet address 203.0.113.1/24
set policy-options prefix-list PL-UP-IN 203.0.113.0/24
set policy-options policy-statement RM-UP-IN term 10 from prefix-list PL-UP-IN
set policy-options policy-statement RM-UP-IN term 10 then local-preference 200
set policy-options policy-statement RM-UP-IN term 10 then accept
set policy-options policy-statement RM-UP-IN term netchange-final-reject then reject
set protocols bgp group AS65002 type external
set protocols bgp group AS65002 peer-as 65002
set protocols bgp group AS65002 neighbor 198.51.100.2 import RM-UP-IN
"""


# ---------------------------------------------------------------- issue 15

def test_junos_widening_a_prefix_list_keeps_the_policy_that_uses_it_committable():
    """Issue 15: widening a plain prefix-list turns it into a route-filter-list; the plan deletes
    `policy-options prefix-list PL-UP-IN` while `policy-statement RM-UP-IN ... from prefix-list PL-UP-IN`
    still names it and writes no `from route-filter-list`: the commit check refuses the candidate."""
    r = run("juniper_junos", JUNOS_EDGE, change(routing={"prefix_lists": [
        {"name": "PL-UP-IN", "afi": "ipv4", "entries": [{"seq": 5, "action": "permit", "prefix": "203.0.113.0/24", "le": 25}]}]}))
    assert not r.problems, r.report()
    assert "from route-filter-list PL-UP-IN" in r.final, r.final


def test_ios_filter_replacement_converges():
    """Issue 15: the versioned swap creates SERVER-EDGE-v1 and removes SERVER-EDGE; planning again from
    the device recreates SERVER-EDGE and leaves -v1 behind, so "re-plan is empty" never holds."""
    r = run("cisco_ios", IOS_EDGE, change(firewall={"filters": [{"name": "SERVER-EDGE", "attach": ["server-edge"], "terms": [
        {"name": "web", "destinations": ["203.0.113.10/32"], "protocols": ["tcp"], "destination_ports": [443], "action": "accept"},
        {"name": "ssh", "destinations": ["203.0.113.10/32"], "protocols": ["tcp"], "destination_ports": [22], "action": "accept"}]}]}),
        attachments={"server-edge": {"interface": "GigabitEthernet0/1", "direction": "out"}})
    assert not r.problems, r.report()


def test_ios_prefix_list_entry_edit_leaves_no_window():
    """Issue 15: `no ip prefix-list PL-UP-IN seq 20` then `... seq 20 permit ...`: in between, routes seq 20
    matched (before and after) are denied by the bound route-map."""
    r = run("cisco_ios", IOS_EDGE, change(routing={"prefix_lists": [{"name": "PL-UP-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "203.0.113.0/24"},
        {"seq": 20, "action": "permit", "prefix": "198.18.0.0/15", "le": 23}]}]}))
    assert not r.problems, r.report()


def test_ios_route_map_set_edit_leaves_no_window():
    """Issue 15: `no set local-preference 150` then `set local-preference 250`: in between the entry sets
    no local-preference at all (neither the old nor the new policy)."""
    r = run("cisco_ios", IOS_EDGE, change(routing={"route_maps": [{"name": "RM-UP-IN", "entries": [
        {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-UP-IN"}, "set": {"local_preference": 250}}]}]}))
    assert not r.problems, r.report()


# ---------------------------------------------------------------- found by the property tests

def test_community_and_as_path_lists_with_sequence_numbers_converge():
    """tests/render/cases.py's own community-list (`seq: 10`) on IOS: the device keeps no sequence number,
    so every re-plan deletes and recreates the list (and the route-maps matching it see it missing)."""
    running = "router bgp 65101\n neighbor 198.51.100.2 remote-as 65002\n"
    r = run("cisco_ios", running, change(routing={"community_lists": [
        {"name": "CL-STD", "entries": [{"seq": 10, "action": "permit", "communities": ["65001:100", "no-export"]}]}],
        "as_path_lists": [{"name": "100", "entries": [{"seq": 10, "action": "permit", "regex": "^65002_"}]}]}))
    assert not r.problems, r.report()


def test_junos_prefix_list_sequence_numbers_do_not_make_the_plan_delete_the_list():
    """Junos prefix-lists have no sequence numbers; netchange numbers what it reads 5, 10, ... A change that
    numbers its single entry 10 never converges, and the re-plan is `delete prefix-list X` / `set X ...` /
    `delete prefix-list X`: applied, it removes the list a policy uses."""
    r = run("juniper_junos", JUNOS_EDGE, change(routing={
        "prefix_lists": [{"name": "PL-NEW", "afi": "ipv4", "entries": [{"seq": 10, "action": "permit", "prefix": "198.18.96.0/20"}]}],
        "route_maps": [{"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-NEW"},
                                                       "set": {"local_preference": 120}}]}],
        "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-NEW"}]}))
    assert not r.problems, r.report()


def test_prefix_list_entries_written_as_the_device_prints_them_converge():
    """AOS-CX prints `ip prefix-list tftp seq 10 permit 10.92.100.60/32 ge 32 le 32` (corpus: canu); a change
    that copies the entry as printed never converges: the parser drops the redundant ge/le, the change keeps it."""
    running = ("ip prefix-list tftp seq 10 permit 10.92.100.60/32 ge 32 le 32\n"
               "route-map RM-TFTP permit seq 10\n    match ip address prefix-list tftp\n"
               "router bgp 65533\n    neighbor 192.168.4.4 remote-as 65533\n    address-family ipv4 unicast\n"
               "        neighbor 192.168.4.4 route-map RM-TFTP in\n    exit-address-family\n")
    r = run("aruba_aoscx", running, change(routing={"prefix_lists": [{"name": "tftp", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "10.92.100.60/32", "ge": 32, "le": 32},
        {"seq": 20, "action": "permit", "prefix": "10.94.100.60/32", "ge": 32, "le": 32}]}]}))
    assert not r.problems, r.report()


def test_ios_editing_the_only_entry_of_a_prefix_list_never_leaves_the_route_map_matching_everything():
    """IOS drops a prefix-list with its last entry, and a route-map matching a missing prefix-list matches
    every route: `no ... seq 5` on a one-entry list makes the bound route-map accept (and set) everything."""
    running = IOS_EDGE.replace("ip prefix-list PL-UP-IN seq 20 permit 198.18.0.0/15 le 24\n", "")
    r = run("cisco_ios", running, change(routing={"prefix_lists": [{"name": "PL-UP-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "203.0.113.0/24", "le": 25}]}]}))
    assert not r.problems, r.report()


def test_new_route_map_entry_is_never_live_before_its_match():
    """`route-map RM-UP-IN permit 20` creates an entry that matches every route until its `match` line
    arrives: on a line-by-line platform the bound route-map accepts everything in between."""
    r = run("cisco_ios", IOS_EDGE, change(routing={"route_maps": [{"name": "RM-UP-IN", "entries": [
        {"seq": 10, "action": "permit", "match": {"prefix_list": "PL-UP-IN"}, "set": {"local_preference": 150}},
        {"seq": 20, "action": "permit", "match": {"prefix_list": "PL-UP-IN"}, "set": {"local_preference": 90}}]}]}))
    assert not r.problems, r.report()


def test_aoscx_acl_sequence_edit_never_opens_the_interface():
    """AOS-CX ACL edits remove every changed sequence number first and add the new lines after: the ACL on
    the interface meanwhile passes (or drops) traffic neither version would."""
    running = ("interface 1/1/1\n    apply access-list ip EDGE out\n"
               "access-list ip EDGE\n    10 comment web\n    10 permit tcp any 203.0.113.10 eq 443\n"
               "    20 comment rest\n    20 deny any any any\n")
    r = run("aruba_aoscx", running, change(firewall={"filters": [{"name": "EDGE", "attach": ["edge"], "terms": [
        {"name": "ssh", "destinations": ["203.0.113.10/32"], "protocols": ["tcp"], "destination_ports": [22], "action": "accept"},
        {"name": "web", "destinations": ["203.0.113.10/32"], "protocols": ["tcp"], "destination_ports": [443], "action": "accept"},
        {"name": "rest", "sources": ["0.0.0.0/0"], "action": "deny"}]}]}), attachments={"edge": {"interface": "1/1/1", "direction": "out"}})
    assert not r.problems, r.report()


def test_versioned_gc_keeps_route_maps_peer_groups_and_redistribution_still_use():
    """Versioned strategy: the switch re-points the neighbor's own binding at RM-UP-IN.nc1, but the peer
    group's binding and `redistribute connected route-map RM-UP-IN` still name the old map, which the GC
    then deletes (IOS: a neighbor route-map naming no route-map denies everything)."""
    running = ("router bgp 65101\n neighbor UPSTREAM peer-group\n neighbor UPSTREAM remote-as 65002\n"
               " neighbor 198.51.100.2 peer-group UPSTREAM\n address-family ipv4\n  neighbor UPSTREAM route-map RM-UP-IN in\n"
               "  redistribute connected route-map RM-UP-IN\n exit-address-family\n!\n"
               "ip prefix-list PL-UP-IN seq 10 permit 203.0.113.0/24\n!\n"
               "route-map RM-UP-IN permit 10\n match ip address prefix-list PL-UP-IN\n set local-preference 150\n")
    chg = change(routing={"prefix_lists": [{"name": "PL-UP-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "203.0.113.0/24", "le": 25}]}]})
    r = run_change("cisco_ios", running, chg, host_for("cisco_ios", simulator("cisco_ios", running)), strategy="versioned")
    assert not r.problems, r.report()


def test_junos_binding_goes_to_the_group_that_holds_the_neighbor():
    """Finding 10: the binding was written in group AS<remote-as>, a second group for a neighbor the running
    config holds in UPSTREAM; Junos refuses a neighbor in two groups at commit."""
    running = JUNOS_EDGE.replace("group AS65002", "group UPSTREAM")
    r = run("juniper_junos", running, change(routing={
        "route_maps": [{"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-UP-IN"},
                                                        "set": {"local_preference": 300}}]}],
        "bindings": [{"neighbor": "198.51.100.2", "direction": "in", "route_map": "RM-NEW"}]}))
    assert not r.problems, r.report()
    assert "set protocols bgp group UPSTREAM neighbor 198.51.100.2 import RM-NEW" in r.final and "AS65002" not in r.final


def test_eos_versioned_switch_repoints_the_router_level_binding():
    """Finding 11: EOS binds at the router level (corpus canu sw-edge-001); the versioned switch wrote an
    address-family binding beside it and left the router-level line naming the old route-map, which GC
    then deleted (a binding naming a missing route-map)."""
    running = ("router bgp 65102\n   neighbor 198.51.100.2 remote-as 65002\n   neighbor 198.51.100.2 route-map RM-UP-IN in\n"
               "!\nip prefix-list PL-UP-IN\n   seq 10 permit 203.0.113.0/24\n!\n"
               "route-map RM-UP-IN permit 10\n   match ip address prefix-list PL-UP-IN\n   set local-preference 150\n")
    chg = change(routing={"prefix_lists": [{"name": "PL-UP-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "203.0.113.0/24", "le": 25}]}]})
    r = run_change("arista_eos", running, chg, host_for("arista_eos", simulator("arista_eos", running)), strategy="versioned")
    assert not r.problems, r.report()
    assert "neighbor 198.51.100.2 route-map RM-UP-IN.nc1 in" in r.final and "address-family" not in r.final, r.final


def test_nxos_binding_in_a_neighbor_block_opened_with_remote_as_converges():
    """Finding 12: NX-OS prints `neighbor X remote-as N` as the neighbor block's own line (corpus ciscoconfparse2
    sample_01); the parser read it as a one-line setting and lost the bindings under it, so every plan bound
    the route-map again and the re-plan was never empty."""
    running = ("router bgp 65105\n  neighbor 198.51.100.2 remote-as 65002\n    address-family ipv4 unicast\n"
               "      route-map RM-UP-IN in\nip prefix-list PL-UP-IN seq 10 permit 203.0.113.0/24\n"
               "route-map RM-UP-IN permit 10\n  match ip address prefix-list PL-UP-IN\n  set local-preference 150\n")
    r = run("cisco_nxos", running, change(routing={"bindings": [
        {"neighbor": "198.51.100.2", "direction": "in", "route_map": "RM-UP-IN"}]}))
    assert r.plan is not None and r.plan.empty, r.plan.ops if r.plan else r.refused
    r = run("cisco_nxos", running, change(routing={"prefix_lists": [{"name": "PL-UP-IN", "afi": "ipv4", "entries": [
        {"seq": 10, "action": "permit", "prefix": "203.0.113.0/24", "le": 25}]}]}))
    assert not r.problems, r.report()
