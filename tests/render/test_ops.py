"""render_ops: every edit op on every platform, and the semantics each platform's CLI needs."""

from __future__ import annotations

import pytest

from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.render.driver import next_version
from pipeline.inventory import Attachment
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.firewall import ServiceSpec
from pipeline.model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, NeighborBinding, PrefixList,
                                    PrefixListEntry, RouteMap, RouteMapEntry)
from pipeline.plan import ops as O

from .conftest import PLATFORM_HOST

ROUTERS = [p for p in all_platforms() if "route_map" in get_driver(p).kinds]
FILTERING = [p for p in all_platforms() if "filter" in get_driver(p).kinds]

PL_OLD = PrefixList(name="PL-A", entries=(PrefixListEntry(seq=10, action="permit", prefix="10.0.0.0/8"),
                                           PrefixListEntry(seq=20, action="permit", prefix="192.0.2.0/24")))
E20_NEW = PrefixListEntry(seq=20, action="permit", prefix="192.0.2.0/24", le=28)
PL_NEW = PL_OLD.model_copy(update={"entries": (PL_OLD.entries[0], E20_NEW)})
CL = CommunityList(name="CL-A", entries=(CommunityListEntry(seq=10, action="permit", communities=("65001:1",)),))
CL_E2 = CommunityListEntry(seq=20, action="permit", communities=("65001:2",))
AS = AsPathList(name="100", entries=(AsPathEntry(seq=10, action="permit", regex="^65002 .*"),))
AS_E2 = AsPathEntry(seq=20, action="permit", regex="^65003 .*")
RM_E10 = RouteMapEntry.model_validate({"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"},
                                       "set": {"local_preference": 200, "community_add": ["65001:300"]}})
RM_E10_NEW = RouteMapEntry.model_validate({"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"},
                                           "set": {"local_preference": 300, "med": 5}})
RM = RouteMap(name="RM-A", entries=(RM_E10, RouteMapEntry(seq=20, action="deny")))
RM_NEW = RM.model_copy(update={"entries": (RM_E10_NEW, RM.entries[1])})
RM_E15 = RouteMapEntry.model_validate({"seq": 15, "action": "permit", "set": {"med": 7}})
BIND = NeighborBinding(neighbor="198.51.100.2", afi="ipv4", direction="in", route_map="RM-A")
OLD_BIND = NeighborBinding(neighbor="198.51.100.2", afi="ipv4", direction="in", route_map="RM-OLD")


def policy(*objs) -> DevicePolicy:
    pol = DevicePolicy()
    for kind, o in objs:
        pol.put(kind, o.name, o)
    return pol


INTENDED = policy(("prefix_list", PL_NEW), ("community_list", CL), ("as_path_list", AS), ("route_map", RM_NEW))


def fw(name: str, *rules: Rule, att: Attachment) -> ConcreteFilter:
    return ConcreteFilter(name=name, rules=rules, attachments=(att,))


def rule(name: str, port: int, action: str = "accept") -> Rule:
    return Rule(name=name, family="ipv4", destinations=("203.0.113.0/26",),
                specs=(ServiceSpec(protocol="tcp", destination_ports=(port,)),), action=action)


def attachment(platform: str) -> Attachment:
    return Attachment(hook="forward") if platform == "nftables" else Attachment(interface="eth1", direction="out")


def host(fleet, platform):
    return fleet.hosts[PLATFORM_HOST[platform]]


def routing_ops():
    return [
        O.Create("prefix_list", "PL-A", PL_OLD), O.AddEntry("prefix_list", "PL-A", PL_OLD, PL_OLD.entries[1]),
        O.RemoveEntry("prefix_list", "PL-A", PL_OLD, PL_OLD.entries[1]), O.ModifyEntry("prefix_list", "PL-A", PL_NEW, PL_OLD.entries[1], E20_NEW),
        O.Delete("prefix_list", "PL-A", PL_OLD),
        O.Create("community_list", "CL-A", CL), O.Delete("community_list", "CL-A", CL),
        O.Create("as_path_list", "100", AS), O.Delete("as_path_list", "100", AS),
        O.Create("route_map", "RM-A", RM), O.AddEntry("route_map", "RM-A", RM.model_copy(update={"entries": (RM_E10, RM_E15, RM.entries[1])}), RM_E15),
        O.RemoveEntry("route_map", "RM-A", RM, RM.entries[1]), O.ModifyEntry("route_map", "RM-A", RM_NEW, RM_E10, RM_E10_NEW),
        O.Delete("route_map", "RM-A", RM),
        O.Bind("binding", "198.51.100.2/ipv4/in", BIND, OLD_BIND), O.Unbind("binding", "198.51.100.2/ipv4/in", BIND),
    ]


@pytest.mark.parametrize("platform", ROUTERS)
def test_every_routing_op_prints(platform, fleet):
    d = get_driver(platform)
    for op in routing_ops():
        lines = d.render_ops([op], INTENDED, host(fleet, platform))
        assert lines, f"{platform}: {op.verb} {op.kind} printed nothing"


@pytest.mark.parametrize("platform", ROUTERS)
def test_route_map_modify_edits_in_place(platform, fleet):
    """ModifyEntry enters the entry, removes what went, writes what changed or is new (a `set` replaces its
    old value where it stands: no moment without a local-preference); never deletes the entry."""
    lines = get_driver(platform).render_ops([O.ModifyEntry("route_map", "RM-A", RM_NEW, RM_E10, RM_E10_NEW)], INTENDED,
                                            host(fleet, platform))
    text = "\n".join(lines)
    assert "no route-map" not in text and "delete policy-options policy-statement RM-A term 10\n" not in text + "\n"
    if platform == "juniper_junos":
        assert "delete policy-options policy-statement RM-A term 10 then community add RM-A-10-add" in lines
        assert "set policy-options policy-statement RM-A term 10 then local-preference 300" in lines
        assert not any("from prefix-list" in ln for ln in lines)  # unchanged clause untouched
        return
    assert lines[0].startswith("route-map RM-A permit")
    body = [ln.strip() for ln in lines[1:] if ln.strip() != "exit"]
    assert "set local-preference 300" in body
    if not get_driver(platform).commit_mode.atomic:  # inside a configure session no line is live before the commit
        assert not any(ln.startswith("no set local-preference") for ln in body)
    assert any(ln.startswith("no set community 65001:300") for ln in body)
    assert "set metric 5" in body
    assert not any("prefix-list" in ln for ln in body)


@pytest.mark.parametrize("platform", ["frr", "cisco_ios", "aruba_aoscx"])
def test_route_map_action_change_keeps_the_entry(platform, fleet):
    """Entering an existing entry with the other action changes the action and keeps its clauses (FRR:
    measured; IOS, AOS-CX: tests/sim): no moment without the entry."""
    new = RM_E10.model_copy(update={"action": "deny"})
    lines = get_driver(platform).render_ops([O.ModifyEntry("route_map", "RM-A", RM, RM_E10, new)], INTENDED, host(fleet, platform))
    assert lines[0].startswith("route-map RM-A deny") and not any(ln.startswith("no route-map") for ln in lines)


def test_prefix_list_modify_never_leaves_the_entry_missing(fleet):
    """FRR replaces an entry by its seq in one line; IOS and AOS-CX refuse a taken seq, so the new entry is
    copied beside it first (seq 15), the old one goes, the new one takes seq 20, the copy goes."""
    op = O.ModifyEntry("prefix_list", "PL-A", PL_NEW, PL_OLD.entries[1], E20_NEW)
    assert get_driver("frr").render_ops([op], INTENDED, host(fleet, "frr")) == ["ip prefix-list PL-A seq 20 permit 192.0.2.0/24 le 28"]
    assert get_driver("cisco_ios").render_ops([op], INTENDED, host(fleet, "cisco_ios")) == [
        "ip prefix-list PL-A seq 15 permit 192.0.2.0/24 le 28", "no ip prefix-list PL-A seq 20",
        "ip prefix-list PL-A seq 20 permit 192.0.2.0/24 le 28", "no ip prefix-list PL-A seq 15"]
    assert get_driver("aruba_aoscx").render_ops([op], INTENDED, host(fleet, "aruba_aoscx")) == [
        "ip prefix-list PL-A seq 15 permit 192.0.2.0/24 le 28", "no ip prefix-list PL-A seq 20 permit 192.0.2.0/24",
        "ip prefix-list PL-A seq 20 permit 192.0.2.0/24 le 28", "no ip prefix-list PL-A seq 15 permit 192.0.2.0/24 le 28"]


def test_seqless_lists_are_rewritten_on_entry_edits(fleet):
    """IOS/EOS community lists have no seq: adding an entry rewrites the list so order is kept."""
    after = CL.model_copy(update={"entries": CL.entries + (CL_E2,)})
    lines = get_driver("arista_eos").render_ops([O.AddEntry("community_list", "CL-A", after, CL_E2)], INTENDED, host(fleet, "arista_eos"))
    assert lines == ["no ip community-list CL-A", "ip community-list CL-A permit 65001:1", "ip community-list CL-A permit 65001:2"]
    lines = get_driver("frr").render_ops([O.AddEntry("community_list", "CL-A", after, CL_E2)], INTENDED, host(fleet, "frr"))
    assert lines == ["bgp community-list standard CL-A seq 20 permit 65001:2"]
    after_as = AS.model_copy(update={"entries": AS.entries + (AS_E2,)})
    lines = get_driver("cisco_ios").render_ops([O.RemoveEntry("as_path_list", "100", after_as, AS_E2)], INTENDED, host(fleet, "cisco_ios"))
    assert lines == ["no ip as-path access-list 100", "ip as-path access-list 100 permit ^65002 .*"]


def test_junos_new_term_is_moved_into_place(fleet):
    after = RM.model_copy(update={"entries": (RM_E10, RM_E15, RM.entries[1])})
    lines = get_driver("juniper_junos").render_ops([O.AddEntry("route_map", "RM-A", after, RM_E15)], INTENDED, host(fleet, "juniper_junos"))
    assert lines[-1] == "insert policy-options policy-statement RM-A term 15 before term 20"


def test_junos_bind_replaces_the_import_chain(fleet):
    lines = get_driver("juniper_junos").render_ops([O.Bind("binding", "x", BIND, OLD_BIND)], INTENDED, host(fleet, "juniper_junos"))
    assert lines == ["delete protocols bgp group AS65002 neighbor 198.51.100.2 import",
                     "set protocols bgp group AS65002 neighbor 198.51.100.2 import RM-A"]


@pytest.mark.parametrize("platform", [p for p in ROUTERS if p != "juniper_junos"])  # Junos: one candidate, below
def test_bind_switches_in_one_command(platform, fleet):
    """Bind never unbinds first on line-mode CLIs (a neighbor without policy would deny or accept everything)."""
    lines = get_driver(platform).render_ops([O.Bind("binding", "x", BIND, OLD_BIND)], INTENDED, host(fleet, platform))
    assert not any(ln.strip().startswith(("no neighbor", "no route-map")) for ln in lines), platform
    assert sum(ln.strip().endswith("route-map RM-A in") for ln in lines) == 1
    assert "198.51.100.2" in "\n".join(lines)


@pytest.mark.parametrize("platform", FILTERING)
def test_filter_create_delete_replace(platform, fleet):
    d, h, att = get_driver(platform), host(fleet, platform), attachment(platform)
    old = fw("EDGE", rule("web", 80), rule("ssh", 22), att=att)
    new = fw("EDGE", rule("web", 443), rule("ssh", 22), rule("dns", 53), att=att)
    intended = policy(("filter", new))
    for op in (O.Create("filter", "EDGE", old), O.Delete("filter", "EDGE", old), O.ReplaceFilter("filter", "EDGE", old, new),
               O.ReplaceFilter("filter", "EDGE", None, new)):
        assert d.render_ops([op], intended, h), (platform, op.verb)


def test_ios_replace_filter_swaps_through_a_copy_and_keeps_the_name(fleet):
    """IOS has no ACL sequence edits in its running config: the new rules go into EDGE-v1, the interface is
    pointed at it, EDGE is redefined while unused, the interface is pointed back, EDGE-v1 goes. The device ends
    with EDGE (the name the change uses), and no interface is ever left without one of the two versions."""
    att = Attachment(interface="Gi0/1", direction="in")
    old = fw("EDGE", rule("web", 80), att=att)
    new = fw("EDGE", rule("web", 443), att=att)
    lines = get_driver("cisco_ios").render_ops([O.ReplaceFilter("filter", "EDGE", old, new)], policy(("filter", new)), host(fleet, "cisco_ios"))
    assert lines[0] == "ip access-list extended EDGE-v1"
    attach = [i for i, ln in enumerate(lines) if ln.strip().startswith("ip access-group")]
    assert [lines[i].strip() for i in attach] == ["ip access-group EDGE-v1 in", "ip access-group EDGE in"]
    assert attach[0] < lines.index("no ip access-list extended EDGE") < lines.index("ip access-list extended EDGE") < attach[1]
    assert lines[-1] == "no ip access-list extended EDGE-v1"
    assert next_version("EDGE", "EDGE") == "EDGE-v1" and next_version("EDGE-v9", "EDGE") == "EDGE-v10"


@pytest.mark.parametrize("platform", [p for p in FILTERING if get_driver(p).filter_replace == "sequence"])
def test_sequence_edits_touch_only_changed_lines(platform, fleet):
    att = Attachment(interface="eth1", direction="out")
    old = fw("EDGE", rule("web", 80), rule("ssh", 22), att=att)
    new = fw("EDGE", rule("web", 443), rule("ssh", 22), att=att)
    d = get_driver(platform)
    lines = d.render_ops([O.ReplaceFilter("filter", "EDGE", old, new)], policy(("filter", new)), host(fleet, platform))
    assert lines[0].endswith(" EDGE") and "access-list" in lines[0]
    web = next(ln.seq for ln in d.numbered_acl(old, "ipv4") if ln.ace is not None and ln.ace.rule.name == "web")
    body = [ln.strip() for ln in lines[1:]]
    # inside a session (EOS, NX-OS) the changed line is removed and written again; where every line is live
    # (AOS-CX) the changed ACE is typed over its own number: no moment without it
    assert [ln for ln in body if ln.startswith("no ")] == ([f"no {web}"] if d.commit_mode.atomic else [])
    assert len([ln for ln in body if "permit" in ln]) == 1 and "eq 443" in " ".join(body) and "eq 22" not in " ".join(body)


def _nft_running(*chains: tuple[str, list[dict]], base: dict | None = None) -> DevicePolicy:
    """`nft -j list ruleset` of table inet netchange with these regular chains and one base chain (handles
    numbered in order), parsed: the running policy with its layout."""
    import json

    from pipeline.parsers.nftables import parse

    items, handle = [{"table": {"family": "inet", "name": "netchange", "handle": 1}}], 100
    for name, rules in [*chains, *([(base["name"], base["rules"])] if base else [])]:
        chain = {"family": "inet", "table": "netchange", "name": name, "handle": (handle := handle + 1)}
        if base and name == base["name"]:
            chain.update(type="filter", hook=base["hook"], prio=0, policy=base["policy"])
        items.append({"chain": chain})
        for expr, comment in rules:
            body = {"family": "inet", "table": "netchange", "chain": name, "handle": (handle := handle + 1), "expr": expr}
            if comment:
                body["comment"] = comment
            items.append({"rule": body})
    return parse(json.dumps({"nftables": items}))


def _deny_end():
    return ([{"counter": None}, {"drop": None}], "netchange-implicit-deny")


def _jump(target: str):
    return ([{"jump": {"target": target}}], None)


def test_nftables_ops_edit_only_the_chains_they_name(fleet):
    """Deleting C deletes its jump (by handle) and its chain; A and B, and the base chain's own rule and
    policy, are not in the file at all."""
    lo = ([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": None}], None)
    running = _nft_running(("A", [_deny_end()]), ("B", [_deny_end()]), ("C", [_deny_end()]),
                           base={"name": "input", "hook": "input", "policy": "drop",
                                 "rules": [lo, _jump("A"), _jump("C"), _jump("B")]})
    assert set(running.filters) == {"A", "B", "C"}
    handle_of_jump_c = next(r.handle for r in running.device.chains["input"].rules if r.text == "jump C")
    lines = get_driver("nftables").render_ops([O.Delete("filter", "C", running.filters["C"])], running, host(fleet, "nftables"))
    commands = [ln for ln in lines if not ln.startswith("#")]
    assert commands == ["add table inet netchange", f"delete rule inet netchange input handle {handle_of_jump_c}",
                        "delete chain inet netchange C"]


def test_nftables_new_jumps_go_after_the_existing_ones_and_base_chains_keep_their_policy(fleet):
    """A new filter's jump is inserted right after netchange's jumps, before the base chain's own closing
    rule; the base chain is never redeclared (its `policy drop` stays); its chain is refilled whole."""
    drop_rest = ([{"counter": None}, {"drop": None}], None)
    running = _nft_running(("A", [_deny_end()]),
                           base={"name": "input", "hook": "input", "policy": "drop", "rules": [_jump("A"), drop_rest]})
    closing = running.device.chains["input"].rules[-1].handle
    new = fw("N", rule("web", 80), att=Attachment(hook="input"))
    lines = get_driver("nftables").render_ops([O.Create("filter", "N", new)], running, host(fleet, "nftables"))
    commands = [ln for ln in lines if not ln.startswith("#")]
    assert commands[:3] == ["add table inet netchange", "add chain inet netchange N", "flush chain inet netchange N"]
    assert commands[-1] == f"insert rule inet netchange input position {closing} jump N"
    assert not any("policy" in c or c.startswith(("delete", "flush chain inet netchange input")) for c in commands)


def test_nftables_refuses_to_delete_a_chain_other_rules_jump_to(fleet):
    from pipeline.drivers.render import UnsupportedConstruct

    guarded = ([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                           "right": {"prefix": {"addr": "10.0.0.0", "len": 8}}}}, {"jump": {"target": "C"}}], None)
    running = _nft_running(("C", [_deny_end()]), base={"name": "input", "hook": "input", "policy": "accept",
                                                        "rules": [guarded]})
    with pytest.raises(UnsupportedConstruct, match=r"cannot be deleted.*chain input handle \d+: ip saddr 10.0.0.0/8 jump C"):
        get_driver("nftables").render_ops([O.Delete("filter", "C", running.filters["C"])], running, host(fleet, "nftables"))
