"""IOS-family parsers against the shared corpus of real published configs (a copy in tests/fixtures/corpus).

Every file parses without error under both engines with identical results; a few files were counted by
hand and pin specific objects.
"""

from __future__ import annotations

import importlib
import ipaddress

import pytest

from pipeline.inventory import Attachment
from pipeline.model import (AsPathEntry, CommunityListEntry, Match, NeighborBinding, PrefixListEntry, RouteMapEntry,
                            Rule, ServiceSpec, SetClause)
from corpus import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
PLATFORMS = ("cisco_ios", "cisco_nxos", "arista_eos", "aruba_aoscx", "frr")


def corpus_files() -> list[pytest.param]:
    return [pytest.param(platform, f, id=f"{platform}/{f.name}")
            for platform in PLATFORMS for f in sorted((CORPUS / platform).iterdir()) if f.is_file()]


def parse(platform: str, name: str, engine: str = "fast"):
    module = importlib.import_module(f"pipeline.parsers.{platform}")
    return module.parse((CORPUS / platform / name).read_bytes().decode(), engine=engine)


@pytest.mark.parametrize("platform, path", corpus_files())
def test_every_file_parses_and_engines_agree(platform, path):
    module = importlib.import_module(f"pipeline.parsers.{platform}")
    text = path.read_bytes().decode()  # bytes as published: CRLF and missing final newlines stay
    fast = module.parse(text)
    assert module.parse(text, engine="ciscoconfparse2") == fast
    # Rules are built without per-object validation for speed; they must equal validated ones.
    for f in fast.filters.values():
        for rule in f.rules:
            assert rule == Rule.model_validate(rule.model_dump())


def test_cisco_ios_as2border1_by_hand():
    p = parse("cisco_ios", "batfish__example-live__as2border1.cfg")
    assert p.counts() == {"prefix_list": 2, "community_list": 3, "as_path_list": 0, "route_map": 4, "binding": 2,
                          "filter": 4}
    assert p.prefix_lists["inbound_route_filter"].entries == (
        PrefixListEntry(seq=5, action="deny", prefix="2.0.0.0/8", le=32),
        PrefixListEntry(seq=10, action="permit", prefix="0.0.0.0/0", le=32))
    assert p.prefix_lists["outbound_routes"].entries == (
        PrefixListEntry(seq=5, action="permit", prefix="2.128.0.0/9", ge=16),)
    assert p.community_lists["as1_community"].entries == (CommunityListEntry(action="permit", regex="_1:"),)
    assert p.route_maps["as2_to_as1"].entries[0] == RouteMapEntry(
        seq=2, action="permit", match=Match(prefix_list="outbound_routes"),
        set=SetClause(med=50, community_add=("2:1",)))
    # neighbor 10.12.11.1 inherits both route-maps from peer-group as1: the bindings sit on the group
    assert p.peer_groups["as1"] == ("10.12.11.1",)
    assert ("10.12.11.1", "ipv4", "in") not in p.bindings
    assert p.bindings[("as1", "ipv4", "in")].route_map == "as1_to_as2"
    assert p.binding_for("10.12.11.1", "ipv4", "in").route_map == "as1_to_as2"
    assert p.binding_for("10.12.11.1", "ipv4", "out").route_map == "as2_to_as1"
    f = p.filters["OUTSIDE_TO_INSIDE"]
    assert [(r.action, r.sources, r.destinations) for r in f.rules] == [
        ("deny", (ipaddress.ip_network("2.0.0.0/8"),), ()),
        ("deny", (), (ipaddress.ip_network("2.128.1.101/32"),)),
        ("accept", (), ())]
    assert f.attachments == (Attachment(interface="GigabitEthernet0/0", direction="in"),)
    assert p.filters["INSIDE_TO_AS1"].attachments == (Attachment(interface="GigabitEthernet0/0", direction="out"),)


def test_cisco_ios_hostile_route_map_name_is_skipped():
    p = parse("cisco_ios", "batfish__unit-tests__cisco_route_map.cfg")
    assert not any("$" in name for name in p.route_maps)
    assert any(s.startswith("route-map 'ijfw$%^&****(((([]grr': name cannot be managed") for s in p.skipped)
    assert len(p.route_maps) == 9 and len(p.as_path_lists) == 3
    assert p.as_path_lists["AS_PATH_ACL1"].entries == (AsPathEntry(action="deny", regex="^65535$"),
                                                       AsPathEntry(action="deny", regex="_65535_"))


def test_cisco_ios_single_crlf_line_file():
    p = parse("cisco_ios", "ciscoconfparse2__sample_08.ios")
    assert len(p.filters) == 11
    assert len(p.filters["BLACKHOLE"].rules) == 27
    assert p.filters["BLACKHOLE"].rules[-2] == Rule(
        name="line26", family="ipv4", sources=(ipaddress.ip_network("140.211.166.205/32"),), action="deny", log=True)
    assert p.filters["EXT_IN"].attachments == (Attachment(interface="Dialer1", direction="in"),)


def test_frr_comm_list_file_by_hand():
    p = parse("frr", "frr__topotests__bgp_route_map_comm_list__r2__frr.conf")
    assert p.counts() == {"prefix_list": 4, "community_list": 3, "as_path_list": 0, "route_map": 1, "binding": 1,
                          "filter": 0}
    assert p.prefix_lists["PL_ADD"].entries == (PrefixListEntry(seq=5, action="permit", prefix="10.1.1.0/24"),)
    rm = p.route_maps["RM_IN"]
    assert [e.seq for e in rm.entries] == [10, 20, 30, 40, 50]
    assert rm.entries[1].set == SetClause(community_delete="CL_DEL")
    assert p.bindings == {("192.168.1.1", "ipv4", "in"): NeighborBinding(neighbor="192.168.1.1", direction="in",
                                                                         route_map="RM_IN")}
    assert sum("set comm-list" in s for s in p.skipped) == 3  # add / replace are not modelled


def test_frr_sonic_spine_peer_groups_by_hand():
    p = parse("frr", "pybatfish__sonic_example__spine02__frr.conf")
    # all inherited from the two peer-groups: 2 groups x 2 address families x 2 directions; each of the 6
    # members takes its group's binding in its own address's family (6 x 2 directions)
    assert len(p.bindings) == 8 and all(b.is_group for b in p.bindings.values())
    assert len(p.effective_bindings()) == 12
    assert p.binding_for("2022:cafe:24::2", "ipv6", "in").route_map == "LEAF_IMPORT"
    assert [e.seq for e in p.route_maps["REDISTRIBUTE_CONNECTED"].entries] == [10, 20, 90, 100]
    assert p.route_maps["FABRIC_EXPORT-COSTOUT"].entries[0].continue_ == 100  # on-match goto 100
    assert p.route_maps["FABRIC_EXPORT-COSTOUT"].entries[0].set.as_path_prepend == (64512, 64512, 64512)


def test_arista_eos_cv_pathfinder_by_hand():
    p = parse("arista_eos", "avd__cv-pathfinder__site1-wan1.cfg")
    assert p.counts() == {"prefix_list": 3, "community_list": 0, "as_path_list": 1, "route_map": 8, "binding": 4,
                          "filter": 1}
    assert len(p.effective_bindings()) == 6  # two of them through a peer-group
    assert p.as_path_lists["ASPATH-WAN"].entries == (AsPathEntry(action="permit", regex="65000"),)
    assert p.prefix_lists["PL-LOOPBACKS-EVPN-OVERLAY"].entries == (
        PrefixListEntry(seq=10, action="permit", prefix="192.168.255.0/24", ge=32),)
    acl = p.filters["ACL-INTERNET-IN_Ethernet4"]
    assert acl.rules[0] == Rule(name="seq10", family="ipv4",
                                destinations=(ipaddress.ip_network("100.64.10.2/32"),),
                                specs=(ServiceSpec(protocol="udp", destination_ports=(500, 4500)),), action="accept",
                                description="Not for PRODUCTION: This ACL is built this way because the lab has an "
                                            "out-of-band interface")
    assert acl.attachments == (Attachment(interface="Ethernet4", direction="in"),)
    assert p.binding_for("10.0.1.8", "ipv4", "in").route_map == "RM-BGP-UNDERLAY-PEERS-IN"


def test_arista_eos_show_running_config_all():
    p = parse("arista_eos", "batfish__arista_bgp_show_run_all_2.cfg")
    # `no neighbor X route-map` default lines bind nothing; the AF-level map overrides the group's
    assert p.binding_for("192.0.2.7", "ipv4", "in").route_map == "IPV4_IN"
    assert p.binding_for("192.0.2.7", "ipv4", "out").route_map == "OTHER_MAP"


def test_aruba_aoscx_switch_backup_by_hand():
    p = parse("aruba_aoscx", "canu__switch_backups__sw-spine-001.cfg")  # no final newline
    assert p.counts() == {"prefix_list": 4, "community_list": 0, "as_path_list": 0, "route_map": 3, "binding": 3,
                          "filter": 2}
    assert p.prefix_lists["tftp"].entries == (
        PrefixListEntry(seq=10, action="permit", prefix="10.92.100.60/32"),
        PrefixListEntry(seq=20, action="permit", prefix="10.94.100.60/32"))
    assert p.prefix_lists["pl-can"].entries == (PrefixListEntry(seq=10, action="permit", prefix="192.168.11.0/24", le=32),)
    assert p.route_maps["ncn-w001"].entries[3] == RouteMapEntry(
        seq=40, action="permit", match=Match(prefix_list="pl-can"),
        set=SetClause(next_hop=ipaddress.ip_address("192.168.11.4")))
    assert p.bindings[("192.168.4.5", "ipv4", "in")].route_map == "ncn-w002"
    mgmt = p.filters["mgmt"]
    assert len(mgmt.rules) == 11 and mgmt.rules[0].name == "seq20"
    assert mgmt.rules[0].sources == (ipaddress.ip_network("192.168.0.0/17"),)
    assert mgmt.rules[0].specs == (ServiceSpec(protocol="tcp", destination_ports=(22,)),)


def test_cisco_nxos_chained_continue_by_hand():
    p = parse("cisco_nxos", "batfish__nxos_route_map_multiple_chained_continue_entries.cfg")
    assert p.counts() == {"prefix_list": 6, "community_list": 2, "as_path_list": 0, "route_map": 2, "binding": 1,
                          "filter": 0}
    assert len(p.prefix_lists["NON_RFC1918"].entries) == 29
    assert p.prefix_lists["LOOPBACKS_V4"].entries == (PrefixListEntry(seq=5, action="permit", prefix="0.0.0.0/0", ge=32),)
    assert p.route_maps["REDISTRIBUTE_CONNECTED"].entries[0].continue_ == 20
    assert p.bindings[("192.0.2.2", "ipv4", "out")].route_map == "EXPORT"


def test_cisco_nxos_file_without_final_newline_keeps_its_last_entry():
    p = parse("cisco_nxos", "batfish__nxos_ip_access_list.cfg")
    text = (CORPUS / "cisco_nxos" / "batfish__nxos_ip_access_list.cfg").read_bytes()
    assert not text.endswith(b"\n")
    last = p.filters["acl_l4_fragments_semantics"].rules[-1]  # `deny 5 host 192.0.2.1 any fragments`
    assert last.name == "line6" and last.action == "deny" and last.fragment == "non-first"


@pytest.mark.parametrize("platform, name", [
    ("cisco_ios", "cisco.ios__ios_route_maps.cfg"), ("cisco_ios", "batfish__example-live__as1border1.cfg"),
    ("arista_eos", "avd__cv-pathfinder__site1-wan1.cfg"), ("aruba_aoscx", "netutils__aoscx_full_sent.txt"),
    ("frr", "pybatfish__sonic_example__spine02__frr.conf"), ("cisco_nxos", "batfish__nxos_route_map.cfg"),
])
@pytest.mark.parametrize("keep", [1, 2, 3, 4, 5])
def test_truncated_lines_never_raise(platform, name, keep):
    """Every line cut after `keep` words (indentation kept): broken input is noted, not raised."""
    module = importlib.import_module(f"pipeline.parsers.{platform}")
    lines = (CORPUS / platform / name).read_text().splitlines()
    text = "\n".join(line[: len(line) - len(line.lstrip())] + " ".join(line.split()[:keep]) for line in lines)
    policy = module.parse(text)
    assert not [s for s in policy.skipped if "internal parser error" in s]


@pytest.mark.parametrize("platform, path", corpus_files())
def test_no_internal_errors_on_the_corpus(platform, path):
    module = importlib.import_module(f"pipeline.parsers.{platform}")
    assert not [s for s in module.parse(path.read_bytes().decode()).skipped if "internal parser error" in s]
