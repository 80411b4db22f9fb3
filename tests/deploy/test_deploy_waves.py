"""Rollout waves: one barrier over every wave (phase 1 lands everywhere first), then the refresh canary first,
then batches; a failed wave halts the rollout before the next wave's refresh and undoes every device."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab

WAVES = """
id: CHG-9401
title: New list everywhere, and a policy on r1 that loses the routes of r3
requested_by: tests
targets: {hosts: [r1, r2, r3]}
routing:
  prefix_lists:
    - name: PL-WAVE
      afi: ipv4
      entries: [{seq: 10, action: permit, prefix: 198.18.30.0/24}]
    - name: PL-R3-IN
      afi: ipv4
      entries: [{seq: 10, action: permit, prefix: 203.0.113.0/24}, {seq: 20, action: permit, prefix: 198.18.3.0/24}]
  route_maps:
    - name: RM-R3-IN
      entries:
        - {seq: 10, action: deny, match: {prefix_list: PL-R3-IN}}
"""


def test_failed_wave_halts_the_rollout_and_rolls_back_every_wave(env, lab, lab_profile):
    before = {n: env.policy(n) for n in ("r1", "r2", "r3")}
    # (FRR's default delay timer, profile `production`, takes versioned edits only)
    text = WAVES.replace("requested_by: tests", "requested_by: tests\nstrategy: versioned") if lab_profile == "production" else WAVES
    rep = env.deployer(env.change(text), canary="r2", batch=1).run()
    assert rep["verdict"] == "rolled_back", rep
    by = {d["host"]: d for d in rep["devices"]}
    phases = {h: [e["phase"] for e in d["events"]] for h, d in by.items()}
    assert phases["r2"][:3] == ["guard", "commit", "barrier"] and "rollback" in phases["r2"], "the canary went through and was undone"
    assert "rollback" in phases["r1"]
    assert phases["r3"][:3] == ["guard", "commit", "barrier"], "one barrier over every wave"
    assert "refresh" not in phases["r3"] and "rollback" in phases["r3"], "the rollout stopped before the last wave's refresh"
    assert by["r3"]["status"] == by["r2"]["status"] == by["r1"]["status"] == "rolled back"
    assert {n: env.policy(n) for n in ("r1", "r2", "r3")} == before
