"""Refresh strategies that need no lab: AOS-CX ignores `soft out` and re-sends by itself ~12 s later."""

from __future__ import annotations

from types import SimpleNamespace

import pipeline.deploy.deployer as deployer
from pipeline.deploy.deployer import Deployer, Device
from pipeline.drivers import get_driver


def run_wait(platform: str, refresh: list[dict], monkeypatch) -> tuple[Device, list[float]]:
    slept: list[float] = []
    monkeypatch.setattr(deployer.time, "sleep", lambda s: slept.append(s))
    d = Device(host=SimpleNamespace(platform=SimpleNamespace(value=platform)))
    d.session = SimpleNamespace(driver=get_driver(platform))
    d.reviewed = {"commands": [], "refresh": refresh, "gc_commands": []}
    Deployer._await_own_resend(object.__new__(Deployer), d)
    return d, slept


OUT = [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "out", "commands": []}]
IN = [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "commands": ["clear bgp ..."]}]


def test_aoscx_outbound_change_waits_for_the_boxs_own_resend(monkeypatch):
    assert get_driver("aruba_aoscx").refresh_commands("198.51.100.2", "ipv4", "out") == []
    d, slept = run_wait("aruba_aoscx", OUT, monkeypatch)
    assert slept == [12] and "waited 12 s" in d.checks[0].detail


def test_no_wait_where_soft_out_works_or_nothing_goes_out(monkeypatch):
    assert run_wait("frr", OUT, monkeypatch)[1] == []
    assert run_wait("aruba_aoscx", IN, monkeypatch)[1] == []
