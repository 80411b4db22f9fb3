"""What each simulator does with the commands netchange sends, as its platform documents it (sources in
each simulator's docstring), and that the simulators stay independent of what they check."""

from __future__ import annotations

import ast
import ipaddress
from pathlib import Path

import pytest

from sim import PLATFORMS, Rejected, Unmodelled, simulator
from sim.policy import Route, run_route_map

NET = ipaddress.ip_network


def typed(platform: str, text: str, *commands: str):
    sim = simulator(platform, text)
    sim.enter_config() if hasattr(sim, "enter_config") else None
    for c in commands:
        sim.apply(c)
    return sim


def route(prefix: str) -> Route:
    return Route(NET(prefix))


IOS = """router bgp 65101
 neighbor 198.51.100.2 remote-as 65002
 neighbor PG peer-group
 neighbor PG remote-as 65003
 neighbor 198.51.100.6 peer-group PG
 address-family ipv4
  neighbor 198.51.100.2 route-map RM in
 exit-address-family
!
ip prefix-list PL seq 10 permit 203.0.113.0/24
!
route-map RM permit 10
 match ip address prefix-list PL
 set local-preference 150
"""


# ---------------------------------------------------------------- independence

def test_simulators_do_not_import_what_they_check():
    """The simulators are the independent check of netchange's renderers and parsers: no simulator
    module may import pipeline.parsers, pipeline.drivers or templates (harness/changes are test glue)."""
    here = Path(__file__).parent
    glue = {"harness.py", "changes.py", "conftest.py", "generate.py"}
    for f in sorted(here.glob("*.py")):
        if f.name in glue or f.name.startswith("test_"):
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                assert not n.startswith("pipeline"), f"{f.name} imports {n}"


# ---------------------------------------------------------------- Cisco IOS

def test_ios_refuses_to_overwrite_a_prefix_list_sequence_number():
    with pytest.raises(Rejected, match="Duplicate sequence number"):
        typed("cisco_ios", IOS, "ip prefix-list PL seq 10 permit 198.18.0.0/15")
    sim = typed("cisco_ios", IOS, "ip prefix-list PL seq 10 permit 203.0.113.0/24")  # the same entry again is fine
    assert "ip prefix-list PL seq 10 permit 203.0.113.0/24" in sim.show()


def test_ios_refuses_an_impossible_length_range():
    with pytest.raises(Rejected, match="Invalid prefix range"):
        typed("cisco_ios", IOS, "ip prefix-list PL seq 20 permit 10.0.0.0/8 ge 8")


def test_ios_route_map_matching_a_missing_prefix_list_matches_every_route():
    """[IEOC]: the match is ignored, so removing a list's last entry opens the route-map."""
    sim = typed("cisco_ios", IOS, "no ip prefix-list PL seq 10")
    view = sim.view()
    assert ("ipv4", "PL") not in view.prefix_lists, "a list whose last entry went is gone"
    assert run_route_map(view, "RM", route("10.1.0.0/16")).action == "permit"
    assert {(r.kind, r.name) for r in view.dangling()} == {("prefix_list", "PL")}


def test_ios_new_route_map_entry_matches_everything_until_its_match_arrives():
    sim = typed("cisco_ios", IOS, "route-map RM permit 20")
    assert run_route_map(sim.view(), "RM", route("10.1.0.0/16")).action == "permit"
    sim.apply("match ip address prefix-list PL")
    assert run_route_map(sim.view(), "RM", route("10.1.0.0/16")).action == "deny"


def test_ios_route_map_clause_edits():
    sim = typed("cisco_ios", IOS, "route-map RM permit 10", "set local-preference 250", "match ip address prefix-list PL2",
                "no set local-preference 999")
    entry = sim.state.route_maps["RM"].entries[0]
    assert entry.clauses == ("match ip address prefix-list PL PL2",)
    sim.apply("route-map RM deny 10")
    assert sim.state.route_maps["RM"].entries[0].action == "deny" and sim.state.route_maps["RM"].entries[0].clauses


def test_ios_bgp_bindings_need_a_neighbor_and_peer_group_members_share_outbound_policy():
    with pytest.raises(Rejected, match="Specify remote-as or peer-group"):
        typed("cisco_ios", IOS, "router bgp 65101", "address-family ipv4", "neighbor 198.51.100.99 route-map RM in")
    with pytest.raises(Rejected, match="peer-group member"):
        typed("cisco_ios", IOS, "router bgp 65101", "address-family ipv4", "neighbor 198.51.100.6 route-map RM out")
    sim = typed("cisco_ios", IOS, "router bgp 65101", "address-family ipv4", "neighbor PG route-map RM out",
                "neighbor 198.51.100.6 route-map RM in")
    att = sim.view().attachments
    assert att[("bgp", "198.51.100.6", "ipv4", "out")] == ("route_map", "RM")  # inherited from the group
    assert att[("bgp", "198.51.100.6", "ipv4", "in")] == ("route_map", "RM")
    with pytest.raises(Rejected, match="BGP is already running"):
        typed("cisco_ios", IOS, "router bgp 65999")


def test_ios_modes_and_leaving_configuration_mode():
    sim = typed("cisco_ios", IOS, "route-map RM permit 20", "ip prefix-list PL seq 20 permit 198.18.0.0/15 le 24")
    assert [e.seq for e in sim.state.prefix_lists[("ipv4", "PL")].entries] == [10, 20]  # fell through to global
    sim.apply("exit")  # at the top: leaves configuration mode
    with pytest.raises(Rejected, match="not in configuration mode"):
        sim.apply("ip prefix-list PL seq 30 permit 198.18.0.0/16")
    with pytest.raises(Unmodelled):
        typed("cisco_ios", IOS, "snmp-server community public RO")


def test_ios_interface_acl_replaced_in_one_command_and_physical_interfaces_are_not_created():
    text = "interface GigabitEthernet0/1\n ip access-group A out\n"
    sim = typed("cisco_ios", text, "interface GigabitEthernet0/1", "ip access-group B out")
    assert sim.view().attachments[("interface", "GigabitEthernet0/1", "ipv4", "out")] == ("acl", "B")
    with pytest.raises(Rejected):
        typed("cisco_ios", text, "interface GigabitEthernet0/9")


# ---------------------------------------------------------------- Arista EOS

EOS = """ip prefix-list PL
   seq 10 permit 203.0.113.0/24
!
route-map RM permit 10
   match ip address prefix-list PL
   set local-preference 150
!
router bgp 65102
   neighbor 198.51.100.2 remote-as 65002
   address-family ipv4
      neighbor 198.51.100.2 route-map RM in
"""


def test_eos_session_is_not_live_until_commit_and_abort_discards_it():
    sim = typed("arista_eos", EOS, "configure session s1", "ip prefix-list PL", "no seq 10")
    assert ("ipv4", "PL") in sim.live_view().prefix_lists and sim.live_view().prefix_lists[("ipv4", "PL")]
    assert "seq 10" in sim.show()
    sim.apply("abort")
    assert "seq 10 permit 203.0.113.0/24" in sim.show()
    sim = typed("arista_eos", EOS, "configure session s2", "ip prefix-list PL", "seq 20 permit 198.18.0.0/15 le 24", "commit")
    assert "seq 20 permit 198.18.0.0/15 le 24" in sim.show()


def test_eos_commit_timer_reverts_unless_confirmed():
    sim = typed("arista_eos", EOS, "configure session s1", "no route-map RM", "commit timer 00:05:00")
    assert "route-map RM permit" not in sim.show()
    sim.expire_timer()
    assert "route-map RM permit 10" in sim.show()
    sim = typed("arista_eos", EOS, "configure session s1", "no route-map RM", "commit timer 00:05:00")
    sim.apply("configure session s1 commit")
    sim.expire_timer()
    assert "route-map RM permit" not in sim.show()


def test_eos_acl_entries_are_numbered_and_printed_with_their_numbers():
    sim = typed("arista_eos", "", "ip access-list A", "remark web", "permit tcp any host 203.0.113.10 eq 443", "no 10", "counters per-entry")
    assert sim.show().splitlines()[:3] == ["ip access-list A", "   counters per-entry", "   20 permit tcp any host 203.0.113.10 eq 443"]
    with pytest.raises(Rejected, match="Duplicate"):
        sim.apply("20 deny ip any any")


# ---------------------------------------------------------------- Aruba AOS-CX

def test_aoscx_comment_shares_its_ace_number_and_no_seq_removes_both():
    sim = typed("aruba_aoscx", "", "access-list ip A", "10 comment web", "10 permit tcp any 203.0.113.10 eq 443",
                "20 comment rest", "20 deny any any any", "no 10")
    assert sim.show().splitlines()[:3] == ["access-list ip A", "    20 comment rest", "    20 deny any any any"]


def test_aoscx_peer_group_outbound_route_map_overrides_the_members():
    text = ("router bgp 65103\n    neighbor PG peer-group\n    neighbor 198.51.100.2 remote-as 65002\n"
            "    neighbor 198.51.100.2 peer-group PG\n    address-family ipv4 unicast\n"
            "        neighbor 198.51.100.2 route-map OWN out\n        neighbor PG route-map GROUP out\n    exit-address-family\n")
    assert simulator("aruba_aoscx", text).view().attachments[("bgp", "198.51.100.2", "ipv4", "out")] == ("route_map", "GROUP")


# ---------------------------------------------------------------- Cisco NX-OS

def test_nxos_binds_route_maps_per_neighbor_and_address_family_and_inherits_templates():
    text = ("router bgp 65001\n  template peer UP\n    address-family ipv4 unicast\n      route-map T-IN in\n"
            "  neighbor 198.51.100.2\n    remote-as 65002\n    inherit peer UP\n    address-family ipv4 unicast\n      route-map OWN-OUT out\n")
    sim = typed("cisco_nxos", text, "router bgp 65001", "neighbor 198.51.100.2", "address-family ipv4 unicast", "route-map NEW-OUT out")
    att = sim.view().attachments
    assert att[("bgp", "198.51.100.2", "ipv4", "in")] == ("route_map", "T-IN")
    assert att[("bgp", "198.51.100.2", "ipv4", "out")] == ("route_map", "NEW-OUT")
    assert sim.bgp_facts() == (65001, {"198.51.100.2": 65002})


def test_nxos_session_is_not_live_until_commit_and_a_checkpoint_rolls_back():
    """[NX-SES]: the deployer's CheckpointSessionMode sends `checkpoint NAME`, `configure session NAME`, the
    lines, `verify`, `commit`; `rollback running-config checkpoint NAME` restores what the checkpoint saw."""
    text = ("ip prefix-list PL seq 10 permit 203.0.113.0/24\nroute-map RM permit 10\n  match ip address prefix-list PL\n"
            "router bgp 65001\n  neighbor 198.51.100.2 remote-as 65002\n    address-family ipv4 unicast\n      route-map RM in\n")
    sim = typed("cisco_nxos", text, "checkpoint nc-1", "configure session nc-1", "no ip prefix-list PL seq 10",
                "ip prefix-list PL seq 10 permit 203.0.113.0/25", "verify")
    assert "203.0.113.0/24" in sim.show() and "203.0.113.0/25" not in sim.show()
    sim.apply("commit")
    assert "203.0.113.0/25" in sim.show() and "203.0.113.0/24" not in sim.show()
    sim.apply("rollback running-config checkpoint nc-1")
    assert "203.0.113.0/24" in sim.show() and "203.0.113.0/25" not in sim.show()
    sim = typed("cisco_nxos", text, "configure session s2", "no route-map RM", "abort")
    assert "route-map RM permit 10" in sim.show()


def test_nxos_neighbor_remote_as_line_opens_the_block_and_large_community_lists():
    text = "router bgp 65001\n  neighbor 198.51.100.2 remote-as 65002\n"
    sim = typed("cisco_nxos", text, "ip large-community-list standard CL seq 5 permit 65001:1:3", "router bgp 65001",
                "neighbor 198.51.100.2", "address-family ipv4 unicast", "route-map RM in")
    assert sim.show().splitlines()[:4] == ["router bgp 65001", "  neighbor 198.51.100.2 remote-as 65002",
                                           "    address-family ipv4 unicast", "      route-map RM in"]
    assert "ip large-community-list standard CL seq 5 permit 65001:1:3" in sim.show()


# ---------------------------------------------------------------- Junos

JUNOS = """set routing-options autonomous-system 65104
set policy-options prefix-list PL 203.0.113.0/24
set policy-options policy-statement RM term 10 from prefix-list PL
set policy-options policy-statement RM term 10 then local-preference 200
set policy-options policy-statement RM term 10 then accept
set protocols bgp group G peer-as 65002
set protocols bgp group G neighbor 198.51.100.2 import RM
set firewall family inet filter F term t then accept
set interfaces ge-0/0/1 unit 0 family inet filter input F
"""


@pytest.mark.parametrize("edit, error", [
    ("delete policy-options prefix-list PL", "Prefix list PL referenced in policy-statement RM term 10"),
    ("delete policy-options policy-statement RM", "Policy RM referenced in protocols bgp group G neighbor 198.51.100.2"),
    ("delete firewall family inet filter F", "Firewall filter F referenced in interfaces ge-0/0/1 unit 0 family inet"),
    ("set policy-options policy-statement RM term 10 then community add C", "Community C referenced"),
])
def test_junos_commit_check_refuses_dangling_references(edit, error):
    sim = typed("juniper_junos", JUNOS, edit)
    with pytest.raises(Rejected, match=error):
        sim.apply("commit check")
    with pytest.raises(Rejected, match="configuration check-out failed"):
        sim.apply("commit")
    assert "prefix-list PL" in sim.show(), "nothing was activated"


def test_junos_candidate_is_not_live_and_commit_confirmed_rolls_back_unless_confirmed():
    sim = typed("juniper_junos", JUNOS, "set policy-options policy-statement RM term 10 then local-preference 300")
    assert "local-preference 200" in sim.show() and "local-preference 300" not in sim.show()
    sim.apply("commit confirmed 5")
    assert "local-preference 300" in sim.show()
    sim.expire_confirm()
    assert "local-preference 200" in sim.show(), "an unconfirmed commit rolls back by itself"
    sim = typed("juniper_junos", JUNOS, "set policy-options policy-statement RM term 10 then local-preference 300",
                "commit confirmed 5", "commit")
    sim.expire_confirm()
    assert "local-preference 300" in sim.show()
    sim.apply("rollback 1")
    sim.apply("commit")
    assert "local-preference 200" in sim.show()


def test_junos_set_replaces_single_values_and_flow_actions_and_insert_orders_terms():
    sim = typed("juniper_junos", JUNOS, "set policy-options policy-statement RM term 10 then reject",
                "set policy-options policy-statement RM term 5 then accept",
                "insert policy-options policy-statement RM term 5 before term 10", "commit")
    out = sim.show()
    assert "term 10 then accept" not in out and "term 10 then reject" in out
    assert out.index("term 5 then accept") < out.index("term 10 from prefix-list PL")
    sim = typed("juniper_junos", JUNOS, "delete policy-options policy-statement RM term 10 from", "commit")
    assert "term 10 from" not in sim.show() and "term 10 then accept" in sim.show()


# ---------------------------------------------------------------- every simulator

@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_simulator_prints_what_it_loaded_and_reports_its_bgp(platform):
    from sim.generate import Spec, running_config

    spec = Spec(asn=65010, prefix_lists={"PL-A": [(10, "permit", "198.18.0.0/16", None, 24)]},
                route_maps={"RM-A": [(10, "permit", "PL-A", 150)]}, neighbors={"198.51.100.2": (65020, "RM-A", None)})
    text = running_config(platform, spec)
    sim = simulator(platform, text)
    assert simulator(platform, sim.show()).show() == sim.show()
    assert sim.bgp_facts() == (65010, {"198.51.100.2": 65020})
    assert not sim.view().dangling()


# ---------------------------------------------------------------- the drivers' commit modes, delivered

HELD_PLATFORMS = {
    # platform: (running config, how the held commit goes away unconfirmed)
    "cisco_ios": ("archive\n path flash:cfg-\n!\nip prefix-list PL seq 10 permit 203.0.113.0/24\n", "expire_revert"),
    "aruba_aoscx": ("ip prefix-list PL seq 10 permit 203.0.113.0/24\n", "expire_checkpoint"),
    "arista_eos": ("ip prefix-list PL\n   seq 10 permit 203.0.113.0/24\n", "expire_timer"),
    "juniper_junos": ("set policy-options prefix-list PL 203.0.113.0/24\n", "expire_confirm"),
}


@pytest.mark.parametrize("platform", sorted(HELD_PLATFORMS))
@pytest.mark.parametrize("confirmed", [True, False])
def test_a_held_commit_sent_by_the_drivers_commit_mode_stays_only_when_confirmed(platform, confirmed):
    """The harness delivers plans through the driver's own commit mode (sim.harness.SimCli): the simulator
    takes every command of the held push (revert timer, auto checkpoint, session commit timer, commit
    confirmed) and of the confirmation, and reverts by itself when the confirmation never comes."""
    from pipeline.drivers import get_driver
    from sim.harness import confirm, deliver

    running, expire = HELD_PLATFORMS[platform]
    sim = simulator(platform, running)
    mode = get_driver(platform).commit_mode_for(running)
    line = ("delete policy-options prefix-list PL" if platform == "juniper_junos" else
            "no ip prefix-list PL seq 10 permit 203.0.113.0/24" if platform == "aruba_aoscx" else "no ip prefix-list PL")
    held = deliver(sim, mode, [line], "t1", None, hold=300)
    assert held is not None and "203.0.113.0/24" not in sim.show()
    if confirmed:
        confirm(sim, mode, held, None)
    getattr(sim, expire)()
    assert ("203.0.113.0/24" in sim.show()) is not confirmed


def test_ios_refuses_a_revert_timer_without_an_archive_path():
    sim = simulator("cisco_ios", "hostname r1\n")
    with pytest.raises(Rejected, match="archive"):
        sim.enter_config("configure terminal revert timer 5")
