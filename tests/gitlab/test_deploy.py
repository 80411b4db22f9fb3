"""`netchange ci deploy` / `claim` / `record`: claim in the ledger, run `netchange deploy`, record the
outcome. `netchange deploy` is the stand-in of netchange_standin.py here (no devices in unit tests)."""

from __future__ import annotations

import json
import os
import subprocess

from scratch_repo import PYTHON, change, standin_bin


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_deploys_pending_changes_in_merge_order_then_nothing(scratch, ci, tmp_path, monkeypatch):
    log = tmp_path / "deploys.jsonl"
    monkeypatch.setenv("NETCHANGE_BIN", str(standin_bin(tmp_path, log)))
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    m3 = scratch.merge_change(change("CHG-0003"), "b")
    r = ci(scratch.work, "ci", "deploy", "--report-dir", str(tmp_path / "reports"))
    assert r.code == 0, r.err
    assert [c["change"] for c in _calls(log)] == ["CHG-0002", "CHG-0003"]
    assert [c["phase"] for c in _calls(log)] == ["all", "all"]  # no --phase: one process runs every phase
    for commit, cid in ((m2, "CHG-0002"), (m3, "CHG-0003")):
        recs = scratch.ledger_note(commit)["changes"][cid]["records"]
        assert [x["state"] for x in recs] == ["claimed", "deployed"]
        assert recs[1]["report"] == {"verdict": "deployed", "devices": ["shard1-dev"]}
    assert json.loads((tmp_path / "reports" / "CHG-0002.deploy.json").read_text())["verdict"] == "deployed"
    r = ci(scratch.work, "ci", "deploy", "--report-dir", str(tmp_path / "reports"))
    assert r.code == 0 and "nothing to deploy" in r.err
    assert len(_calls(log)) == 2


def test_a_failed_deploy_is_recorded_and_stops_the_line(scratch, ci, tmp_path, monkeypatch):
    log = tmp_path / "deploys.jsonl"
    monkeypatch.setenv("NETCHANGE_BIN", str(standin_bin(tmp_path, log, fail_changes=("CHG-0002",))))
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    scratch.merge_change(change("CHG-0003"), "b")
    r = ci(scratch.work, "ci", "deploy", "--report-dir", str(tmp_path / "reports"))
    assert r.code == 1 and "CHG-0002: rolled_back (exit 1)" in r.err
    assert [c["change"] for c in _calls(log)] == ["CHG-0002"]  # CHG-0003 waits for a human
    assert scratch.ledger_note(m2)["changes"]["CHG-0002"]["records"][-1]["state"] == "rolled_back"
    r = ci(scratch.work, "ci", "deploy", "--report-dir", str(tmp_path / "reports"))
    assert [c["change"] for c in _calls(log)] == ["CHG-0002", "CHG-0003"]  # rolled back is final; next one goes


def test_refused_by_a_guard_is_recorded_as_refused(scratch, ci, tmp_path, monkeypatch):
    log = tmp_path / "deploys.jsonl"
    monkeypatch.setenv("NETCHANGE_BIN", str(standin_bin(tmp_path, log, fail_changes=("CHG-0002",), exit_code=3)))
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    r = ci(scratch.work, "ci", "deploy", "--report-dir", str(tmp_path / "reports"))
    assert r.code == 1
    assert scratch.ledger_note(m2)["changes"]["CHG-0002"]["records"][-1]["state"] == "refused"


def test_two_overlapping_schedules_deploy_each_change_once(scratch, tmp_path):
    log = tmp_path / "deploys.jsonl"
    bin_ = standin_bin(tmp_path, log)
    for i in range(2, 5):
        scratch.merge_change(change(f"CHG-000{i}"), f"mr{i}")
    runners = [scratch.clone(f"runner{i}") for i in range(2)]
    env = {**os.environ, "NETCHANGE_BIN": str(bin_)}
    env.pop("NETCHANGE_GITLAB_TOKEN", None)
    procs = [subprocess.Popen([str(PYTHON), "-m", "pipeline.gitlab", "ci", "deploy", "--report-dir", str(tmp_path / f"r{i}")],
                              cwd=r, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, r in enumerate(runners)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(c["change"] for c in _calls(log)) == ["CHG-0002", "CHG-0003", "CHG-0004"]


def test_claim_and_record_for_the_sharded_pipeline(scratch, ci, tmp_path):
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    dotenv = tmp_path / "claim.env"
    r = ci(scratch.work, "ci", "claim", "--dotenv", str(dotenv))
    assert r.code == 0
    assert dotenv.read_text().splitlines() == ["NETCHANGE_CHANGE=policies/changes/CHG-0002.yaml",
                                               "NETCHANGE_CHANGE_ID=CHG-0002", f"NETCHANGE_CHANGE_COMMIT={m2}"]
    r = ci(scratch.work, "ci", "claim", "--dotenv", str(dotenv))  # nothing else to claim
    assert dotenv.read_text().startswith("NETCHANGE_CHANGE=\n")
    report = tmp_path / "commit-1.json"
    report.write_text(json.dumps({"change": "CHG-0002", "verdict": "deployed", "devices": [{"host": "r1"}]}))
    r = ci(scratch.work, "ci", "record", "CHG-0002", "--outcome", "deployed", "--report", str(report))
    assert r.code == 0
    last = scratch.ledger_note(m2)["changes"]["CHG-0002"]["records"][-1]
    assert last["state"] == "deployed" and last["reports"] == [{"verdict": "deployed", "devices": ["r1"]}]
    r = ci(scratch.work, "ci", "record", "CHG-0002", "--outcome", "deployed")
    assert r.code == 1 and "not claimed" in r.err  # an outcome needs a claim: no double records


def test_record_rejects_unknown_outcomes(scratch, ci):
    r = ci(scratch.work, "ci", "record", "CHG-0002", "--outcome", "maybe")
    assert r.code == 2 and "unknown outcome" in r.err
