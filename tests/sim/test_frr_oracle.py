"""The FRR simulator against a real FRR 8.4 bgpd: the same commands, typed into both, must be refused
alike and leave the same running configuration. Grounds the IOS-family engine in a real CLI."""

from __future__ import annotations

import pytest

from sim import Rejected, simulator
from sim.compare import diff
from sim.frr_oracle import RealFrr, unavailable

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"real FRR oracle: {WHY}")

BASE = ["router bgp 65001", "neighbor 198.51.100.2 remote-as 65002", "neighbor PG peer-group", "neighbor PG remote-as 65003",
        "neighbor 198.51.100.6 peer-group PG", "exit"]

SCENARIOS = {
    "prefix-list seq replaced, last entry removes the list, bad range refused": [
        "ip prefix-list A seq 5 permit 10.0.0.0/8", "ip prefix-list A seq 5 permit 11.0.0.0/8 le 24",
        "ip prefix-list A seq 10 permit 12.0.0.0/8 ge 7", "ip prefix-list A seq 10 permit 12.0.0.0/8 ge 8",
        "ip prefix-list A permit 13.0.0.0/8", "ip prefix-list B seq 5 deny any", "no ip prefix-list B seq 5",
        "ip prefix-list C seq 5 permit 10.1.1.1/8", "ipv6 prefix-list D seq 5 permit 2001:db8::/32 le 48",
        "ip prefix-list E description only a description", "no ip prefix-list C"],
    "route-map clauses replace, no-forms remove whatever the value": [
        "route-map R permit 10", "match ip address prefix-list A", "match ip address prefix-list B", "set local-preference 150",
        "set local-preference 250", "set metric 10", "no set metric 99", "set community 65001:1 65001:2 additive",
        "set community 65001:3", "description first", "description second", "continue 20", "route-map R deny 10",
        "route-map R permit 20", "match community CL", "route-map R permit 30", "no route-map R deny 20", "route-map R permit"],
    "bindings: undefined neighbor refused, missing route-map warned, member outbound allowed": [
        *BASE, "route-map RM permit 10", "exit", "router bgp 65001", "neighbor 198.51.100.9 route-map RM in",
        "neighbor 198.51.100.2 route-map RM in", "address-family ipv4 unicast", "neighbor 198.51.100.2 route-map NOPE out",
        "neighbor 198.51.100.6 route-map RM out", "neighbor PG route-map RM in", "neighbor 198.51.100.2 route-map RM out",
        "no neighbor 198.51.100.2 route-map WHATEVER in", "exit-address-family", "address-family ipv6 unicast",
        "neighbor 198.51.100.2 route-map RM in", "exit-address-family", "exit", "router bgp 65002"],
    "community and AS-path lists: seq 5 steps, re-entered seq replaced": [
        "bgp community-list standard CL permit 65001:1", "bgp community-list standard CL seq 5 permit 65001:2",
        "bgp community-list standard CL permit 65001:3 65001:4", "bgp community-list expanded CE permit ^65535:666$",
        "bgp as-path access-list AP permit ^65003_", "bgp as-path access-list AP permit _65004$",
        "no bgp as-path access-list AP seq 5 permit ^65003_", "no bgp community-list standard CE",
        "bgp large-community-list standard LC permit 65001:1:3"],
}


@pytest.fixture
def real_frr():
    frr = RealFrr()
    yield frr
    frr.close()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_frr_simulator_answers_like_real_frr(name, real_frr):
    commands = SCENARIOS[name]
    real_out = real_frr.apply(commands)
    sim = simulator("frr")
    sim.enter_config()
    sim_out: dict[int, str] = {}
    for i, c in enumerate(commands):
        before = len(sim.warnings)
        try:
            sim.apply(c)
        except Rejected as e:
            sim_out[i] = e.message
        if len(sim.warnings) > before:
            sim_out[i] = sim.warnings[-1][1]
    said = {commands[i]: m for i, m in real_out.items()}
    assert set(real_out) == set(sim_out), f"FRR answered {said}; the simulator {({commands[i]: m for i, m in sim_out.items()})}"
    gone, extra = diff(real_frr.show(), sim.show())
    assert not gone and not extra, f"only in real FRR: {gone}\nonly in the simulator: {extra}"
