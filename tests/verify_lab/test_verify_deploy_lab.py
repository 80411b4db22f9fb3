"""Deploys on the lab verified from sampled traffic: a firewall block, a routing move, and wrong changes the
verifier catches and the deployer rolls back."""

from __future__ import annotations

import time

import pytest

from pipeline.telemetry.deploy_verify import TrafficVerification, verifier_for

from .conftest import agent_processes

pytestmark = [pytest.mark.lab, pytest.mark.slow]

FIREWALL = """
id: {id}
title: Block plain web from ext1 to srv1
requested_by: tests
targets: {{hosts: [fw1]}}
firewall:
  filters:
    - name: BLOCK-EXT1-WEB
      attach: [forward]
      terms:
        - name: deny-ext1-http
          description: no plain http from ext1
          sources: [203.0.113.0/24]
          destinations: [198.51.100.130]
          protocols: [tcp]
          destination_ports: [80]
          action: deny
        - {{name: allow-rest, description: the filter ends in an implicit deny, action: accept}}
verify:
  window_seconds: 15
  traffic:
    - {{name: ext1-http, source: ext1, destination: srv1, protocol: tcp, port: 80, expect: {http}, confidence: 0.999}}
    - {{name: ext1-https, source: ext1, destination: srv1, protocol: tcp, port: 443, expect: allowed}}
"""

ROUTING = """
id: {id}
title: Move ext1 to r3
requested_by: tests
targets: {{hosts: [r1]}}
routing:
  route_maps:
    - name: RM-R3-IN
      entries:
        - {{seq: 10, action: permit, description: backup upstream, match: {{prefix_list: PL-R3-IN}}, set: {{local_preference: {lp}}}}}
verify:
  window_seconds: 15
  traffic:
    - {{name: srv1-to-ext1, source: srv1, destination: ext1, protocol: udp, port: 33434, expect: via, via: {{host: r3}}}}
"""


def deploy(env, text: str) -> tuple[dict, TrafficVerification, float]:
    path = env.change(text)
    verifier, hooks, cleanup = verifier_for(env.load(path), env.inventory, env.lab.prefix)
    session: TrafficVerification = verifier.__self__
    t0 = time.monotonic()
    try:
        rep = env.deployer(path, verifier=verifier, hooks=hooks).run()
    finally:
        cleanup()
    took = time.monotonic() - t0
    print(f"\n{rep['change']}: {rep['verdict']} in {took:.1f}s (deploy {rep['seconds']:.1f}s); {session.timings}")
    for c in traffic_checks(rep).values():
        print(f"  {'ok ' if c['ok'] else 'BAD'} {c['check']}\n      {c['detail']}")
    assert agent_processes(env.lab.prefix) == []
    return rep, session, took


def traffic_checks(rep: dict) -> dict[str, dict]:
    return {c["check"].split(":")[0]: c for c in rep["checks"] if c["check"].startswith("traffic ")}


def best_next_hop(lab) -> str:
    data = lab.vtysh_json("r1", "show bgp ipv4 unicast 203.0.113.0/24 json")
    return next(p["nexthops"][0]["ip"] for p in data["paths"] if p.get("bestpath", {}).get("overall"))


def test_firewall_block_is_verified_from_samples(env):
    rep, tv, _ = deploy(env, FIREWALL.format(id="CHG-9101", http="blocked"))
    assert rep["verdict"] == "deployed", rep["summary"]
    http, https = tv.baseline.tallies[0], tv.baseline.tallies[1]
    assert http.samples > 5 and https.samples > 5, "both flows reached srv1 before the change"
    checks = traffic_checks(rep)
    blocked = checks["traffic ext1-http"]
    assert blocked["ok"] and blocked["detail"].startswith("pass: no sample"), blocked
    assert "now fw1: filter BLOCK-EXT1-WEB term deny-ext1-http (deny: no plain http from ext1)" in blocked["detail"]
    assert "fw1: no netchange filter on forward, filter/forward decides" in tv.before["ext1-http"], "before the change nothing of netchange's decided it"
    allowed = checks["traffic ext1-https"]
    assert allowed["ok"] and allowed["detail"].startswith("pass:"), allowed
    # netchange's own table at priority 0: its accept is not final, the lab host's policy-drop chain judges next
    assert "now fw1: filter BLOCK-EXT1-WEB term allow-rest (accept: the filter ends in an implicit deny; then judged by " \
           "the host's chain(s) inet filter forward (policy drop))" in allowed["detail"]
    assert [v.outcome.value for v in tv.verdicts] == ["pass", "pass"]


def test_routing_move_is_verified_via_r3(env, lab):
    assert best_next_hop(lab) == "198.18.1.1"
    rep, tv, _ = deploy(env, ROUTING.format(id="CHG-9102", lp=300))
    assert rep["verdict"] == "deployed", rep["summary"]
    assert best_next_hop(lab) == "198.18.1.3"
    base = tv.baseline.tallies[0]
    assert base.samples > 5 and base.via == 0, "before the change the flow left r1 towards r2"
    check = traffic_checks(rep)["traffic srv1-to-ext1"]
    assert check["ok"] and check["check"] == "traffic srv1-to-ext1: via to-r3 at r1 egress (after r1)", check
    assert "now r1: best path 203.0.113.0/24 via 198.18.1.3 (local-preference 300) set by route-map RM-R3-IN entry 10" in check["detail"]
    assert "via 198.18.1.1 (local-preference 200) set by route-map RM-R2-IN entry 10" in tv.before["srv1-to-ext1"]


def test_wrong_firewall_expectation_is_rolled_back(env):
    before = env.policy("fw1")
    rep, tv, took = deploy(env, FIREWALL.format(id="CHG-9103", http="allowed"))
    assert rep["verdict"] == "rolled_back", rep["summary"]
    assert "traffic verification failed: traffic ext1-http" in rep["summary"]
    assert tv.verdicts[0].outcome.value == "fail" and tv.verdicts[1].outcome.value == "pass"
    assert env.policy("fw1") == before
    assert took < 40


def test_routing_change_that_does_not_move_traffic_is_rolled_back(env, lab):
    before = env.policy("r1")
    rep, tv, _ = deploy(env, ROUTING.format(id="CHG-9104", lp=150))
    assert rep["verdict"] == "rolled_back", rep["summary"]
    assert tv.verdicts[0].outcome.value == "fail" and "only 0 of" in tv.verdicts[0].reason
    assert env.policy("r1") == before
    assert best_next_hop(lab) == "198.18.1.1"
