"""Commit-confirm through the real deployer, against a Junos device kept as set lines (fakes.JunosDevice):
phase 1 goes out as `commit confirmed N` and is confirmed only after the post-checks passed; a failed
post-check undoes it with the platform's own `rollback 1` + `commit` and never confirms; a deploy killed
between commit and confirmation is the device's to revert, and the next run waits for that."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest

import pipeline.deploy.deployer as deployer_mod
from pipeline.deploy.deployer import Deployer, Options
from pipeline.project import Project

from .fakes import JunosDevice, json_text

REPO = Path(__file__).resolve().parents[2]

RUNNING = [
    "set protocols bgp group AS65002 type external",
    "set protocols bgp group AS65002 peer-as 65002",
    "set protocols bgp group AS65002 neighbor 198.51.100.2",
]

CHANGE = """\
id: CHG-7100
title: prefer the upstream for one prefix
requested_by: tests
targets: {hosts: [junos1]}
routing:
  prefix_lists:
    - {name: PL-T, entries: [{seq: 5, action: permit, prefix: 203.0.113.0/24}]}  # numbered as Junos reads it back
  route_maps:
    - name: RM-T
      entries:
        - {seq: 10, action: permit, match: {prefix_list: PL-T}, set: {local_preference: 200}}
        - {seq: 20, action: deny}
  bindings:
    - {neighbor: 198.51.100.2, afi: ipv4, direction: in, route_map: RM-T}
verify:
  routes:
    - {device: junos1, prefix: 203.0.113.0/24, attributes: {local_preference: 200}}
"""


def _d(v: str) -> list[dict]:
    return [{"data": v}]


def neighbors() -> str:
    """`show bgp neighbor | display json` of junos1's two sessions (the layout of fixtures/junos)."""
    peers = [{"peer-address": _d("198.51.100.2+179"), "peer-state": _d("Established"),
              "bgp-rib": [{"name": _d("inet.0"), "accepted-prefix-count": _d("10")}]},
             {"peer-address": _d("2001:db8:12::2+179"), "peer-state": _d("Established"),
              "bgp-rib": [{"name": _d("inet6.0"), "accepted-prefix-count": _d("4")}]}]
    return json_text({"bgp-information": [{"bgp-peer": peers}]})


def route(local_pref: int) -> str:
    rt = {"rt-destination": _d("203.0.113.0"), "rt-prefix-length": _d("24"),
          "rt-entry": [{"active-tag": _d("*"), "protocol-name": _d("BGP"), "as-path": _d("AS path: 65002 I"),
                        "local-preference": _d(str(local_pref)), "nh": [{"to": _d("198.51.100.2")}]}]}
    return json_text({"route-information": [{"route-table": [{"table-name": _d("inet.0"), "rt": [rt]}]}]})


@pytest.fixture
def run(tmp_path, fleet, monkeypatch):
    """run(device, **options) -> (report, device calls) of a deploy of CHANGE to junos1 over the fake device."""
    change = tmp_path / "CHG-7100.yaml"
    change.write_text(textwrap.dedent(CHANGE))

    def go(device: JunosDevice, **opts):
        monkeypatch.setattr(deployer_mod, "connect", device.connect)
        opts.setdefault("state_dir", tmp_path / "state")
        return Deployer(change, Project(REPO), Options(**opts), inventory=fleet).run()

    return go


def junos(local_pref: int = 200) -> JunosDevice:
    return JunosDevice(RUNNING, shows={"show bgp neighbor | display json": neighbors(),
                                       "show route 203.0.113.0/24 exact protocol bgp detail | display json": route(local_pref)})


def configs(device: JunosDevice) -> list[tuple]:
    return [c for c in device.conn.calls if c[0] == "config"]


def test_held_until_the_post_checks_pass_then_confirmed(run):
    device = junos(local_pref=200)
    rep = run(device, revert_after=540)
    assert rep["verdict"] == "deployed", rep
    pushes = configs(device)
    assert pushes[0][1] == "configure exclusive" and pushes[0][2][-2:] == ("commit check", "commit confirmed 9")
    assert pushes[1:] == [("config", "configure exclusive", ("commit",), True)]  # the confirmation, nothing else
    calls = device.conn.calls
    checked = calls.index(("exec", "show route 203.0.113.0/24 exact protocol bgp detail | display json"))
    assert calls.index(pushes[0]) < checked < calls.index(pushes[1])  # confirmed only after the route check
    events = {e["phase"] for d in rep["devices"] for e in d["events"]}
    assert {"commit", "confirm"} <= events


def test_failed_post_check_reverts_with_rollback_1_and_never_confirms(run):
    device = junos(local_pref=100)  # the policy did not take: the route expectation fails
    before = list(device.active)
    rep = run(device, revert_after=540)
    assert rep["verdict"] == "rolled_back" and "local-preference 100 != 200" in rep["summary"], rep
    pushes = configs(device)
    assert pushes[0][2][-1] == "commit confirmed 9"
    assert pushes[1:] == [("config", "configure exclusive", ("rollback 1", "commit"), True)]  # the platform's own undo
    assert ("config", "configure exclusive", ("commit",), True) not in pushes
    assert device.active == before
    rollback = next(e for d in rep["devices"] for e in d["events"] if e["phase"] == "rollback")
    assert rollback["reverted_by"] == "platform" and rollback["commands"] == []  # nothing left to restore by diff


def test_revert_timer_is_derived_from_the_deploy_timeouts(run, monkeypatch):
    device = junos()
    monkeypatch.setattr(deployer_mod.time, "sleep", lambda s: None)  # the pause itself is not under test
    run(device, refresh_timeout=30.0, pause_before_refresh=120.0)
    # margin 120 + three reads 180 + pause 120 + (1 refresh + 1) x 30 + settle 5 = 485 s -> 9 minutes
    assert configs(device)[0][2][-1] == "commit confirmed 9"


def test_a_hold_the_platform_cannot_keep_is_refused_before_any_commit(run):
    device = junos()
    rep = run(device, revert_after=65536 * 60)
    assert rep["verdict"] == "refused" and "junos1" in rep["summary"] and "at most" in rep["summary"], rep
    assert configs(device) == []


class Killed(Exception):
    """The deploy process dying between the commit and its confirmation."""


def kill_after_barrier(devices):
    raise Killed()


def test_killed_deploy_leaves_the_commit_to_the_device_and_the_next_run_waits_for_it(run, monkeypatch):
    device = junos()
    with pytest.raises(Killed):
        run(device, revert_after=540, hooks={"after_barrier": kill_after_barrier})
    assert configs(device)[-1][2][-1] == "commit confirmed 9"  # held, never confirmed
    slept = []

    def sleep(seconds):  # the device's timer runs out while the next run waits
        slept.append(seconds)
        device.answer("rollback 1")
        device.answer("commit")

    monkeypatch.setattr(deployer_mod.time, "sleep", sleep)
    rep = run(device, revert_after=540)
    assert rep["verdict"] == "deployed", rep
    assert slept and 540 < slept[0] <= 540 + 31  # the rest of the timer plus the device's grace
    commits = [c for c in configs(device) if c[2][-1].startswith("commit confirmed")]
    assert len(commits) == 2  # committed again from what the device reverted to


def test_resume_refuses_a_device_that_still_holds_the_change_after_its_timer(run, monkeypatch):
    device = junos()
    with pytest.raises(Killed):
        run(device, revert_after=540, hooks={"after_barrier": kill_after_barrier})
    monkeypatch.setattr(deployer_mod.time, "sleep", lambda s: None)  # the timer "ran out"; the device did not revert
    rep = run(device, revert_after=540)
    assert rep["verdict"] == "refused" and "still hold" in rep["summary"], rep


def test_a_route_expectation_the_platform_cannot_read_is_refused_before_any_commit(tmp_path, fleet, monkeypatch):
    """AOS-CX's observer reads sessions only: a route expectation there could never pass, so the deploy stops at
    the guard instead of committing and rolling back."""
    from .fakes import FakeConnection, gated

    change = tmp_path / "CHG-7200.yaml"
    change.write_text(CHANGE.replace("CHG-7100", "CHG-7200").replace("junos1", "cx1").replace("PL-T, entries: [{seq: 5", "PL-T, entries: [{seq: 10"))
    fake = FakeConnection({"show running-config": "hostname cx1\n"})

    @contextlib.contextmanager
    def connect(host):
        yield gated(fake, host.name)

    monkeypatch.setattr(deployer_mod, "connect", connect)
    rep = Deployer(change, Project(REPO), Options(state_dir=tmp_path / "state"), inventory=fleet).run()
    assert rep["verdict"] == "refused" and "cannot be checked on aruba_aoscx" in rep["summary"], rep
    assert not [c for c in fake.calls if c[0] == "config"]


def test_phase_rollback_undoes_a_held_commit_with_the_platforms_revert(run):
    """`--phase rollback` after a kill: the journal's unconfirmed commit is undone by `rollback 1` + `commit`
    (read from the interrupted run's records, before the rollback run's own start record)."""
    device = junos()
    before = list(device.active)
    with pytest.raises(Killed):
        run(device, revert_after=540, hooks={"after_barrier": kill_after_barrier})
    rep = run(device, phase="rollback")
    assert rep["verdict"] == "rolled_back", rep
    assert configs(device)[-1] == ("config", "configure exclusive", ("rollback 1", "commit"), True)
    assert device.active == before
