"""One change across both ends of a session (issue 13): r2's export towards r1 and r1's import from r2, IPv4 and
IPv6, neighbors named by host, a prefix-list used only on r1. One barrier for both routers: nothing moves until
both commits are in; after the refresh both ends hold exactly what was planned; a fault on r2 before the refresh
undoes r1 too."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from pipeline.plan.run import plan_live

pytestmark = pytest.mark.lab

BOTH_ENDS = """
id: CHG-9601
title: r2 announces only ext1 to r1, r1 prefers it
requested_by: tests
targets: {hosts: [r1, r2]}
routing:
  prefix_lists:
    - name: PL-SC-EXT1
      entries: [{seq: 10, action: permit, prefix: 203.0.113.0/24}]
    - name: PL-SC-EXT1-V6
      entries: [{seq: 10, action: permit, prefix: "2001:db8:203::/48"}]
    - name: PL-SC-R1-ONLY
      entries: [{seq: 10, action: permit, prefix: 203.0.113.0/24}]
  route_maps:
    - name: RM-SC-EXPORT
      entries:
        - {seq: 10, action: permit, match: {prefix_list: PL-SC-EXT1}}
        - {seq: 20, action: permit, match: {prefix_list: PL-SC-EXT1-V6}}
    - name: RM-SC-IMPORT
      entries:
        - {seq: 10, action: permit, match: {prefix_list: PL-SC-R1-ONLY}, set: {local_preference: 250}}
        - {seq: 20, action: permit, match: {prefix_list: PL-SC-EXT1-V6}, set: {local_preference: 250}}
  bindings:
    - {neighbor: r1, direction: out, route_map: RM-SC-EXPORT, scope: {hosts: [r2]}}
    - {neighbor: r2, direction: in, route_map: RM-SC-IMPORT, scope: {hosts: [r1]}}
verify:
  max_prefix_loss: 0.6  # r1 keeps 1 of the 2 prefixes r2 sent in each family: that is the change
"""


def from_r2(lab, afi: str) -> dict:
    """r1's routes accepted from r2 in `afi`: prefix -> local-pref."""
    nbr = "198.18.1.1" if afi == "ipv4" else "2001:db8:1:1::2"
    data = lab.vtysh_json("r1", f"show bgp {afi} unicast neighbors {nbr} routes json")
    return {p: paths[0].get("locPrf", 100) for p, paths in data.get("routes", {}).items()}


def to_r1(lab, afi: str) -> set:
    """What r2 advertises to r1 in `afi`."""
    nbr = "198.18.1.0" if afi == "ipv4" else "2001:db8:1:1::1"
    data = lab.vtysh_json("r2", f"show bgp {afi} unicast neighbors {nbr} advertised-routes json")
    return set(data.get("advertisedRoutes", {}))


def tables(lab) -> dict:
    return {(side, afi): (from_r2 if side == "r1" else to_r1)(lab, afi) for side in ("r1", "r2") for afi in ("ipv4", "ipv6")}


def sshd_pids(lab, node: str) -> list[int]:
    ns = lab.lab.device(node).namespace
    out = []
    for p in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
        try:
            if open(f"/proc/{p}/comm").read().strip() == "sshd":
                out.append(int(p))
        except OSError:
            pass
    return out


def restart_sshd(lab, node: str) -> None:
    d = lab.lab.device(node)
    subprocess.run(["ip", "netns", "exec", d.namespace, "unshare", "--uts", "sh", "-c",
                    f"hostname {node} && /usr/sbin/sshd -f {d.directory / 'sshd_config'}"], check=True)


class Poller:
    """Reads both ends' tables in a loop until stopped; records every reading that differs from the first."""

    def __init__(self, lab):
        self.lab, self.before, self.moved, self.reads = lab, tables(lab), [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            now = tables(self.lab)
            self.reads += 1
            if now != self.before:
                self.moved.append(now)
            time.sleep(0.05)

    def halt(self):
        self.stop.set()
        self.thread.join(10)


def _addresses(lab):
    inv = lab.inventory
    r1 = {str(n.address) for n in inv.hosts["r1"].data.bgp.neighbors if n.description == "r2"}
    r2 = {str(n.address) for n in inv.hosts["r2"].data.bgp.neighbors if n.description == "r1"}
    return r1, r2


def test_both_ends_one_barrier_then_exactly_as_planned(env, lab):
    change_file = env.change(BOTH_ENDS)
    change = env.load(change_file)
    plans = {p.host: p for p in plan_live(change, env.inventory, env.project.objects)}
    r1_peers, r2_peers = _addresses(lab)
    # each device gets its own commands: the import side's list and route-map only on r1, the export's on r2
    r1_text, r2_text = "\n".join(plans["r1"].commands + plans["r1"].switch_commands), \
        "\n".join(plans["r2"].commands + plans["r2"].switch_commands)
    assert "PL-SC-R1-ONLY" in r1_text and "PL-SC-R1-ONLY" not in r2_text
    assert "RM-SC-IMPORT" in r1_text and "RM-SC-EXPORT" not in r1_text
    assert "RM-SC-EXPORT" in r2_text and "RM-SC-IMPORT" not in r2_text
    assert {(r["neighbor"], r["direction"]) for r in plans["r1"].refresh} == {(a, "in") for a in r1_peers}
    assert {(r["neighbor"], r["direction"]) for r in plans["r2"].refresh} == {(a, "out") for a in r2_peers}
    for afi in ("ipv4", "ipv6"):  # neighbor by name: one binding per family on each end
        assert any(f"address-family {afi} unicast" in c for c in plans["r1"].switch_commands)

    poll = Poller(lab)
    at_barrier = {}

    def barrier(devices):
        at_barrier["devices"] = sorted(d.name for d in devices)
        # Both commits are in: the poller reads a few more times from here, so that it has seen the tables
        # after the commits whatever the deploy's speed (a fast deploy reached the barrier after 2 reads).
        wanted, deadline = poll.reads + 3, time.monotonic() + 30  # (a bound for a stuck lab, not a verdict)
        while poll.reads < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        at_barrier["tables"] = tables(lab)
        poll.halt()

    try:
        rep = env.deployer(change_file, hooks={"after_barrier": barrier}).run()
    finally:
        poll.halt()
    assert rep["verdict"] == "deployed", rep
    assert at_barrier["devices"] == ["r1", "r2"], "one barrier over both routers"
    assert poll.reads >= 3 and not poll.moved, "a table moved before both commits were confirmed"
    assert at_barrier["tables"] == poll.before
    events = {d["host"]: [e["phase"] for e in d["events"]] for d in rep["devices"]}
    # both committed and passed the barrier before either refreshed
    assert all(ph.index("barrier") < ph.index("refresh") for ph in events.values())
    # after the refresh both ends are exactly as planned
    deadline = time.monotonic() + 10
    want = {("r1", "ipv4"): {"203.0.113.0/24": 250}, ("r1", "ipv6"): {"2001:db8:203::/48": 250},
            ("r2", "ipv4"): {"203.0.113.0/24"}, ("r2", "ipv6"): {"2001:db8:203::/48"}}
    while tables(lab) != want and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tables(lab) == want
    again = list(plan_live(change, env.inventory, env.project.objects))
    assert again and all(p.empty for p in again), "the devices hold the change"


def test_fault_on_r2_before_the_refresh_rolls_back_r1_too(env, lab):
    before = {n: env.policy(n) for n in ("r1", "r2")}
    change_file = env.change(BOTH_ENDS.replace("CHG-9601", "CHG-9602"))
    start = tables(lab)

    def kill_r2(_devices):  # the management path to r2 dies after the barrier, before any refresh
        for pid in sshd_pids(lab, "r2"):
            os.kill(pid, signal.SIGKILL)

    rep = env.deployer(change_file, hooks={"after_barrier": kill_r2}, refresh_timeout=5).run()
    try:
        assert rep["verdict"] in ("rolled_back", "rollback_failed"), rep
        by = {d["host"]: d for d in rep["devices"]}
        assert "rollback" in [e["phase"] for e in by["r1"]["events"]], "r1 was rolled back too"
        assert env.policy("r1") == before["r1"], "r1 holds its policy from before"
        assert "refresh" not in [e["phase"] for e in by["r1"]["events"]], "r1 never refreshed towards the half change"
    finally:
        restart_sshd(lab, "r2")
    if rep["verdict"] == "rollback_failed":  # r2 was unreachable for its own rollback: finish from the journal
        rep2 = env.deployer(change_file, phase="rollback").run()
        assert rep2["verdict"] == "rolled_back", rep2
    assert {n: env.policy(n) for n in ("r1", "r2")} == before
    assert tables(lab) == start
