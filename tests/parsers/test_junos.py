"""JunOS parser: corpus files, hand-checked counts, hierarchical == set format, one fixture per construct."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.inventory import Attachment
from pipeline.model.firewall import ServiceSpec
from pipeline.model.policy import Rule
from pipeline.model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, NeighborBinding,
                                    PrefixList, PrefixListEntry, RouteMapEntry, SetClause)
from pipeline.parsers import juniper_junos
from pipeline.parsers.junos_setlines import _TOKEN, _expand_lists, _unquote, hierarchical_to_set
from corpus import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "juniper_junos"
CORPUS_FILES = sorted(CORPUS.glob("*"))


def corpus(name: str) -> str:
    path = CORPUS / name
    return path.read_bytes().decode()  # bytes: keep CRLF as the device sent it


def parse(text: str):
    return juniper_junos.parse(text)


def net(s: str):
    return ipaddress.ip_network(s)


# --- corpus ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_file_parses(path: Path):
    policy = parse(path.read_bytes().decode())
    assert sum(policy.counts().values()) > 0, "every corpus file defines at least one modelled object"
    assert all(isinstance(s, str) and s for s in policy.skipped)


def test_as1border1_counts_and_objects():
    p = parse(corpus("batfish__example-juniper__as1border1.set"))
    assert p.counts() == {"prefix_list": 2, "community_list": 2, "as_path_list": 0, "route_map": 5, "binding": 5,
                          "filter": 0}
    assert p.route_maps["as1_to_as2"].entries == (
        RouteMapEntry(seq=10, action="permit", match=Match(prefix_list="original_prefixes"),
                      set=SetClause(med=50, community_add=("1:2",))),
        RouteMapEntry(seq=20, action="permit", match=Match(prefix_list="as3_prefixes"),
                      set=SetClause(med=50, community_add=("1:2",))),
    )
    # group-level import/export: bindings on the groups, which hold their neighbors (DevicePolicy.peer_groups)
    assert p.peer_groups["as2"] == ("10.12.11.2",) and p.bindings[("as2", "ipv4", "in")].route_map == "as2_to_as1"
    assert p.binding_for("10.12.11.2", "ipv4", "in").route_map == "as2_to_as1"
    assert p.binding_for("10.12.11.2", "ipv4", "out").route_map == "as1_to_as2"
    assert p.binding_for("1.10.1.1", "ipv4", "out").route_map == "as1_to_as1"  # group-level export
    assert p.binding_for("1.10.1.1", "ipv4", "in") is None  # no import configured: nothing bound
    assert p.community_lists["as2_to_as1_community"] == CommunityList(
        name="as2_to_as1_community", kind="expanded", entries=(CommunityListEntry(action="permit", regex="2:*"),))
    assert p.prefix_lists["original_prefixes"].entries == (
        PrefixListEntry(seq=5, action="permit", prefix="1.0.1.0/24"),
        PrefixListEntry(seq=10, action="permit", prefix="1.0.2.0/24"))


def test_srx_counts_and_objects():
    p = parse(corpus("jvd__scale_out_firewall_nat__srx1a_srx4600.conf"))
    # 11 policy-statements; all 17 prefix-lists are generated from route-filters (the file defines none)
    assert p.counts() == {"prefix_list": 17, "community_list": 0, "as_path_list": 0, "route_map": 11, "binding": 5,
                          "filter": 0}
    assert p.prefix_lists["untrust_export_policy_mx2.1"].entries == (
        PrefixListEntry(seq=5, action="permit", prefix="172.80.0.0/12", le=32),
        PrefixListEntry(seq=10, action="permit", prefix="172.160.0.0/12", le=32))
    rm = p.route_maps["trust_export_policy"]
    assert [e.seq for e in rm.entries] == [1, 2, 3]  # numeric term names are the sequence numbers
    assert rm.entries[0].set == SetClause(as_path_prepend=(65000, 65000, 65000), next_hop="self")
    assert rm.entries[2] == RouteMapEntry(seq=3, action="deny")
    assert [e.seq for e in p.route_maps["v6_untrust_export_policy"].entries] == [10, 20]  # terms t1, t2
    assert p.bindings[("2001:db8:1:1:1::1", "ipv6", "out")] == NeighborBinding(
        neighbor="2001:db8:1:1:1::1", afi="ipv6", direction="out", route_map="ipv6_trust_export_policy")
    assert any("routing-instance VR-1" in s and "VRF" in s for s in p.skipped)
    assert any("condition srg_sig_route_exist" in s for s in p.skipped)
    assert any(s.startswith("apply-groups global re0") for s in p.skipped)


def test_aerleon_loopback_filter():
    p = parse(corpus("aerleon__sample_juniper_loopback.jcl.ref"))
    assert list(p.filters) == ["LOOPBACK"]
    f = p.filters["LOOPBACK"]
    # 24 terms: 2 use an undefined source-prefix-list, 1 is `next term`, 1 jumps to another filter
    assert len(f.rules) == 20
    assert f.rules[0].name == "accept-icmp"
    dns = next(r for r in f.rules if r.name == "accept-dns-replies")
    rfc1918 = (net("10.0.0.0/8"), net("172.16.0.0/12"), net("192.168.0.0/16"))
    assert dns == Rule(name="accept-dns-replies", family="ipv4", sources=rfc1918, destinations=rfc1918,
                       specs=(ServiceSpec(protocol="udp", source_ports=(53,), destination_ports=("1024-65535",)),),
                       action="accept", counter=True)
    frag = next(r for r in f.rules if r.name == "allow-dns-fragments")
    assert [s.protocol for s in frag.specs] == ["tcp", "udp"]
    assert next(r for r in f.rules if r.name == "allow-vrrp").specs == (ServiceSpec(protocol="112"),)
    assert f.rules[-1] == Rule(name="discard-default", family="ipv4", action="deny", counter=True)
    assert any("ratelimit-large-dns" in s and "next term" in s for s in p.skipped)
    assert frag.sources == () and frag.source_excludes == (net("200.1.1.3/32"),) and frag.fragment == "non-first"
    assert not any("allow-dns-fragments" in s for s in p.skipped)  # `0.0.0.0/0` + `except`, `is-fragment`: modelled


def test_hier_config_filter_and_attachment():
    p = parse(corpus("hier_config__running_config_junos.conf"))
    f = p.filters["TEST"]
    assert f.rules == (Rule(name="1", family="ipv4", sources=(net("10.0.0.0/29"),), action="accept"),)
    assert f.attachments == (Attachment(interface="irb.3", direction="in"),)


def test_crlf_file_and_inactive_terms():
    text = corpus("jvd__mebs__mdr1_acx7509.conf")
    assert "\r\n" in text
    p = parse(text)
    rm = p.route_maps["PS-BGP-MSE-EXPORT"]
    # terms FROM-METRO-RING and LOOPBACK are inactive: 8 terms configured, 6 active
    assert len(rm.entries) == 6
    assert all("\r" not in name for name in list(p.prefix_lists) + list(p.route_maps))
    # `from community [ A B C ]` ORs three communities: a generated community-list with one entry each
    gen = p.community_lists["PS-BGP-MSE-EXPORT.LOOP-PREVENT"]
    assert len(gen.entries) == 3
    assert rm.entries[0].match.community_list == "PS-BGP-MSE-EXPORT.LOOP-PREVENT"
    assert any("inactive" in s and "term FROM-METRO-RING" in s for s in p.skipped)


# --- ciscoconfparse2 cross-check of the brace -> set-line conversion -------------------------------------

def _ccp_leaf_lines(path: Path) -> set[tuple[str, ...]]:
    ciscoconfparse2 = pytest.importorskip("ciscoconfparse2")
    parsed = ciscoconfparse2.CiscoConfParse(str(path), syntax="junos")
    out: set[tuple[str, ...]] = set()
    comment = ("/*", "*", "#")
    for obj in parsed.objs:
        if obj.children or obj.text.strip().startswith(comment):
            continue
        texts = [a.text for a in obj.all_parents] + [obj.text]
        words = [_unquote(t) for text in texts for t in _TOKEN.findall(text)
                 if t not in ("replace:", "protect:", "inactive:")]
        out.update(_expand_lists(words))
    return out


@pytest.mark.parametrize("name", ["hier_config__running_config_junos.conf",
                                  "jvd__scale_out_firewall_nat__srx1a_srx4600.conf",
                                  "aerleon__sample_juniper_loopback.jcl.ref"])
def test_set_lines_agree_with_ciscoconfparse2(name: str):
    corpus(name)
    ours, _ = hierarchical_to_set((CORPUS / name).read_text())
    assert set(ours) == _ccp_leaf_lines(CORPUS / name)


# --- hierarchical and set format give the same policy ----------------------------------------------------

HIERARCHICAL = """\
## Last changed: 2025-01-01
/* a comment
   over two lines */
firewall {
    family inet {
        replace: filter EDGE-IN {
            term web {
                from {
                    destination-address {
                        203.0.113.0/24;
                    }
                    protocol tcp;
                    destination-port [ http https ];
                }
                then {
                    count web;
                    accept;
                }
            }
            inactive: term old {
                then discard;
            }
            term deny-rest {
                then {
                    syslog;
                    discard;
                }
            }
        }
    }
}
interfaces {
    ge-0/0/0 {
        unit 0 {
            family inet {
                filter {
                    input EDGE-IN;
                }
            }
        }
    }
}
policy-options {
    prefix-list CUSTOMERS {
        198.51.100.0/24;
    }
    policy-statement FROM-PEER {
        term customers {
            from {
                prefix-list CUSTOMERS;
                community PEER;
            }
            then {
                local-preference 200;
                as-path-prepend "64500 64500";
                accept;
            }
        }
        term rest {
            then reject;
        }
    }
    community PEER members 64500:100;
}
protocols {
    bgp {
        group peers {
            type external;
            import FROM-PEER;
            neighbor 198.51.100.201 {
                peer-as 64500;
            }
        }
    }
}
"""

SET_FORMAT = """\
set firewall family inet filter EDGE-IN term web from destination-address 203.0.113.0/24
set firewall family inet filter EDGE-IN term web from protocol tcp
set firewall family inet filter EDGE-IN term web from destination-port http
set firewall family inet filter EDGE-IN term web from destination-port https
set firewall family inet filter EDGE-IN term web then count web
set firewall family inet filter EDGE-IN term web then accept
set firewall family inet filter EDGE-IN term old then discard
set firewall family inet filter EDGE-IN term deny-rest then syslog
set firewall family inet filter EDGE-IN term deny-rest then discard
set interfaces ge-0/0/0 unit 0 family inet filter input EDGE-IN
set policy-options prefix-list CUSTOMERS 198.51.100.0/24
set policy-options policy-statement FROM-PEER term customers from prefix-list CUSTOMERS
set policy-options policy-statement FROM-PEER term customers from community PEER
set policy-options policy-statement FROM-PEER term customers then local-preference 200
set policy-options policy-statement FROM-PEER term customers then as-path-prepend "64500 64500"
set policy-options policy-statement FROM-PEER term customers then accept
set policy-options policy-statement FROM-PEER term rest then reject
set policy-options community PEER members 64500:100
set protocols bgp group peers type external
set protocols bgp group peers import FROM-PEER
set protocols bgp group peers neighbor 198.51.100.201 peer-as 64500
deactivate firewall family inet filter EDGE-IN term old
"""


def test_hierarchical_and_set_format_give_the_same_policy():
    h, s = parse(HIERARCHICAL), parse(SET_FORMAT)
    crlf = parse(HIERARCHICAL.replace("\n", "\r\n"))
    for other in (s, crlf):
        assert list(h.items()) == list(other.items())
        assert h.skipped == other.skipped
    f = h.filters["EDGE-IN"]
    assert [r.name for r in f.rules] == ["web", "deny-rest"]
    assert f.rules[0].specs == (ServiceSpec(protocol="tcp", destination_ports=(80, 443)),)
    assert f.rules[1] == Rule(name="deny-rest", family="ipv4", action="deny", log=True)
    assert h.route_maps["FROM-PEER"].entries[0] == RouteMapEntry(
        seq=10, action="permit", match=Match(prefix_list="CUSTOMERS", community_list="PEER"),
        set=SetClause(local_preference=200, as_path_prepend=(64500, 64500)))
    assert h.binding_for("198.51.100.201", "ipv4", "in").route_map == "FROM-PEER"
    assert h.skipped == ["junos: inactive, ignored: firewall family inet filter EDGE-IN term old"]


# --- one construct per fixture ---------------------------------------------------------------------------

def test_route_filters_become_a_generated_prefix_list():
    p = parse("""
set policy-options prefix-list PL 10.1.0.0/16
set policy-options policy-statement P term t from route-filter 10.0.0.0/8 exact
set policy-options policy-statement P term t from route-filter 10.0.0.0/8 orlonger
set policy-options policy-statement P term t from route-filter 10.0.0.0/8 longer
set policy-options policy-statement P term t from route-filter 10.0.0.0/8 upto /24
set policy-options policy-statement P term t from route-filter 172.16.0.0/12 prefix-length-range /20-/24
set policy-options policy-statement P term t from prefix-list-filter PL orlonger
set policy-options policy-statement P term t then accept
""")
    # Junos matches route-filters as a set: read in one canonical order and spelling (parsers/canonical.py)
    assert p.prefix_lists["P.t"] == PrefixList(name="P.t", afi="ipv4", entries=(
        PrefixListEntry(seq=5, action="permit", prefix="10.0.0.0/8"),
        PrefixListEntry(seq=10, action="permit", prefix="10.0.0.0/8", le=24),
        PrefixListEntry(seq=15, action="permit", prefix="10.0.0.0/8", le=32),
        PrefixListEntry(seq=20, action="permit", prefix="10.0.0.0/8", ge=9),
        PrefixListEntry(seq=25, action="permit", prefix="10.1.0.0/16", le=32),
        PrefixListEntry(seq=30, action="permit", prefix="172.16.0.0/12", ge=20, le=24),
    ))
    assert p.route_maps["P"].entries == (RouteMapEntry(seq=10, action="permit", match=Match(prefix_list="P.t")),)


def test_communities_standard_large_expanded_and_actions():
    p = parse("""
set policy-options community STD members [ 64500:1 64500:2 ]
set policy-options community BIG members large:64500:1:2
set policy-options community RE members "^64500:.*$"
set policy-options community RT members target:64500:1
set policy-options policy-statement P term a from community STD
set policy-options policy-statement P term a then community add STD
set policy-options policy-statement P term a then community add BIG
set policy-options policy-statement P term a then accept
set policy-options policy-statement P term b then community set STD
set policy-options policy-statement P term b then community delete RE
set policy-options policy-statement P term b then accept
""")
    assert p.community_lists["STD"] == CommunityList(name="STD", entries=(
        CommunityListEntry(action="permit", communities=("64500:1", "64500:2")),))  # JunOS members: all must match
    assert p.community_lists["BIG"].kind == "large"
    assert p.community_lists["RE"].entries[0].regex == "^64500:.*$"
    assert "RT" not in p.community_lists and any("RT" in s and "extended" in s for s in p.skipped)
    a, b = p.route_maps["P"].entries
    assert a.set == SetClause(community_add=("64500:1", "64500:2"), large_community_add=("64500:1:2",))
    assert a.match == Match(community_list="STD")
    assert b.set == SetClause(community_replace=("64500:1", "64500:2"), community_delete="RE")


def test_as_path_and_as_path_group():
    p = parse("""
set policy-options as-path ONE ".* 1$"
set policy-options as-path-group G as-path A "^64500$"
set policy-options as-path-group G as-path B "^64501 .*"
set policy-options policy-statement P term t from as-path-group G
set policy-options policy-statement P term t then accept
""")
    assert p.as_path_lists["ONE"] == AsPathList(name="ONE", entries=(AsPathEntry(seq=5, action="permit", regex=".* 1$"),))
    assert [e.regex for e in p.as_path_lists["G"].entries] == ["^64500$", "^64501 .*"]
    assert p.route_maps["P"].entries[0].match == Match(as_path="G")


def test_terms_without_accept_or_reject_fall_through():
    p = parse("""
set policy-options policy-statement P term tag then local-preference 50
set policy-options policy-statement P term deny from route-filter 0.0.0.0/0 exact
set policy-options policy-statement P term deny then reject
set policy-options policy-statement P then accept
""")
    entries = p.route_maps["P"].entries
    assert entries[0] == RouteMapEntry(seq=10, action="permit", set=SetClause(local_preference=50), **{"continue": 20})
    assert entries[1].action == "deny" and entries[1].match.prefix_list == "P.deny"
    assert entries[2] == RouteMapEntry(seq=30, action="permit")  # the unnamed final term comes last
    assert not any("implicit deny" in s for s in p.skipped)  # ends in an unconditional accept


def test_policy_without_catch_all_is_noted():
    p = parse("set policy-options policy-statement P term t from prefix-list X\n"
              "set policy-options policy-statement P term t then accept\n")
    assert any(s.startswith("policy-statement P:") and "BGP: accept" in s for s in p.skipped)


def test_bgp_bindings_neighbor_overrides_group_and_chains_keep_first():
    p = parse("""
set protocols bgp import GLOBAL-IN
set protocols bgp group G export [ OUT-A OUT-B ]
set protocols bgp group G neighbor 198.51.100.201 import NBR-IN
set protocols bgp group G neighbor 198.51.100.202
set protocols bgp group G neighbor 2001:db8::2
""")
    assert p.bindings[("198.51.100.201", "ipv4", "in")].route_map == "NBR-IN"
    assert p.bindings[("198.51.100.202", "ipv4", "in")].route_map == "GLOBAL-IN"
    # the group's export is a binding on the group, in each family its neighbors have
    assert p.bindings[("G", "ipv4", "out")].route_map == "OUT-A"
    assert p.bindings[("G", "ipv6", "out")] == NeighborBinding(neighbor="G", afi="ipv6", direction="out", route_map="OUT-A")
    assert p.binding_for("2001:db8::2", "ipv6", "out").route_map == "OUT-A"
    assert ("198.51.100.202", "ipv4", "out") not in p.bindings
    assert sum("policy chain [ OUT-A OUT-B ]" in s for s in p.skipped) == 2


def test_dual_stack_filter_and_prefix_list_sources():
    p = parse("""
set policy-options prefix-list MGMT 198.51.100.192/28
set policy-options prefix-list MGMT 2001:db8::/64
set firewall family inet filter PROTECT term ssh from source-prefix-list MGMT
set firewall family inet filter PROTECT term ssh from protocol tcp
set firewall family inet filter PROTECT term ssh from destination-port ssh
set firewall family inet filter PROTECT term ssh then accept
set firewall family inet6 filter PROTECT term ssh from source-prefix-list MGMT
set firewall family inet6 filter PROTECT term ssh from next-header tcp
set firewall family inet6 filter PROTECT term ssh from destination-port 22
set firewall family inet6 filter PROTECT term ssh then reject
set firewall family inet6 filter PROTECT term noaction from next-header icmp6
set interfaces lo0 unit 0 family inet filter input PROTECT
set interfaces lo0 unit 0 family inet6 filter input PROTECT
set interfaces ge-0/0/1 unit 10 family inet filter output PROTECT
""")
    f = p.filters["PROTECT"]
    ssh = ServiceSpec(protocol="tcp", destination_ports=(22,))
    assert f.rules == (
        Rule(name="ssh", family="ipv4", sources=(net("198.51.100.192/28"),), specs=(ssh,), action="accept"),
        Rule(name="ssh", family="ipv6", sources=(net("2001:db8::/64"),), specs=(ssh,), action="reject"),
        Rule(name="noaction", family="ipv6", specs=(ServiceSpec(protocol="icmpv6"),), action="accept"),
    )
    assert f.attachments == (Attachment(interface="lo0.0", direction="in"),
                             Attachment(interface="ge-0/0/1.10", direction="out"))
    assert any("noaction" in s and "no terminating action" in s for s in p.skipped)


def test_names_failing_identifier_rules_are_skipped_not_raised():
    p = parse("""
set policy-options prefix-list "bad name!" 203.0.113.0/24
set policy-options policy-statement delete then accept
set firewall family inet filter "x;y" term t then accept
set firewall family inet filter OK term t from source-address not-an-address
set firewall family inet filter OK term t then accept
""")
    assert p.counts() == {k: 0 for k in p.counts()} | {"filter": 1}
    assert p.filters["OK"].rules == ()
    assert any("bad name!" in s for s in p.skipped)
    assert any("policy-statement delete" in s and "reserved" in s for s in p.skipped)
    assert any("x;y" in s for s in p.skipped)
    assert any("not-an-address" in s for s in p.skipped)


def test_route_filter_with_its_own_action_is_noted():
    p = parse("set policy-options policy-statement P term t from route-filter 10.0.0.0/8 exact accept\n")
    assert p.prefix_lists["P.t"].entries == (PrefixListEntry(seq=5, action="permit", prefix="10.0.0.0/8"),)
    assert any("route-filter 10.0.0.0/8 exact action 'accept'" in s for s in p.skipped)


def test_driver_rendering_reads_back():
    """What netchange's Junos driver writes: numeric terms, route-filter-lists, a final reject term."""
    p = parse("""
set policy-options route-filter-list RFL 10.0.0.0/8 upto /24
set policy-options route-filter-list RFL 203.0.113.0/24 prefix-length-range /25-/26
set policy-options policy-statement RM term 5 from route-filter-list RFL
set policy-options policy-statement RM term 5 then next term
set policy-options policy-statement RM term 15 then accept
set policy-options policy-statement RM term netchange-final-reject then reject
""")
    assert p.prefix_lists["RFL"].entries == (
        PrefixListEntry(seq=5, action="permit", prefix="10.0.0.0/8", le=24),
        PrefixListEntry(seq=10, action="permit", prefix="203.0.113.0/24", ge=25, le=26))
    assert p.route_maps["RM"].entries == (
        RouteMapEntry(seq=5, action="permit", match=Match(prefix_list="RFL"), **{"continue": 15}),
        RouteMapEntry(seq=15, action="permit"))


def test_where_bindings_and_list_references_sit():
    """The group holding each neighbor (a binding is written there), each import/export statement with the
    bindings it decides (a group's covers its members without their own), policy chains in order, a
    firewall term's prefix-list, and each policy `from prefix-list` statement by the device's term name."""
    p = juniper_junos.parse("""
set policy-options prefix-list PL-A 203.0.113.0/24
set policy-options policy-statement EXP term ours from prefix-list PL-A
set policy-options policy-statement EXP term ours then accept
set protocols bgp group UP export [ EXP NEXT ]
set protocols bgp group UP neighbor 198.51.100.2
set protocols bgp group UP neighbor 198.51.100.6 export OWN
set firewall family inet filter PROTECT term bgp from source-prefix-list PL-A except
set firewall family inet filter PROTECT term bgp then accept
""")
    assert p.device.bgp_groups == {"198.51.100.2": "UP", "198.51.100.6": "UP"}
    assert p.device.list_refs == {"PL-A": [("policy-options", "policy-statement", "EXP", "term", "ours", "from", "prefix-list", "PL-A")]}
    by = {(u.kind, u.name): u for u in p.uses}
    exp = by[("route_map", "EXP")]
    assert exp.line == ("protocols", "bgp", "group", "UP", "export", "EXP") and exp.chain_next == "NEXT"
    assert exp.covers == (("198.51.100.2", "ipv4", "out"),)
    assert by[("route_map", "OWN")].covers == (("198.51.100.6", "ipv4", "out"),)
    fw = by[("prefix_list", "PL-A")]
    assert fw.line[-3:] == ("source-prefix-list", "PL-A", "except") and fw.at == len(fw.line) - 2


def test_a_firewall_hierarchy_thousands_deep_parses():
    """Found by the long fuzz run: looking for prefix-lists named in firewall terms recursed once per level
    and raised RecursionError on a mutated config 1,000 levels deep."""
    from pipeline.parsers import juniper_junos

    flat = "set firewall family inet filter F term t from " + " ".join(f"w{i}" for i in range(3000)) + "\n"
    braces = "firewall {\n" + "a {\n" * 3000 + "}\n" * 3001
    for text in (flat, braces):
        juniper_junos.parse(text)  # no exception
    uses = juniper_junos.parse("set firewall family inet filter F term t from source-prefix-list PL-A\n"
                               "set firewall family inet filter F term t then accept\n").uses
    assert [(u.kind, u.name) for u in uses] == [("prefix_list", "PL-A")]


def test_a_match_on_an_as_path_group_naming_nothing_is_noted_not_raised():
    """Second long fuzz run: `from as-path-group` with no name raised IndexError out of the parser."""
    from pipeline.parsers import juniper_junos

    p = juniper_junos.parse("set policy-options policy-statement RM-OUT term 10 from as-path-group\n"
                            "set policy-options policy-statement RM-OUT term 10 then accept\n")
    assert any("as-path-group" in s for s in p.skipped), p.skipped


def _tree_as_before(lines, deactivated):
    """build_tree as it was before the seed-33 fuzz run: the reference its linear version must equal."""
    from pipeline.parsers.junos_setlines import Node

    root, dead = Node(), set(deactivated)
    for line in lines:
        if dead and any(line[:n] in dead for n in range(1, len(line) + 1)):
            continue
        node = root
        for word in line:
            node = node.children.setdefault(word, Node())
    return root


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_statement_tree_is_the_one_the_per_prefix_check_built(path):
    from pipeline.parsers.junos_setlines import build_tree, is_set_format, parse_text, set_format_lines

    text = path.read_text().replace("\r\n", "\n")
    lines, deactivated = set_format_lines(text)[:2] if is_set_format(text) else hierarchical_to_set(text)
    assert build_tree(lines, deactivated) == _tree_as_before(lines, deactivated)
    assert parse_text(text).tree == _tree_as_before(lines, deactivated)


def test_unbalanced_braces_do_not_repeat_ever_longer_paths():
    """Third long fuzz run (seed 33): a mutated 58 KB config whose braces no longer balanced nested every later
    statement one group deeper; each repeated the whole path, and parsing took minutes (quadratic). Statements
    below 64 words of path are not read, with a note on the object they sit in; the words the tree is built
    from stay linear in the text."""
    from pipeline.parsers.junos_setlines import MAX_PATH_WORDS, parse_text

    text = ("policy-options {\n prefix-list PL-A {\n  198.51.100.0/24;\n" + "  rule r match {\n" * 400
            + "  term t then accept;\n" * 2000)
    lines, _ = hierarchical_to_set(text)
    assert sum(map(len, lines)) <= (MAX_PATH_WORDS + 4) * 2000
    assert ("policy-options", "prefix-list", "PL-A", "198.51.100.0/24") in lines
    notes = [n for n in parse_text(text).notes if "nested more than" in n]
    assert notes and (notes[0].kind, notes[0].name) == ("prefix_list", "PL-A")
    p = juniper_junos.parse(text)
    assert any("nested more than" in s and s.name == "PL-A" for s in p.skipped)


def _set_lines_as_before(text):
    """set_format_lines before the seed-33 fuzz run (a pass over all earlier lines per delete/activate)."""
    lines, deactivated, notes = [], [], []
    for raw in text.splitlines():
        toks = [t for t in _TOKEN.findall(raw) if not (t.startswith("#") or t.startswith("/*"))]
        if not toks:
            continue
        verb, words = toks[0], [_unquote(t) for t in toks[1:]]
        if verb == "set":
            lines.extend(_expand_lists(words))
        elif verb == "deactivate":
            deactivated.append(tuple(words))
        elif verb == "activate":
            deactivated = [d for d in deactivated if d != tuple(words)]
        elif verb == "delete":
            n = len(words)
            lines = [ln for ln in lines if ln[:n] != tuple(words)]
        else:
            notes.append(f"junos: line not understood, ignored: {raw.strip()[:120]}")
    return lines, deactivated, notes


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "delete", "deactivate", "activate", "show"]),
                          st.lists(st.sampled_from(["a", "b", "c", "[", "]"]), max_size=4)), max_size=25))
def test_set_lines_apply_delete_and_activate_as_they_did_line_by_line(ops):
    """Deletes and activates are applied reading from the end (linear); the result is the one applying them
    in order over every earlier line gave."""
    from pipeline.parsers.junos_setlines import set_format_lines

    text = "\n".join(" ".join([verb, *words]) for verb, words in ops) + "\n"
    assert set_format_lines(text) == _set_lines_as_before(text)
