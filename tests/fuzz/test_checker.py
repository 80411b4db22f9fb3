"""The rendered-lines checker accepts what netchange legitimately prints on every platform and flags each
way a line can escape the change: an injected command, an object the change does not name, a foreign
`router bgp`, an unnamed binding, an untouched nftables chain or base-chain policy, a refresh of an
unaffected session, a device command with a line break, a removal of an object still in use."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
from pipeline.inventory import Inventory
from pipeline.model.objects import ObjectStore
from pipeline.plan.planner import plan_device
from pipeline.project import load_change

from .checker import check_lines, check_refresh, check_show_commands, scope_for
from .harness import FLEET, PLATFORM_HOST, REPO
from .running import nft_ruleset

GOLDEN = REPO / "tests" / "render" / "golden"
EXAMPLES = REPO / "policies" / "changes" / "examples"


@pytest.fixture(scope="module")
def fleet() -> Inventory:
    return Inventory(FLEET)


def _golden_cases():
    from render.cases import CASES  # tests/render/cases.py (tests/ is on the path)

    for f in sorted(GOLDEN.glob("*.txt")):
        case, target = f.stem.split(".", 1)
        if case.startswith("CHG-"):
            yield pytest.param(load_change(EXAMPLES / f"{case}.yaml")[0], target, f, id=f.stem)
        elif case.startswith("term-"):  # one firewall match per file (tests/render/test_term_capabilities.py)
            from render.test_term_capabilities import one_term

            yield pytest.param(one_term(case.removeprefix("term-")), PLATFORM_HOST[target], f, id=f.stem)
        else:
            yield pytest.param(CASES[case], PLATFORM_HOST[target], f, id=f.stem)


@pytest.mark.parametrize("change, host, path", list(_golden_cases()))
def test_every_golden_render_passes(fleet, change, host, path):
    h = fleet.hosts[host]
    assert check_lines(h.platform.value, path.read_text().splitlines(), scope_for(change, h)) == []


@pytest.mark.parametrize("cid, host", [("CHG-1001", "fw1"), ("CHG-1002", "r1"), ("CHG-1004", "r1"),
                                       *[("CHG-1003", h) for h in ("r1", "ios1", "eos1", "cx1", "junos1", "nx1")]])
def test_plans_of_the_examples_pass(fleet, cid, host):
    change = load_change(EXAMPLES / f"{cid}.yaml")[0]
    h = fleet.hosts[host]
    driver = get_driver(h.platform)
    text = '{"nftables": []}' if h.platform.value == "nftables" else ""
    plan = plan_device(h, driver, text, change, ObjectStore.load(REPO / "policies" / "objects"))
    scope = scope_for(change, h, driver.parse(text), text)
    for lines in (plan.commands, plan.switch_commands, plan.gc_commands, plan.rollback_commands):
        assert check_lines(h.platform.value, lines, scope) == []
    assert check_refresh([c for r in plan.refresh for c in r["commands"]], scope) == []


def _change(**routing):
    from pipeline.model.change import ChangeRequest

    return ChangeRequest.model_validate({"id": "CHG-1", "title": "t", "requested_by": "x", "targets": {"hosts": ["r1"]},
                                         "routing": routing})


RM_IN = _change(route_maps=[{"name": "RM-IN", "entries": [{"seq": 10, "action": "permit"}]}],
                bindings=[{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-IN"}])


@pytest.mark.parametrize("host, lines, reason", [
    ("r1", ["route-map RM-IN permit 10", " set ip next-hop fe80::1%x", " no router bgp 65001", " router bgp 65001", "exit"],
     "line inside a route_map that is not one of its clauses"),
    ("r1", ["route-map RM-IN permit 10", "exit", "no router bgp 65001"], "top-level line of no object"),
    ("r1", ["route-map RM-OTHER permit 10", " set local-preference 200", "exit"], "route_map the change does not name"),
    ("r1", ["route-map RM-OTHER permit 10", " set local-preference 200", "exit"], "clause of a route_map the change does not name"),
    ("r1", ["route-map RM1", " permit 10", "exit"], "top-level line of no object"),
    ("r1", ["route-map RM1", " permit 10", "exit"], "indented line outside any block"),
    ("r1", ["exit"], "top-level exit outside a block (leaves config mode)"),
    ("r1", ["router bgp 65099", " address-family ipv4 unicast", "  neighbor 198.51.100.2 route-map RM-IN in"],
     "router bgp with an ASN that is not the host's"),
    ("r1", ["router bgp 1.1", " address-family ipv4 unicast", "  neighbor 198.51.100.2 route-map RM-IN in"],
     "router bgp with an ASN that is not the host's"),  # asdot 1.1 = 65537
    ("r1", ["router bgp 65001", " address-family ipv4 unicast", "  neighbor 198.51.100.6 route-map RM-IN in"],
     "binding the change does not name"),
    ("r1", ["router bgp 65001", " address-family ipv4 unicast", "  neighbor 198.51.100.2 route-map RM-EVIL in"],
     "binding to a route-map the change does not bind"),
    ("r1", ["router bgp 65001", " neighbor 198.51.100.2 shutdown"], "line in router bgp that is not a route-map binding"),
    ("r1", ["router bgp 65001", " address-family ipv4 multicast", "  neighbor 198.51.100.2 route-map RM-IN in"],
     "line in router bgp that is not a route-map binding"),  # a family the device does not have
    ("r1", ["router bgp 65001", " neighbor PG route-map RM-OTHER out"],
     "route-map use re-pointed to a route-map the change does not re-create"),
    ("r1", ["route-map RM-IN permit 10\u2028no router bgp 65001"], "control character in a line"),
    ("ios1", ["interface Loopback0", " ip access-group RM-IN in"], "interface that is not an attachment point of the change's filters"),
    ("nx1", ["router bgp 65105", "  neighbor 198.51.100.2", "    address-family ipv4 unicast", "      route-map RM-IN in",
             "  neighbor 198.51.100.6", "    address-family ipv4 unicast", "      route-map RM-IN in"], "binding the change does not name"),
    ("nx1", ["router bgp 65105", "  neighbor 198.51.100.2", "    address-family ipv4 unicast", "      route-map RM-EVIL in"],
     "binding to a route-map the change does not bind"),
    ("nx1", ["router bgp 65105", "  neighbor 198.51.100.2", "      route-map RM-IN in"],
     "route-map binding outside a neighbor's address family"),
    ("nx1", ["router bgp 65105", "  neighbor 198.51.100.2", "    address-family ipv4 unicast", "      shutdown"],
     "line in router bgp that is not a route-map binding"),
    ("nx1", ["router bgp 65105", "  address-family ipv4 unicast", "    neighbor 198.51.100.2 route-map RM-IN in"],
     "line in router bgp that is not a route-map binding"),  # IOS syntax is not NX-OS's
    ("nx1", ["router bgp 65101", "  neighbor 198.51.100.2"], "router bgp with an ASN that is not the host's"),
    ("nx1", ["ip as-path access-list AS-OTHER seq 10 permit \"^65002$\""], "as_path_list the change does not name"),
    ("nx1", ["ip large-community-list standard CL-OTHER seq 10 permit 65001:1:3"], "community_list the change does not name"),
    ("nx1", ["ip access-list F9", "  statistics per-entry"], "clause of a filter the change does not name"),
    ("nx1", ["route-map RM-IN permit 10", "  set ip next-hop fe80::1%x", "  no router bgp 65105"],
     "line inside a route_map that is not one of its clauses"),
    ("junos1", ["set policy-options policy-statement RM-IN term 10 no router bgp 65001"], "line of no object"),
    ("junos1", ["delete protocols bgp"], "line of no object"),
    ("junos1", ["set policy-options policy-statement RM-OTHER term 1 then accept"], "route_map the change does not name"),
    ("junos1", ["set protocols bgp group AS65002 neighbor 198.51.100.6 import RM-IN"], "binding the change does not name"),
])
def test_each_escape_is_flagged(fleet, host, lines, reason):
    h = fleet.hosts[host]
    problems = check_lines(h.platform.value, lines, scope_for(RM_IN, h))
    assert reason in [r for r, _ in problems], problems


def _fw_change():
    from pipeline.model.change import ChangeRequest

    return ChangeRequest.model_validate({"id": "CHG-1", "title": "t", "requested_by": "x", "targets": {"hosts": ["fw1"]},
                                         "firewall": {"filters": [{"name": "F1", "attach": ["server-edge"], "terms": [
                                             {"name": "web", "action": "accept", "protocols": ["tcp"]}]}]}})


def _running_nft() -> str:
    from pipeline.inventory import Attachment
    from pipeline.model import ConcreteFilter, DevicePolicy, Rule

    p = DevicePolicy()
    for name in ("F1", "OTHER"):
        p.filters[name] = ConcreteFilter(name=name, attachments=(Attachment(hook="forward"),),
                                         rules=(Rule(name="r", family="ipv4", action="accept"),))
    return nft_ruleset(p, {"lo-accept", "policy-drop"})


@pytest.mark.parametrize("lines, reason", [
    (["flush ruleset"], "nft statement of no object"),
    (["table ip filter {", "}"], "table other than inet netchange"),
    (["table inet netchange", "delete table inet netchange"], "whole table replaced: untouched chain rewritten or removed"),
    (["table inet netchange", "delete table inet netchange"],
     "whole table replaced: base chain with unmodelled rules or policy rewritten or removed"),
    (["table inet netchange {", "\tchain OTHER {", "\t\tmeta nfproto ipv4 accept comment \"r\"", "\t}", "}"],
     "nftables chain the change does not name"),
    (["table inet netchange {", "\tchain hook-input {", "\t\ttype filter hook input priority filter; policy accept;", "\t}", "}"],
     "base chain policy changed"),
    (["table inet netchange {", "\tchain F1 {", "\t\tjump OTHER", "\t}", "}"], "filter rule that is not a match-and-verdict line"),
    (["add rule inet netchange F1 accept; flush ruleset"], "statement separator outside a quoted string"),
    (["add rule inet netchange OTHER accept"], "nftables chain the change does not name"),
    (["add chain inet netchange hook-input { type filter hook input priority filter; policy accept; }"], "base chain policy changed"),
    (["add chain inet netchange F1 { type filter hook input priority filter; }"], "hook declaration in a chain that is not its base chain"),
    (["add chain inet netchange F1 { type filter hook input priority filter; }; flush ruleset"],
     "statement separator outside a quoted string"),
])
def test_each_nftables_escape_is_flagged(fleet, lines, reason):
    h = fleet.hosts["fw1"]
    text = _running_nft()
    problems = check_lines("nftables", lines, scope_for(_fw_change(), h, get_driver(h.platform).parse(text), text))
    assert reason in [r for r, _ in problems], problems


def test_editing_only_the_named_chain_with_handles_passes(fleet):
    h = fleet.hosts["fw1"]
    text = _running_nft()
    scope = scope_for(_fw_change(), h, get_driver(h.platform).parse(text), text)
    lines = ["add table inet netchange", "add chain inet netchange hook-forward { type filter hook forward priority filter; }",
             "add chain inet netchange F1", "add rule inet netchange hook-forward jump F1",
             "flush chain inet netchange F1", "add rule inet netchange F1 meta l4proto tcp accept comment \"web\"",
             "add rule inet netchange F1 counter drop comment \"netchange-implicit-deny\"", "delete rule inet netchange F1 handle 7"]
    assert check_lines("nftables", lines, scope) == []


def test_refresh_and_device_commands(fleet):
    scope = scope_for(RM_IN, fleet.hosts["r1"])
    assert check_refresh(["clear bgp ipv4 unicast 198.51.100.2 soft in"], scope) == []
    assert [r for r, _ in check_refresh(["clear bgp ipv4 unicast 198.51.100.6 soft in"], scope)] == [
        "refresh of a session the change does not affect"]
    assert check_show_commands(["show bgp ipv4 unicast neighbors 198.51.100.2 received-routes json"]) == []
    assert check_show_commands(["show bgp ipv4 unicast neighbors fe80::1%x\nno router bgp 1 received-routes json"])
    assert check_show_commands(["show bgp vrf default ipv4 unicast neighbors 198.51.100.2 received-routes",  # NX-OS
                                "show bgp all summary | json", "show ip bgp neighbors 198.51.100.2",
                                "show route 198.51.100.0/24 exact protocol bgp detail | display json",
                                "show bgp ipv6 unicast neighbors :: received-routes json"]) == []
    assert len(check_show_commands(["show ip bgp neighbors 198.51.100.2 reload", "show ip bgp neighbors dead", "show bgp ipv4 unicast 198.51.100.0/24 | json\r"])) == 3


R1_RUNNING = """ip prefix-list PL-A seq 10 permit 198.51.100.0/24
route-map RM-USER permit 10
 match ip address prefix-list PL-A
exit
router bgp 65001
 address-family ipv4 unicast
  neighbor 198.51.100.6 route-map RM-USER out
 exit-address-family
exit
"""


def test_removing_an_object_in_use_is_flagged_but_a_rewrite_is_not(fleet):
    h = fleet.hosts["r1"]
    running = get_driver(h.platform).parse(R1_RUNNING)
    change = _change(prefix_lists=[{"name": "PL-A", "state": "absent"}], route_maps=[{"name": "RM-USER", "state": "absent"}])
    scope = scope_for(change, h, running, R1_RUNNING)
    reasons = [r for r, _ in check_lines("frr", ["no route-map RM-USER", "no ip prefix-list PL-A"], scope)]
    assert reasons == ["deletes a route_map still in use"]  # PL-A's only user goes in the same change
    change = _change(prefix_lists=[{"name": "PL-A", "state": "absent"}])
    assert [r for r, _ in check_lines("frr", ["no ip prefix-list PL-A"], scope_for(change, h, running, R1_RUNNING))] == [
        "deletes a prefix_list still in use"]
    rewrite = ["no ip prefix-list PL-A", "ip prefix-list PL-A seq 10 permit 198.51.100.0/25"]
    assert check_lines("frr", rewrite, scope_for(change, h, running, R1_RUNNING)) == []
    # a rollback removing a list the change created (the device never had it) restores the device
    new_list = _change(prefix_lists=[{"name": "PL-NEW", "entries": [{"seq": 5, "action": "permit", "prefix": "203.0.113.0/24"}]}])
    running.route_maps["RM-USER"] = running.route_maps["RM-USER"].model_copy(update={"entries": tuple(
        e.model_copy(update={"match": e.match.model_copy(update={"prefix_list": "PL-NEW"})}) for e in running.route_maps["RM-USER"].entries)})
    assert check_lines("frr", ["no ip prefix-list PL-NEW"], scope_for(new_list, h, running, R1_RUNNING)) == []


def test_rollback_may_rebind_the_route_map_the_device_had(fleet):
    h = fleet.hosts["r1"]
    running = get_driver(h.platform).parse(R1_RUNNING)
    change = _change(route_maps=[{"name": "RM-NEW", "entries": [{"seq": 10, "action": "permit"}]}],
                     bindings=[{"neighbor": "198.51.100.6", "afi": "ipv4", "direction": "out", "route_map": "RM-NEW"}])
    rollback = ["router bgp 65001", " address-family ipv4 unicast", "  neighbor 198.51.100.6 route-map RM-USER out",
                " exit-address-family", "exit", "no route-map RM-NEW"]
    assert check_lines("frr", rollback, scope_for(change, h, running, R1_RUNNING)) == []
    without_running = [r for r, _ in check_lines("frr", rollback, scope_for(change, h))]
    assert "binding to a route-map the change does not bind" in without_running


R1_VRF_RUNNING = """ip prefix-list PL-A seq 10 permit 198.51.100.0/24
route-map RM-HOST permit 10
 match ip address prefix-list PL-A
exit
route-map RM-OTHER permit 10
exit
router bgp 660000 vrf blue
 address-family ipv4 unicast
  redistribute connected route-map RM-HOST
 exit-address-family
exit
"""


def test_a_versioned_plan_may_repoint_redistribution_in_a_vrf(fleet):
    """Found by the long fuzz run: a versioned edit of a list used by a VRF's `redistribute ... route-map`
    re-points that line to the new route-map version under `router bgp ASN vrf NAME` (the device's ASN)."""
    h = fleet.hosts["r1"]
    driver = get_driver(h.platform)
    change = _change(prefix_lists=[{"name": "PL-A", "entries": [{"seq": 10, "action": "permit", "prefix": "198.51.100.0/25"}]}])
    change = change.model_copy(update={"strategy": "versioned"})
    plan = plan_device(h, driver, R1_VRF_RUNNING, change, ObjectStore.load(REPO / "policies" / "objects"))
    scope = scope_for(change, h, driver.parse(R1_VRF_RUNNING), R1_VRF_RUNNING)
    assert any("redistribute connected route-map RM-HOST" in c for c in plan.switch_commands), plan.switch_commands
    for lines in (plan.commands, plan.switch_commands, plan.gc_commands, plan.rollback_commands):
        assert check_lines("frr", lines, scope) == []
    stray = ["router bgp 660000 vrf blue", " address-family ipv4 unicast", "  redistribute connected route-map RM-OTHER",
             " exit-address-family", "exit"]
    assert [r for r, _ in check_lines("frr", stray, scope)] == [
        "route-map use re-pointed to a route-map the change does not re-create"]
    assert [r for r, _ in check_lines("frr", ["router bgp 65099 vrf blue", " redistribute connected route-map RM-HOST"], scope)] == [
        "router bgp with an ASN that is not the host's", "route-map use under a foreign router bgp"]


JUNOS_CHAIN = """set policy-options prefix-list PL-A 203.0.113.0/24
set policy-options policy-statement RM-IN term 10 from prefix-list PL-A
set policy-options policy-statement RM-IN term 10 then local-preference 118
set policy-options policy-statement RM-IN term 10 then accept
set policy-options policy-statement RM-IN term netchange-final-reject then reject
set policy-options policy-statement RM-USER term 10 then accept
set protocols bgp group AS65002 neighbor 198.51.100.2 export RM-IN
set protocols bgp group AS65002 neighbor 198.51.100.2 export RM-USER
"""


def test_a_versioned_plan_keeps_a_junos_policy_chain_in_order(fleet):
    """Found by the long fuzz run: with `export [ RM-IN RM-USER ]`, the new version of RM-IN takes RM-IN's
    place in the chain (`insert ... export RM-IN.nc1 before RM-USER`)."""
    h = fleet.hosts["junos1"]
    driver = get_driver(h.platform)
    change = _change(prefix_lists=[{"name": "PL-A", "entries": [{"seq": 10, "action": "permit", "prefix": "198.51.100.0/26"}]}])
    change = change.model_copy(update={"strategy": "versioned", "targets": change.targets.model_copy(update={"hosts": ["junos1"]})})
    plan = plan_device(h, driver, JUNOS_CHAIN, change, ObjectStore.load(REPO / "policies" / "objects"))
    scope = scope_for(change, h, driver.parse(JUNOS_CHAIN), JUNOS_CHAIN)
    assert any(c.startswith("insert protocols bgp group AS65002 neighbor 198.51.100.2 export RM-IN.nc") and c.endswith("before RM-USER")
               for c in plan.commands), plan.commands
    for lines in (plan.commands, plan.switch_commands, plan.gc_commands, plan.rollback_commands):
        assert check_lines("juniper_junos", lines, scope) == []
    assert [r for r, _ in check_lines("juniper_junos", ["insert protocols bgp group AS65002 neighbor 198.51.100.2 export RM-USER before RM-IN"], scope)] == [
        "binding to a route-map the change does not bind"]
    assert [r for r, _ in check_lines("juniper_junos", ["insert protocols bgp group AS65002 neighbor 198.51.100.6 export RM-IN before RM-USER"], scope)] == [
        "binding the change does not name"]


IOS_USES = """router bgp 65101
 neighbor UP peer-group
 address-family ipv4 vrf blue
  neighbor 203.0.113.9 route-map RM-IN in
  aggregate-address 198.18.0.0/16 summary-only attribute-map RM-IN
 exit-address-family
"""


def test_uses_re_pointed_where_they_stand_pass_and_foreign_ones_do_not(fleet):
    """Found by the long fuzz run: an in-place edit behind a copy (`RM-IN.nc-edit`) re-points every line that
    uses the route-map where it stands — a peer-group's binding, an aggregate's attribute-map, a binding in a
    VRF's family — and back."""
    h = fleet.hosts["ios1"]
    scope = scope_for(RM_IN, h, get_driver(h.platform).parse(IOS_USES), IOS_USES)
    lines = ["router bgp 65101", " neighbor UP route-map RM-IN.nc-edit in", " address-family ipv4 vrf blue",
             "  neighbor 203.0.113.9 route-map RM-IN.nc-edit in", "  aggregate-address 198.18.0.0/16 summary-only attribute-map RM-IN.nc-edit",
             " exit-address-family", "exit"]
    assert check_lines("cisco_ios", lines, scope) == []
    foreign = ["router bgp 65101", " address-family ipv4 vrf blue", "  neighbor 203.0.113.9 route-map RM-OTHER in"]
    assert [r for r, _ in check_lines("cisco_ios", foreign, scope)] == [
        "route-map use re-pointed to a route-map the change does not re-create"]


def test_a_device_line_re_pointed_verbatim_passes_only_if_the_device_has_it(fleet):
    h = fleet.hosts["ios1"]
    text = IOS_USES.replace(" exit-address-family", "  neighbor 203.0.113.9 default-originate route-map RM-IN\n exit-address-family")
    scope = scope_for(RM_IN, h, get_driver(h.platform).parse(text), text)
    repointed = ["router bgp 65101", " address-family ipv4 vrf blue", "  neighbor 203.0.113.9 default-originate route-map RM-IN.nc-edit"]
    assert check_lines("cisco_ios", repointed, scope) == []
    invented = ["router bgp 65101", " address-family ipv4 vrf blue", "  neighbor 203.0.113.7 default-originate route-map RM-IN.nc-edit"]
    assert [r for r, _ in check_lines("cisco_ios", invented, scope)] == ["line in router bgp that is not a route-map binding"]


def test_a_device_line_with_a_tab_between_words_is_re_pointed_single_spaced(fleet):
    """Found by the third long fuzz run (seed 33): a mutated AOS-CX line `neighbor 2001<TAB>:db8:12::2 route-map
    RM-IN in` (no address, so no modelled binding) re-pointed by a versioned plan word by word, with a space."""
    h = fleet.hosts["ios1"]
    text = IOS_USES.replace(" exit-address-family", "  neighbor 203.0.113.9\tdefault-originate route-map RM-IN\n exit-address-family")
    scope = scope_for(RM_IN, h, get_driver(h.platform).parse(text), text)
    repointed = ["router bgp 65101", " address-family ipv4 vrf blue", "  neighbor 203.0.113.9 default-originate route-map RM-IN.nc1"]
    assert check_lines("cisco_ios", repointed, scope) == []


EOS_VRF = """route-map RM-IN permit 10
router bgp 65102
   vrf VRF10
      neighbor 203.0.113.9 route-map RM-IN in
      address-family ipv4
         neighbor 203.0.113.10 route-map RM-IN out
"""


def test_vrf_sub_blocks_and_routing_instances_are_uses(fleet):
    """Found by the long fuzz run: EOS/AOS-CX `vrf X` under router bgp, and a Junos routing-instance group's
    export, re-pointed to the new version of a route-map the change re-creates."""
    h = fleet.hosts["eos1"]
    scope = scope_for(RM_IN, h, get_driver(h.platform).parse(EOS_VRF), EOS_VRF)
    ok = ["router bgp 65102", "   vrf VRF10", "      neighbor 203.0.113.9 route-map RM-IN.nc1 in",
          "      address-family ipv4", "         neighbor 203.0.113.10 route-map RM-IN.nc1 out"]
    assert check_lines("arista_eos", ok, scope) == []
    assert [r for r, _ in check_lines("arista_eos", ["router bgp 65102", "   vrf VRF99"], scope)] == [
        "line in router bgp that is not a route-map binding"]
    j = fleet.hosts["junos1"]
    jscope = scope_for(RM_IN, j)
    assert check_lines("juniper_junos", ["set routing-instances VR protocols bgp group G export RM-IN.nc1",
                                         "delete routing-instances VR protocols bgp group G export RM-IN"], jscope) == []
    assert [r for r, _ in check_lines("juniper_junos", ["set routing-instances VR protocols bgp group G export RM-OTHER"], jscope)] == [
        "line of no object"]
    # a neighbor that is no address the model binds (a mutated config's): its line is a use, re-pointed verbatim
    assert check_lines("juniper_junos", ["set protocols bgp group G neighbor 4294967296:db8:12::2 export RM-IN.nc1"], jscope) == []
    assert [r for r, _ in check_lines("juniper_junos", ["set protocols bgp group G neighbor 4294967296:db8:12::2 export RM-OTHER"],
                                      jscope)] == ["binding the change does not name"]
    lists = scope_for(_change(prefix_lists=[{"name": "ntp-sources", "entries": [{"seq": 10, "action": "permit",
                                                                                 "prefix": "203.0.113.0/26"}]}]), j)
    follow = ["set firewall family inet filter cpp term ntp from source-prefix-list ntp-sources.nc1",
              "delete firewall family inet filter cpp term ntp from source-prefix-list ntp-sources"]
    assert check_lines("juniper_junos", follow, lists) == []
    assert [r for r, _ in check_lines("juniper_junos", ["set firewall family inet filter cpp term ntp from source-prefix-list other"], lists)] == [
        "filter the change does not name"]


def test_an_asdot_router_bgp_of_the_device_is_its_own(fleet):
    """Found by the second long fuzz run: a corpus config's `router bgp 1.1` (asdot, RFC 5396) is the device's
    own BGP instance; uses re-pointed under it are legitimate."""
    from .checker import _asn

    assert (_asn("1.1"), _asn("65001"), _asn("0.65001")) == (65537, 65001, 65001)
    h = fleet.hosts["r1"]
    text = "route-map RM-IN permit 10\nrouter bgp 1.1\n address-family ipv4 unicast\n  network 203.0.113.0/24 route-map RM-IN\n"
    scope = scope_for(RM_IN, h, get_driver(h.platform).parse(text), text)
    lines = ["router bgp 1.1", " address-family ipv4 unicast", "  network 203.0.113.0/24 route-map RM-IN.nc-edit",
             " exit-address-family", "exit"]
    assert check_lines("frr", lines, scope) == []


def test_the_devices_own_router_bgp_line_opens_its_instance_whatever_it_says(fleet):
    """Second long fuzz run: a mutated `router bgp 1.2.3.4/99` the device (so the snapshot) has is re-entered
    verbatim to re-point a binding under it; the same line not in the running config is still foreign."""
    h = fleet.hosts["ios1"]
    text = "route-map RM-IN permit 10\nrouter bgp 1.2.3.4/99\n address-family ipv6\n  neighbor 2001:db8:12::2 route-map RM-IN out\n"
    lines = ["router bgp 1.2.3.4/99", " address-family ipv6", "  neighbor 2001:db8:12::2 route-map RM-IN.nc1 out",
             " exit-address-family", "exit"]
    assert check_lines("cisco_ios", lines, scope_for(RM_IN, h, get_driver(h.platform).parse(text), text)) == []
    assert "top-level line of no object" in [r for r, _ in check_lines("cisco_ios", lines, scope_for(RM_IN, h))]
