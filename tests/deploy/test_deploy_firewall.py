"""A firewall change on fw1 takes effect atomically: one nft transaction, traffic checked before and after."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.lab

BLOCK_HTTP = """
id: CHG-9201
title: Block plain HTTP to the servers
requested_by: tests
targets: {hosts: [fw1]}
firewall:
  filters:
    - name: SERVER-HTTP
      attach: [forward]
      terms:
        - name: no-plain-http
          destinations: [198.51.100.128/25, "2001:db8:100::/64"]
          protocols: [tcp]
          destination_ports: [80]
          action: reject
          counter: true
        - name: everything-else
          action: accept
"""


@pytest.fixture
def web(lab):
    procs = [lab.background("srv1", [sys.executable, "-m", "http.server", str(p), "--bind", "::"]) for p in (80, 443)]
    deadline = time.monotonic() + 10
    while not (lab.tcp_connect("srv1", "::1", 80) and lab.tcp_connect("srv1", "::1", 443)):
        assert time.monotonic() < deadline, "web servers on srv1 did not start"
        time.sleep(0.2)
    yield
    for p in procs:
        p.kill()
        p.wait()


def test_firewall_change_is_atomic_and_blocks_only_http(env, lab, web):
    v4, v6 = "198.51.100.130", "2001:db8:100::2"
    for dst in (v4, v6):
        assert lab.tcp_connect("ext1", dst, 80) and lab.tcp_connect("ext1", dst, 443)
    # Watch the ruleset while deploying: it is either the old one or the complete new one, never in between.
    seen, stop = set(), threading.Event()

    def watch():
        ns = lab.lab.device("fw1").namespace
        while not stop.is_set():
            out = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet", "netchange"],
                                 capture_output=True, text=True).stdout
            seen.add(out.count("comment \""))
            time.sleep(0.02)

    t = threading.Thread(target=watch)
    t.start()
    try:
        rep = env.deployer(env.change(BLOCK_HTTP)).run()
    finally:
        stop.set()
        t.join()
    assert rep["verdict"] == "deployed", rep
    complete = sum(c.count('comment "') for c in rep["devices"][0]["events"][1]["commands"])
    assert complete == 5, "4 rules (2 terms x 2 families) and the closing implicit deny"
    assert seen <= {0, complete}, f"a partial ruleset was visible: rule counts {seen}"
    for dst in (v4, v6):
        assert not lab.tcp_connect("ext1", dst, 80, timeout=1), "plain HTTP is blocked"
        assert lab.tcp_connect("ext1", dst, 443), "HTTPS still passes"
    commit = [e for d in rep["devices"] for e in d["events"] if e["phase"] == "commit"][0]
    assert commit["commands"][0].startswith("#") and "add table inet netchange" in commit["commands"]
    edits = [c for c in commit["commands"] if not c.startswith("#")]
    assert not any("delete table" in c or "policy" in c for c in edits), "edits, never a table rewrite"
    # the plan says that the lab host's own policy-drop chain still judges what netchange accepts here
    assert any(c.startswith("# placement: the host's chain inet filter forward (priority 0, policy drop) runs with "
                            "netchange's on hook forward") for c in commit["commands"]), commit["commands"]
