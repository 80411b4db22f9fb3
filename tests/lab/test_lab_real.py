"""The lab is real: SSH to every device, BGP converged from vtysh JSON, traffic follows the routes,
nftables filters, `up` is idempotent and `down` leaves nothing behind. Needs root and namespaces."""

from __future__ import annotations

import json
import re
import sys
import time

import pytest

from pipeline.connect import connect

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]


def test_ssh_with_netmiko_to_every_device(lab):
    inv = lab.inventory
    assert set(inv.hosts) == {"r1", "r2", "r3", "fw1"}
    for host in inv.hosts.values():
        with connect(host) as conn:
            prompt = conn.find_prompt()
            if host.platform.value == "frr":
                assert prompt == f"{host.name}#"
                run = conn.send_command("show running-config")
                assert f"hostname {host.name}" in run
                assert f"router bgp {host.data.bgp.asn}" in run
            else:
                assert conn.send_command("hostname").strip() == host.name
                tables = json.loads(conn.send_command("nft -j list tables"))["nftables"]
                assert any(t.get("table", {}).get("name") == "filter" for t in tables)


def test_strict_host_key_checking_rejects_a_wrong_key(lab, tmp_path, monkeypatch):
    from pipeline.errors import DeviceError

    r1 = lab.inventory.hosts["r1"]
    kh = (lab.lab.known_hosts).read_text().splitlines()
    other = next(line for line in kh if not line.startswith(r1.hostname + " "))
    (tmp_path / "kh").write_text(f"{r1.hostname} {' '.join(other.split()[1:])}\n")  # someone else's key
    monkeypatch.setenv("NETCHANGE_KNOWN_HOSTS", str(tmp_path / "kh"))
    with pytest.raises(DeviceError):
        with connect(r1):
            pass


def test_bgp_established_with_expected_prefix_counts(lab):
    t = lab.topology
    for name, node in t.nodes.items():
        if node.kind != "frr":
            continue
        summary = lab.vtysh_json(name, "show bgp summary json")
        for peer, v, addr in t.bgp_sessions(name):
            af = summary[f"ipv{v}Unicast"]["peers"]
            assert str(addr) in af, f"{name}: {addr} missing from the IPv{v} summary"
            p = af[str(addr)]
            assert p["state"] == "Established", (name, peer, p)
            assert p["pfxRcd"] == getattr(node.expect[peer], f"ipv{v}"), (name, peer, v, p)
        # IPv6 neighbors are activated only in the IPv6 address family
        v4_peers = summary["ipv4Unicast"]["peers"]
        assert all(":" not in a for a in v4_peers), v4_peers


def test_baseline_config_is_what_the_deploy_step_relies_on(lab):
    run = lab.vtysh("r1", "show running-config")
    assert "bgp route-map delay-timer 0" in run
    for addr in ("198.18.1.1", "2001:db8:1:1::2", "198.18.1.3", "2001:db8:1:2::2"):
        assert f"neighbor {addr} soft-reconfiguration inbound" in run
    assert "neighbor 198.18.1.1 route-map RM-R2-IN in" in run
    assert "neighbor 2001:db8:1:2::2 route-map RM-R3-V6-OUT out" in run
    # soft-reconfiguration keeps Adj-RIB-In: received-routes works
    rr = lab.vtysh_json("r1", "show bgp ipv4 unicast neighbors 198.18.1.3 received-routes json")
    assert "203.0.113.0/24" in rr["receivedRoutes"]


def _set_r3_local_pref(lab, value: int) -> None:
    out = lab.vtysh("r1", "configure terminal", "route-map RM-R3-IN permit 10", f"set local-preference {value}",
                    "route-map RM-R3-V6-IN permit 10", f"set local-preference {value}", "end",
                    "clear bgp ipv4 unicast * soft in", "clear bgp ipv6 unicast * soft in")
    assert "Unknown command" not in out, out


def _best_via(lab, prefix: str, v: int) -> str:
    """Which upstream (by BGP peer address) carries r1's best path to *prefix*."""
    afi = "ipv4" if v == 4 else "ipv6"
    data = lab.vtysh_json("r1", f"show bgp {afi} unicast {prefix} json")
    best = [p for p in data["paths"] if p.get("bestpath", {}).get("overall")]
    return best[0]["peer"]["peerId"]


def _wait_best(lab, prefix: str, v: int, peer: str, timeout: float = 10) -> None:
    t0 = time.monotonic()
    while _best_via(lab, prefix, v) != peer:
        assert time.monotonic() - t0 < timeout, f"best path to {prefix} not via {peer}"
        time.sleep(0.1)


@pytest.mark.parametrize("v", [4, 6])
def test_traffic_follows_routes_and_moves_with_local_preference(lab, v):
    ext1, srv1 = lab.address("ext1", v), lab.address("srv1", v)
    prefix = "203.0.113.0/24" if v == 4 else "2001:db8:203::/48"
    r2_peer = str(lab.topology.link_between("r1", "r2").address("r2", v).ip)
    r3_peer = str(lab.topology.link_between("r1", "r3").address("r3", v).ip)

    def carried(count: int = 50) -> tuple[int, int]:
        before = lab.tx_packets("r2", "to-ext1"), lab.tx_packets("r3", "to-ext1")
        assert lab.ping("srv1", ext1, count)
        after = lab.tx_packets("r2", "to-ext1"), lab.tx_packets("r3", "to-ext1")
        return after[0] - before[0], after[1] - before[1]

    assert lab.ping("srv1", ext1, 3)  # warm neighbor caches
    assert _best_via(lab, prefix, v) == r2_peer
    via_r2, via_r3 = carried()
    assert via_r2 >= 50 and via_r3 < 5, (via_r2, via_r3)
    try:
        _set_r3_local_pref(lab, 300)
        _wait_best(lab, prefix, v, r3_peer)
        via_r2, via_r3 = carried()
        assert via_r3 >= 50 and via_r2 < 5, (via_r2, via_r3)
    finally:
        _set_r3_local_pref(lab, 100)
        _wait_best(lab, prefix, v, r2_peer)
    assert srv1  # srv1's address resolved (used as ping source implicitly)


def test_nftables_accepts_and_drops_as_configured(lab):
    srv1_v4, srv1_v6 = lab.address("srv1", 4), lab.address("srv1", 6)
    servers = [lab.background("srv1", [sys.executable, "-m", "http.server", str(port), "--bind", "::"])
               for port in (80, 8080)]
    try:
        t0 = time.monotonic()
        while not lab.tcp_connect("srv1", "::1", 8080) or not lab.tcp_connect("srv1", "::1", 80):
            assert time.monotonic() - t0 < 10, "test servers did not start"
            time.sleep(0.1)
        dropped = _drop_counter(lab)
        for dst in (srv1_v4, srv1_v6):
            assert lab.tcp_connect("ext1", dst, 80), f"tcp/80 to {dst} should be accepted"
            assert not lab.tcp_connect("ext1", dst, 8080, timeout=1), f"tcp/8080 to {dst} should be dropped"
            assert lab.ping("ext1", dst, 3)
        assert _drop_counter(lab) > dropped
    finally:
        for s in servers:
            s.kill()
            s.wait()


def _drop_counter(lab) -> int:
    rules = json.loads(lab.exec("fw1", ["nft", "-j", "list", "chain", "inet", "filter", "forward"]).stdout)["nftables"]
    for r in rules:
        rule = r.get("rule")
        if rule and rule.get("comment") == "dropped by policy":
            return next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
    raise AssertionError("no 'dropped by policy' counter rule in the baseline")


def test_up_is_idempotent(lab):
    pids = {d.name: lab.lab._processes(d) for d in lab.lab.devices.values()}
    before = sorted(lab.lab._our_pids())
    timings = lab.lab.up()
    assert "namespaces" not in timings  # nothing rebuilt
    assert sorted(lab.lab._our_pids()) == before
    assert {d.name: lab.lab._processes(d) for d in lab.lab.devices.values()} == pids
    assert not lab.lab.convergence_gaps()


def test_nornir_reaches_every_device_through_the_inventory(lab):
    from nornir_netmiko.tasks import netmiko_send_command

    nr = lab.inventory.nornir
    routers = nr.filter(platform="cisco_ios")
    res = routers.run(task=netmiko_send_command, command_string="show version")
    assert not res.failed, {h: str(r.exception) for h, r in res.items() if r.failed}
    assert set(res) == {"r1", "r2", "r3"}
    for name, r in res.items():
        assert re.search(rf"FRRouting \S+ \({name}\)", r.result), r.result[:80]  # that very router's vtysh
    fw = nr.filter(platform="linux").run(task=netmiko_send_command, command_string="uname -n")
    assert fw["fw1"].result.strip() == "fw1"
    nr.close_connections()
