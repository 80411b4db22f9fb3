"""Each platform's BGP output, parsed from recorded device output (fixtures/README.md names every source):
sessions with their state and accepted prefixes, a prefix's best path with its attributes, route tables,
UPDATE counters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.observers import aoscx, eos, ios, junos, nxos
from pipeline.drivers.observers.base import Observer, Session, as_path_numbers
from pipeline.model.route import Route

F = Path(__file__).resolve().parent / "fixtures"


def js(name: str):
    return json.loads((F / name).read_text())


def text(name: str) -> str:
    return (F / name).read_text()


# ---------------------------------------------------------------- Arista EOS

def test_eos_sessions_both_families():
    v4 = eos.sessions_from_eos_json(js("eos/show_ip_bgp_summary.json"), "ipv4")
    v6 = eos.sessions_from_eos_json(js("eos/show_ipv6_bgp_summary.json"), "ipv6")
    assert v4 == {("10.0.0.1", "ipv4"): Session("Established", 3), ("10.0.0.3", "ipv4"): Session("Active", 0)}
    assert v6[("2001:fb8:100::2", "ipv6")] == Session("Established", 3)


def test_eos_best_path_with_communities():
    peer, route = eos.best_path_from_eos_json(js("eos/show_ip_bgp_1.0.4.0_24.json"))
    assert peer == "192.168.0.1"
    assert route == Route(prefix="1.0.4.0/24", as_path=(1299, 15169, 43515), next_hop="192.168.0.1", local_pref=50, med=0,
                          weight=0, communities=frozenset({"1299:1234", "1299:5678", "1299:91011", "1299:12134"}))


def test_eos_route_table_and_update_counter():
    table = {r.prefix: r.local_pref for r in eos.routes_from_eos_json(js("eos/show_ip_bgp_vrf_all.json"))}
    assert table["172.16.1.2/32"] == 5 and table["172.16.1.1/32"] == 0  # the lab's local-preference experiment
    assert eos.updates_sent_from_eos_json(js("eos/show_ip_bgp_neighbors_vrf_all.json"), "10.12.11.2") == 10
    assert eos.updates_sent_from_eos_json(js("eos/show_ip_bgp_neighbors_vrf_all.json"), "10.99.0.1") is None


# ---------------------------------------------------------------- Junos

def test_junos_sessions_per_rib_and_updates():
    data = js("junos/show_bgp_neighbor.json")
    assert junos.sessions_from_junos_json(data) == {("10.0.12.0", "ipv4"): Session("Established", 6)}  # `+179` dropped
    assert junos.updates_sent_from_junos_json(data, "10.0.12.0") == 0


def test_junos_active_paths_with_communities():
    routes = junos.routes_from_junos_json(js("junos/show_route_protocol_bgp_detail.json"))
    assert routes["10.50.2.0/24"] == Route(prefix="10.50.2.0/24", as_path=(65001,), next_hop="10.0.12.0", local_pref=100,
                                           communities=frozenset({"65001:2"}))
    assert len(routes) == 3


# ---------------------------------------------------------------- NX-OS

def test_nxos_sessions_of_one_vrf_unicast_only():
    data = js("nxos/show_bgp_all_summary_vrf_all.json")
    assert nxos.sessions_from_nxos_json(data, vrf="PROD") == {("10.1.1.153", "ipv4"): Session("Established", 9),
                                                              ("10.1.1.155", "ipv4"): Session("Established", 9)}
    assert nxos.sessions_from_nxos_json(data) == {}  # the default VRF has only L2VPN EVPN neighbors here
    shut = nxos.sessions_from_nxos_json(js("nxos/show_bgp_all_summary_vrf_all_admin_shut.json"), vrf="RED-PRE-PROD")
    assert shut[("10.1.1.177", "ipv4")] == Session("Admin (Shut)", 0) and not shut[("10.1.1.177", "ipv4")].up


def test_nxos_best_path_of_one_prefix():
    """`show bgp ipv4 unicast <prefix>` prints one prefix's section: that of 0.0.0.0/0 in VRF default here."""
    raw = text("nxos/show_bgp_vrf_all_ipv4_unicast_detail.raw")
    start = raw.index("BGP routing table information for VRF default")
    one = raw[start:raw.index("BGP routing table entry for 2.22.22.0/27")]
    paths = nxos.paths_from_nxos_detail(one)
    assert [(peer, best, r.local_pref) for peer, best, r in paths] == [("10.2.2.252", True, 5000), ("10.1.1.226", False, 4000)]
    best = paths[0][2]
    assert best.as_path == (65111 * 65536 + 1233, 65111 * 65536 + 4566, 65111 * 65536 + 7899, 12345)  # asdot
    assert best.communities == frozenset({"12345:1111", "3000:4444", "44444:1111"})


def test_nxos_route_table_and_update_counter():
    table = {r.prefix: r for r in nxos.routes_from_nxos_table(text("nxos/show_bgp_vrf_ipv4_unicast_neighbors_routes.raw"))}
    assert table["10.10.0.2/32"].next_hop == "10.10.1.1"  # the best (`*>`) of its two paths
    assert table["10.10.0.1/32"] == Route(prefix="10.10.0.1/32", next_hop="0.0.0.0", local_pref=100, weight=32768)
    assert nxos.updates_sent_from_nxos(text("nxos/show_ip_bgp_neighbors.raw"), "174.8.181.98") == 8559


# ---------------------------------------------------------------- IOS / IOS-XE

def test_ios_summary_both_families_and_wrapped_ipv6_neighbors():
    s = ios.sessions_from_ios_summary(text("ios/show_bgp_all_summary.txt"))
    assert s[("10.0.0.2", "ipv4")] == Session("Established", 3143)
    assert s[("192.168.0.3", "ipv4")] == Session("Idle (Admin)", 0)
    assert s[("2001:db8::4", "ipv6")] == Session("Established", 36391)  # address alone on its line, counters below
    assert s[("2001:db8::3", "ipv6")].state == "Idle (Admin)"


def test_ios_summary_agrees_with_ntc_templates():
    """On IPv4, our template reads what ntc-templates' cisco_ios_show_ip_bgp_summary reads."""
    from pipeline.drivers.observers.base import textfsm_rows

    raw = text("ios/show_ip_bgp_summary.raw")
    ntc = {(r["bgp_neighbor"], r["state_or_prefixes_received"]) for r in textfsm_rows("ntc:cisco_ios_show_ip_bgp_summary", raw)}
    ours = {(r["neighbor"], r["state_or_prefixes_received"]) for r in textfsm_rows("cisco_ios_show_bgp_summary", raw)}
    assert ours == ntc and len(ours) == 10


@pytest.mark.parametrize("case,expected", [
    ("normal", Route(prefix="1.0.4.0/24", as_path=(8244, 3269, 65020, 65017), next_hop="10.105.179.5", local_pref=100)),
    ("7200_format", Route(prefix="1.0.4.0/24", as_path=(55610,), next_hop="1.2.3.4", local_pref=100)),
    ("non_exact", Route(prefix="1.0.4.0/24", as_path=(3, 3, 3, 3), next_hop="200.200.200.1", local_pref=100, med=0)),
])
def test_ios_best_path(case, expected):
    [(peer, best, route)] = ios.paths_from_ios_prefix(text(f"ios/show_ip_bgp_1.0.4.0_24.{case}.txt"))
    assert best and route == expected and peer == expected.next_hop


def test_ios_paths_with_communities_and_one_best():
    paths = ios.paths_from_ios_prefix(text("ios/show_ip_bgp_vpnv4_vrf_TEST_1.0.4.0_24.asr_pe.txt"))
    assert [(best, r.local_pref, r.communities) for _, best, r in paths] == [
        (True, 110, frozenset({"560", "no-export"})), (False, 90, frozenset({"560", "no-export"})), (False, 100, frozenset())]


def test_ios_route_table_through_ntc_templates():
    table = {r.prefix: r for r in ios.routes_from_ios_table(text("ios/show_ip_bgp.raw"))}
    assert table["10.9.9.9/32"].as_path == (10, 10) and table["10.2.2.2/32"].local_pref == 100
    assert "192.168.1.0/24" in table  # classful network printed without its length


def test_ios_update_counters_both_families():
    assert ios.updates_sent_from_ios(text("ios/show_ip_bgp_ipv4_unicast_neighbors_2.2.2.2.txt")) == 25
    assert ios.updates_sent_from_ios(text("ios/show_ip_bgp_ipv6_unicast_neighbors_2001_559__1.txt")) == 2480


# ---------------------------------------------------------------- AOS-CX

def test_aoscx_ipv4_sessions_of_the_default_vrf():
    assert aoscx.sessions_from_aoscx_summary(text("aoscx/show_bgp_all-vrfs_all_summary.raw")) == {
        ("10.252.13.2", "ipv4"): Session("Idle", 0), ("172.25.0.1", "ipv4"): Session("Established", 0)}


# ---------------------------------------------------------------- every observer

def test_as_path_numbers():
    assert as_path_numbers("1299 15169 I") == (1299, 15169)
    assert as_path_numbers("{65003,65004} i") == (65003, 65004)
    assert as_path_numbers("65111.1233") == (65111 * 65536 + 1233,)


@pytest.mark.parametrize("platform", all_platforms())
def test_every_bgp_platform_has_an_observer_that_implements_what_it_answers(platform):
    d = get_driver(platform)
    if "binding" not in d.kinds:
        assert d.observer_class is None  # no BGP: nothing to observe
        return
    cls = d.observer_class
    assert cls is not None and cls.platform == platform and "sessions" in cls.answers
    for question in cls.answers:
        assert getattr(cls, question) is not getattr(Observer, question), f"{platform}: {question} declared, not implemented"
    for question in {"route", "received", "accepted", "updates_sent", "best_path"} - cls.answers:
        assert getattr(cls, question) is getattr(Observer, question), f"{platform}: {question} implemented, not declared"


def test_output_a_template_does_not_recognise_is_a_device_error():
    """NX-OS answering `show bgp ipv4 unicast P` with text the ntc template's Error rule rejects: a DeviceError
    naming the template (the deploy reports it as a failed check), not textfsm's TextFSMError (found by the
    fuzz suite: a route post-check on nx1 crashed)."""
    from pipeline.drivers.observers.nxos import NxosObserver
    from pipeline.errors import DeviceError

    class Answers:
        def send_command(self, command, **_kw):
            return "{}"

    with pytest.raises(DeviceError, match="cisco_nxos_show_bgp_vrf_all_ipv4_unicast_detail"):
        NxosObserver(Answers(), "nx1").route("198.51.100.0/24")
