"""What each platform declares and refuses, its refresh commands, and its error patterns."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers import all_platforms
from pipeline.inventory import PLATFORM_DRIVERS, Attachment, Platform
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.routing import AsPathEntry, AsPathList, CommunityList, CommunityListEntry, PrefixList, PrefixListEntry, RouteMap
from pipeline.plan import ops as O

from .conftest import PLATFORM_HOST

ALL = sorted(PLATFORM_HOST)


@pytest.mark.parametrize("platform", ALL)
def test_driver_declares_everything(platform):
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    d = get_driver(platform)
    assert d.platform == Platform(platform)
    assert d.netmiko_device_type in CLASS_MAPPER  # a device type netmiko really has
    assert Platform(platform) in PLATFORM_DRIVERS.values()  # a nornir `platform` names the driver
    assert d.error_patterns


def test_every_driver_has_a_fleet_host():
    assert ALL == all_platforms()


def test_commit_modes_and_fetch_commands():
    modes = {p: get_driver(p).commit_mode.name for p in ALL}
    assert {p: modes[p] for p in ("frr", "cisco_ios", "arista_eos", "aruba_aoscx", "juniper_junos", "nftables")} == {
        "frr": "line", "cisco_ios": "line", "arista_eos": "session", "aruba_aoscx": "auto_checkpoint",
        "juniper_junos": "candidate", "nftables": "atomic_file"}
    # IOS with the configuration archive holds its commits under a revert timer
    assert get_driver("cisco_ios").commit_mode_for("archive\n path flash:archive\n").name == "revert_timer"
    assert get_driver("nftables").fetch_command == "nft -j list ruleset"
    assert get_driver("frr").fetch_command == "show running-config"


@pytest.mark.parametrize("platform,nbr,afi,direction,expected", [
    ("frr", "198.51.100.2", "ipv4", "in", ["clear bgp ipv4 unicast 198.51.100.2 soft in"]),
    ("frr", "2001:db8:12::2", "ipv6", "out", ["clear bgp ipv6 unicast 2001:db8:12::2 soft out"]),
    ("cisco_ios", "198.51.100.2", "ipv4", "out", ["clear bgp ipv4 unicast 198.51.100.2 soft out"]),
    ("arista_eos", "198.51.100.2", "ipv4", "in", ["clear ip bgp 198.51.100.2 soft in"]),
    ("arista_eos", "2001:db8:12::2", "ipv6", "in", ["clear ipv6 bgp 2001:db8:12::2 soft in"]),
    ("aruba_aoscx", "198.51.100.2", "ipv4", "in", ["clear bgp ipv4 unicast 198.51.100.2 soft in"]),
    ("aruba_aoscx", "198.51.100.2", "ipv4", "out", []),
    ("cisco_nxos", "2001:db8:12::2", "ipv6", "in", ["clear bgp ipv6 unicast 2001:db8:12::2 soft in"]),
    ("juniper_junos", "198.51.100.2", "ipv4", "in", []),
    ("nftables", "198.51.100.2", "ipv4", "in", []),
])
def test_refresh_commands(platform, nbr, afi, direction, expected):
    cmds = get_driver(platform).refresh_commands(nbr, afi, direction)
    assert cmds == expected
    assert not any(c.startswith("clear ip bgp") for c in cmds if platform in ("frr", "cisco_ios"))  # IPv4-only form


def test_refresh_refuses_non_addresses():
    for bad in ("198.51.100.2 soft in\nclear bgp *", "*", "r2"):
        with pytest.raises(ValueError):
            get_driver("frr").refresh_commands(bad, "ipv4", "in")
    with pytest.raises(ValueError):
        get_driver("frr").refresh_commands("198.51.100.2", "vpnv4", "in")


def test_aoscx_soft_out_declared_off():
    assert get_driver("aruba_aoscx").capabilities.soft_out is False
    assert get_driver("aruba_aoscx").refresh_mode == "soft_in_then_wait_out"


@pytest.mark.parametrize("platform,output,refused", [
    ("frr", "% Unknown command: foo", True), ("frr", "BGP is already running; AS is 65001", True),
    ("frr", "The route-map 'RM-X' does not exist.", True), ("frr", "router bgp 65001", False),
    ("cisco_ios", "% Invalid input detected at '^' marker.", True), ("arista_eos", "% Invalid input", True),
    ("aruba_aoscx", "Invalid input: foo", True), ("juniper_junos", "error: syntax error: foo", True),
    ("juniper_junos", "[edit]", False), ("nftables", "/tmp/x.nft:3:1-2: Error: syntax error", True),
    ("cisco_nxos", "% Invalid command at '^' marker.", True), ("cisco_nxos", "Verification Failed", True),
    ("cisco_nxos", "route-map RM permit 10", False),
])
def test_error_patterns(platform, output, refused):
    assert (get_driver(platform).error_in(output) is not None) == refused


def _create(platform, fleet, kind, obj, known=None):
    h = fleet.hosts[PLATFORM_HOST[platform]]
    return get_driver(platform).render_ops([O.Create(kind, obj.name, obj)], known or DevicePolicy(), h)


LARGE = CommunityList(name="CL-L", kind="large", entries=(CommunityListEntry(action="permit", communities=("1:2:3",)),))
NAMED_AS = AsPathList(name="AS-X", entries=(AsPathEntry(action="permit", regex="^65002_"),))
DENY_PL = PrefixList(name="PL-D", entries=(PrefixListEntry(seq=5, action="deny", prefix="10.0.0.0/8", le=32),))
FILTER = ConcreteFilter(name="F", rules=(Rule(name="r", family="ipv4", action="reject"),),
                        attachments=(Attachment(interface="eth0", direction="in"),))


@pytest.mark.parametrize("platform,kind,obj,message", [
    ("frr", "filter", FILTER.model_copy(update={"rules": (Rule(name="r", family="ipv4", action="deny"),)}), "frr cannot filter traffic"),
    ("cisco_ios", "community_list", LARGE, "large-community lists are not supported"),
    ("cisco_ios", "as_path_list", NAMED_AS, "numbers AS-path access-lists 1-500"),
    ("cisco_ios", "filter", FILTER, "action reject cannot be expressed"),
    ("arista_eos", "filter", FILTER, "action reject cannot be expressed"),
    ("aruba_aoscx", "community_list", LARGE, "large-community lists are not supported"),
    ("juniper_junos", "as_path_list", NAMED_AS, "Cisco '_' boundary"),
    ("juniper_junos", "prefix_list", DENY_PL, "is deny"),
    ("nftables", "prefix_list", DENY_PL, "carry no BGP policy"),
    ("nftables", "filter", FILTER.model_copy(update={"name": "hook-input"}), "base chain"),
])
def test_refusals(platform, kind, obj, message, fleet):
    with pytest.raises(UnsupportedConstruct, match=message):
        _create(platform, fleet, kind, obj)


@pytest.mark.parametrize("platform,entry,message", [
    ("cisco_ios", {"seq": 10, "action": "permit", "match": {"large_community_list": "CL-L"}}, "large communities"),
    ("arista_eos", {"seq": 10, "action": "permit", "set": {"next_hop": "self"}}, "next-hop self"),
    ("frr", {"seq": 10, "action": "permit", "set": {"next_hop": "self"}}, "peer-address"),
    ("aruba_aoscx", {"seq": 10, "action": "permit", "continue": 20}, "continue"),
    ("juniper_junos", {"seq": 10, "action": "permit", "set": {"weight": 5}}, "no BGP weight"),
    ("juniper_junos", {"seq": 10, "action": "permit", "continue": 30}, "next term"),
])
def test_route_map_refusals(platform, entry, message, fleet):
    rm = RouteMap.model_validate({"name": "RM", "entries": [entry]})
    with pytest.raises(UnsupportedConstruct, match=message):
        _create(platform, fleet, "route_map", rm)


def test_unknown_prefix_list_family_is_a_clear_error(fleet):
    rm = RouteMap.model_validate({"name": "RM", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-NOWHERE"}}]})
    with pytest.raises(UnsupportedConstruct, match="PL-NOWHERE.*family is unknown"):
        _create("frr", fleet, "route_map", rm)


def test_binding_to_unknown_neighbor_refused(fleet):
    from pipeline.model.routing import NeighborBinding

    b = NeighborBinding(neighbor="192.0.2.99", direction="in", route_map="RM")
    for platform in ("frr", "juniper_junos"):
        with pytest.raises(UnsupportedConstruct, match="not a BGP neighbor"):
            get_driver(platform).render_ops([O.Bind("binding", "x", b)], DevicePolicy(), fleet.hosts[PLATFORM_HOST[platform]])
