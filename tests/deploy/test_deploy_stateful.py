"""A stateful filter on the lab firewall (issue 16), whose own `inet filter` table has a `policy drop` forward
chain: new connections only from ext1's side, replies allowed, ICMP echo both ways, everything else
dropped. The inventory places netchange's chain in the host's table, jumped to first from its forward
chain, so the host gets exactly the change's behaviour: checked with real connections and pings in both
directions and both address families, and by sampled traffic (SYNs, SYN-ACK replies, echo requests and
replies told apart), each check naming the term that decided it."""

from __future__ import annotations

import shutil
import sys
import time

import pytest
import yaml

from lab_env import restored
from pipeline.inventory import Inventory
from pipeline.telemetry.deploy_verify import verifier_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

STATEFUL = """
id: CHG-9216
title: ext1 may open 8080 on srv1, srv1 answers; ping both ways; nothing else
requested_by: tests
targets: {hosts: [fw1]}
firewall:
  filters:
    - name: STATEFUL
      attach: [forward]
      terms:
        - name: replies
          description: answers to what was let in
          connection_state: [established, related]
          action: accept
        - name: ext1-opens-web
          sources: [203.0.113.10, "2001:db8:203::10"]
          destinations: [198.51.100.128/25, "2001:db8:100::/64"]
          protocols: [tcp]
          destination_ports: [8080]
          connection_state: [new]
          tcp_flags: {syn: true, ack: false}
          action: accept
        - name: echo
          protocols: [icmp, icmpv6]
          icmp_types: [echo-request]
          connection_state: [new]
          action: accept
        - name: rest
          action: deny
          counter: true
verify:
  window_seconds: 20
  traffic:
    - {name: syn-8080, source: ext1, destination: srv1, protocol: tcp, port: 8080, tcp_flags: {syn: true, ack: false}, expect: allowed}
    - {name: syn-ack-8080, source: srv1, destination: ext1, protocol: tcp, source_port: 8080, tcp_flags: {syn: true, ack: true},
       expect: allowed, at: {host: fw1, interface: to-r1, direction: egress}}
    - {name: syn-8081, source: ext1, destination: srv1, protocol: tcp, port: 8081, tcp_flags: {syn: true}, expect: blocked}
    - {name: srv1-opens, source: srv1, destination: ext1, protocol: tcp, port: 8080, tcp_flags: {syn: true, ack: false},
       expect: blocked, at: {host: fw1, interface: to-r1, direction: egress}}
    - {name: ping-in, source: ext1, destination: srv1, protocol: icmp, icmp_type: echo-request, expect: allowed}
    - {name: pong-out, source: srv1, destination: ext1, protocol: icmp, icmp_type: echo-reply, expect: allowed,
       at: {host: fw1, interface: to-r1, direction: egress}}
    - {name: ping-out, source: srv1, destination: ext1, protocol: icmp, icmp_type: echo-request, expect: allowed,
       at: {host: fw1, interface: to-r1, direction: egress}}
    - {name: udp-in, source: ext1, destination: srv1, protocol: udp, port: 5353, expect: blocked}
"""


@pytest.fixture
def env(lab, tmp_path):
    """The lab with fw1 placing netchange's chains in its own `inet filter` table (jumped to from `forward`)."""
    inv = tmp_path / "inventory"
    shutil.copytree(lab.inventory_path, inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts["fw1"]["data"]["firewall"]["nftables"] = {"jump_from": {"table": "filter", "chains": {"forward": "forward"}}}
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    with restored(lab, tmp_path) as e:
        e.inventory = Inventory(inv)
        yield e


@pytest.fixture
def servers(lab):
    """TCP listeners on 8080 and 8081 on srv1 and on 8080 on ext1 (dual stack): a closed port is no proof."""
    procs = [lab.background(node, [sys.executable, "-m", "http.server", str(port), "--bind", "::"])
             for node, port in (("srv1", 8080), ("srv1", 8081), ("ext1", 8080))]
    deadline = time.monotonic() + 10
    while not all(lab.tcp_connect(n, "::1", p) for n, p in (("srv1", 8080), ("srv1", 8081), ("ext1", 8080))):
        assert time.monotonic() < deadline, "listeners did not start"
        time.sleep(0.2)
    yield
    for p in procs:
        p.kill()
        p.wait()


def test_stateful_filter_gives_exactly_the_changes_behaviour_on_a_policy_drop_host(env, lab, servers):
    srv = {4: lab.address("srv1", 4), 6: lab.address("srv1", 6)}
    ext = {4: lab.address("ext1", 4), 6: lab.address("ext1", 6)}
    # Before: the host's own table decides: ext1 cannot reach 8080 (policy drop), srv1 may open anything.
    for v in (4, 6):
        assert not lab.tcp_connect("ext1", srv[v], 8080, timeout=1)
        assert lab.tcp_connect("srv1", ext[v], 8080)

    path = env.change(STATEFUL)
    verifier, hooks, cleanup = verifier_for(env.load(path), env.inventory, lab.prefix)
    session = verifier.__self__
    try:
        rep = env.deployer(path, verifier=verifier, hooks=hooks).run()
    finally:
        cleanup()
    checks = {c["check"].split(":")[0]: c for c in rep["checks"] if c["check"].startswith("traffic ")}
    for c in checks.values():
        print(f"  {'ok ' if c['ok'] else 'BAD'} {c['check']}\n      {c['detail']}")
    assert rep["verdict"] == "deployed", rep["summary"]

    # The plan said where the chain sits, and the commit edited the host's table, never netchange's own.
    commit = [e for d in rep["devices"] for e in d["events"] if e["phase"] == "commit"][0]["commands"]
    assert any(c.startswith("# placement: hook forward: netchange's chains sit in the host's table inet filter")
               and "policy drop" in c for c in commit), commit
    assert "insert rule inet filter forward jump STATEFUL" in commit
    assert not any("inet netchange" in c for c in commit if not c.startswith("#"))

    # Sampled traffic: every check passed, each naming the term that decided it (replies: the stateful accept).
    assert len(checks) == 8 and all(c["ok"] for c in checks.values()), checks
    decided = {name: c["detail"] for name, c in checks.items()}
    assert "now fw1: filter STATEFUL term ext1-opens-web (accept: ct state new; tcp flags +syn -ack)" in decided["traffic syn-8080"]
    assert "now fw1: filter STATEFUL term replies (accept: ct state established,related; answers to what was let in)" \
        in decided["traffic syn-ack-8080"]
    assert "now fw1: filter STATEFUL term replies" in decided["traffic pong-out"]
    assert "now fw1: filter STATEFUL term echo" in decided["traffic ping-in"] and "term echo" in decided["traffic ping-out"]
    for name in ("syn-8081", "srv1-opens", "udp-in"):
        assert decided[f"traffic {name}"].startswith("pass: no sample") and "term rest (deny" in decided[f"traffic {name}"]
    assert not any("judged by the host" in d for d in decided.values()), "jumped to first: netchange's verdict is final"
    assert session.baseline.tallies[3].samples > 0, "srv1 could open connections before the change"

    # Real traffic, both directions, both families.
    for v in (4, 6):
        assert lab.tcp_connect("ext1", srv[v], 8080), f"IPv{v}: ext1 opens 8080 although the host's policy drops it"
        assert not lab.tcp_connect("ext1", srv[v], 8081, timeout=1), f"IPv{v}: 8081 stays closed"
        assert not lab.tcp_connect("srv1", ext[v], 8080, timeout=1), f"IPv{v}: srv1 may no longer open connections"
        assert lab.ping("ext1", srv[v]) and lab.ping("srv1", ext[v]), f"IPv{v}: echo both ways"
