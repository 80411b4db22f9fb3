"""`.gitlab-ci.yml` run for real by gitlab-ci-local (shell executor, isolated build folders, so artifacts
really travel between jobs) in a scratch copy of the project with a bare `origin`.

netchange runs from the already-bootstrapped venv (NETCHANGE_BIN), so no job reinstalls anything. The MR
note and the open-MR lookup go to the GitLab HTTP fake. `netchange deploy` is the stand-in of
netchange_standin.py where noted (the real command is not registered yet; the sharded failure needs a
shard that fails on purpose); test_scheduled_pipeline_real_deploy_on_the_lab uses the real one.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from fake_gitlab import TOKEN, FakeGitLab, FakeGitLabServer, OpenMR
from scratch_repo import PYTHON, Scratch, change, real_bin, standin_bin

GCL = shutil.which("gitlab-ci-local")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(GCL is None, reason="gitlab-ci-local is not installed "
                                                   "(npm install -g gitlab-ci-local@4.60.0)")]
SNAPSHOTS = Path(__file__).parent / "snapshots"
DURATIONS: dict[str, float] = {}


class Pipeline:
    def __init__(self, proc: subprocess.CompletedProcess, work: Path, seconds: float):
        self.rc, self.out, self.work, self.seconds = proc.returncode, proc.stdout + proc.stderr, work, seconds
        self.state = work / ".gitlab-ci-local"

    def status(self, job: str) -> str | None:
        """PASS / FAIL / None (did not run), from gitlab-ci-local's summary."""
        for line in self.out.splitlines():
            s = line.strip()
            for word in ("PASS", "FAIL", "WARN"):
                if s.startswith(word) and s[len(word):].strip() == job:
                    return word
        return None

    def log(self, job: str) -> str:
        """A job's log; gitlab-ci-local names the file after the job, with every run of characters
        other than letters and digits base64-encoded (`fleet:commit: [1/2]` -> fleetOgcommitOiBb1Lw2XQ)."""
        name = re.sub(r"[^A-Za-z0-9]+", lambda m: base64.b64encode(m.group(0).encode()).decode().rstrip("="), job)
        f = self.state / "output" / f"{name}.log"
        return f.read_text() if f.exists() else ""

    def artifact(self, job: str, rel: str) -> Path:
        return self.state / "artifacts" / job / rel


def run_pipeline(work: Path, name: str, **variables: str) -> Pipeline:
    args = [GCL, "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source", "--json-schema-validation"]
    for k, v in variables.items():
        args += ["--variable", f"{k}={v}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETCHANGE_", "CI_", "GITLAB_"))}
    shutil.rmtree(work / ".gitlab-ci-local", ignore_errors=True)
    t0 = time.monotonic()
    proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - t0
    DURATIONS[name] = seconds
    print(f"\ngitlab-ci-local {name}: {seconds:.1f} s")
    return Pipeline(proc, work, seconds)


@pytest.fixture
def project(tmp_path) -> Scratch:
    """The whole project in a scratch repository; the bundled CHG-0001 adopted (deployed before netchange
    kept a ledger), as a team does once when it starts using the scheduled pipeline."""
    s = Scratch(tmp_path, full=True)
    shutil.copytree(SNAPSHOTS, s.work / "snapshots")
    s.commit_all("snapshots for offline plans")
    s.git("push", "-q", "origin", "main")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
    subprocess.run([str(PYTHON), "-m", "pipeline.gitlab", "ci", "adopt"], cwd=s.work, env=env, check=True,
                   capture_output=True)
    return s


def mr_variables(s: Scratch, base: str, fake_url: str, bin_: Path) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_MERGE_REQUEST_IID": "7", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "NETCHANGE_BIN": str(bin_), "NETCHANGE_SNAPSHOTS": "snapshots", "NETCHANGE_GIT_REMOTE": "origin",
            "NETCHANGE_GITLAB_TOKEN": TOKEN, "NETCHANGE_GITLAB_URL": fake_url, "NETCHANGE_GITLAB_PROJECT": "42"}


def _all_text(p: Pipeline) -> str:
    """Everything a pipeline leaves behind that people can read: console, job logs, artifacts."""
    parts = [p.out]
    for d in (p.state / "output", p.state / "artifacts"):
        for f in d.rglob("*") if d.exists() else ():
            if f.is_file():
                parts.append(f.read_text(errors="replace"))
    return "\n".join(parts)


def test_mr_pipeline_reports_plans_and_keeps_one_note(project, tmp_path):
    s = project
    base = s.head("main")
    s.git("checkout", "-q", "-b", "mr-7", "main")
    s.add_change(change("CHG-0002"))
    s.commit_all("CHG-0002: raise local preference on r1")
    fake = FakeGitLab(token=TOKEN)
    with FakeGitLabServer(fake) as url:
        p = run_pipeline(s.work, "mr-good", **mr_variables(s, base, url, real_bin(tmp_path)))
        assert p.rc == 0, p.out[-3000:]
        for job in ("validate", "plan", "conflicts", "report"):
            assert p.status(job) == "PASS", (job, p.out[-3000:])
        assert p.status("deploy") is None and p.status("expiry") is None  # schedule-only jobs
        junit = p.artifact("validate", "out/validate-junit.xml").read_text()
        assert "<testsuites" in junit and 'failures="0"' in junit
        assert json.loads(p.artifact("validate", "out/gl-code-quality-report.json").read_text()) == []
        plan = json.loads(p.artifact("plan", "out/plan/CHG-0002.json").read_text())
        assert plan["format"] == "netchange-plan/1" and plan["devices"][0]["host"] == "r1"
        summary = p.artifact("report", "out/summary.md").read_text()
        assert "## netchange: CHG-0002" in summary and "Validation:** :white_check_mark: passed" in summary
        assert "| r1 | in_place |" in summary and "set local-preference 300" in summary
        assert len(fake.notes[7]) == 1 and fake.notes[7][0]["body"].startswith("<!-- netchange:mr-summary -->")
        first_id = fake.notes[7][0]["id"]

        # Another author opens an MR on the same route-map of r1: the next push of MR !7 shows the conflict
        # (the conflicts job fails), and the same note is updated, not a second one added.
        fake.open_mrs.append(OpenMR(9, "Tune r3 preference", "bob", "c" * 40,
                                    {"policies/changes/CHG-0003.yaml": change("CHG-0003", local_pref=50)}))
        fake.open_mrs.append(OpenMR(7, "this MR", "alice", "d" * 40, {"policies/changes/CHG-0002.yaml": change("CHG-0002")}))
        p = run_pipeline(s.work, "mr-conflict", **mr_variables(s, base, url, real_bin(tmp_path)))
        assert p.rc != 0 and p.status("conflicts") == "FAIL" and p.status("report") == "PASS"
        report = json.loads(p.artifact("conflicts", "out/conflicts/CHG-0002.json").read_text())
        assert [c["change"] for c in report["conflicts"]] == ["CHG-0003"]  # its own MR !7 is not a conflict
        assert {"device": "r1", "kind": "route_map", "name": "RM-R3-IN"} in report["conflicts"][0]["overlaps"]
        assert len(fake.notes[7]) == 1 and fake.notes[7][0]["id"] == first_id
        assert "CHG-0003" in fake.notes[7][0]["body"] and "open MR !9 by @bob" in fake.notes[7][0]["body"]
        assert TOKEN not in _all_text(p)


def test_mr_pipeline_with_a_bad_change_fails_validate_and_still_reports(project, tmp_path):
    s = project
    base = s.head("main")
    s.git("checkout", "-q", "-b", "mr-8", "main")
    s.add_change(change("CHG-0004", hosts="[nosuch]"))
    s.commit_all("CHG-0004: targets a host that does not exist")
    fake = FakeGitLab(token=TOKEN)
    with FakeGitLabServer(fake) as url:
        p = run_pipeline(s.work, "mr-bad", **mr_variables(s, base, url, real_bin(tmp_path)))
    assert p.rc != 0
    assert p.status("validate") == "FAIL" and p.status("report") == "PASS"  # the author still gets the summary
    assert "validation failed: no plan" in p.log("plan") and "validation failed: not checked" in p.log("conflicts")
    assert not p.artifact("plan", "out/plan/CHG-0004.json").exists()
    findings = json.loads(p.artifact("validate", "out/gl-code-quality-report.json").read_text())
    assert any("nosuch" in f["description"] for f in findings)
    assert all(f["location"]["path"] == "policies/changes/CHG-0004.yaml" for f in findings)
    assert "failures=" in p.artifact("validate", "out/validate-junit.xml").read_text()
    summary = p.artifact("report", "out/summary.md").read_text()
    assert ":x: failed (exit 1)" in summary and "nosuch" in summary and "not available" in summary
    assert "nosuch" in fake.notes[7][0]["body"]
    assert TOKEN not in _all_text(p)


def test_mr_with_two_change_requests_is_refused(project, tmp_path):
    s = project
    base = s.head("main")
    s.git("checkout", "-q", "-b", "mr-9", "main")
    s.add_change(change("CHG-0005"))
    s.add_change(change("CHG-0006"))
    s.commit_all("two changes in one MR")
    p = run_pipeline(s.work, "mr-two", CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_DIFF_BASE_SHA=base,
                     NETCHANGE_BIN=str(real_bin(tmp_path)), NETCHANGE_GIT_REMOTE="origin", NETCHANGE_SNAPSHOTS="snapshots")
    assert p.rc != 0 and p.status("validate") == "FAIL"
    assert "at most 1 per merge request" in p.log("validate")
    assert "at most 1 per merge request" in p.artifact("report", "out/summary.md").read_text()


def _merge_change(s: Scratch, cid: str, branch: str, **kw) -> str:
    return s.merge_change(change(cid, **kw), branch)


def test_scheduled_pipeline_deploys_once_and_keeps_the_ledger(project, tmp_path):
    """Stand-in deploy (the real `netchange deploy` is not registered yet): this checks the pipeline, the
    claim/record protocol and the ledger pushed back to origin."""
    s = project
    merge = _merge_change(s, "CHG-0002", "mr-7")
    log = tmp_path / "deploys.jsonl"
    variables = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_BIN": str(standin_bin(tmp_path, log)),
                 "NETCHANGE_GIT_REMOTE": "origin"}
    p = run_pipeline(s.work, "schedule-1", **variables)
    assert p.rc == 0, p.out[-3000:]
    assert p.status("deploy") == "PASS" and p.status("expiry") == "PASS"
    assert p.status("validate") is None and p.status("fleet:claim") is None
    calls = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(c["change"], c["phase"]) for c in calls] == [("CHG-0002", "all")]
    note = s.ledger_note(merge)  # read from origin with plain git
    assert [r["state"] for r in note["changes"]["CHG-0002"]["records"]] == ["claimed", "deployed"]
    assert "CHG-0002\tdeployed" in p.log("deploy")  # the job prints the ledger
    assert json.loads(p.artifact("deploy", "out/deploy/CHG-0002.deploy.json").read_text())["verdict"] == "deployed"

    p = run_pipeline(s.work, "schedule-2", **variables)
    assert p.rc == 0 and p.status("deploy") == "PASS" and "nothing to deploy" in p.log("deploy")
    assert len(log.read_text().splitlines()) == 1


def test_sharded_pipeline_commits_everywhere_before_refresh_and_rolls_back_all_shards(project, tmp_path):
    """Stand-in deploy: a shard must fail on purpose. Checks the stage barrier, journals travelling as
    artifacts between stages, rollback jobs on every shard, and the outcome in the ledger."""
    s = project
    m2 = _merge_change(s, "CHG-0002", "mr-7")
    log = tmp_path / "deploys.jsonl"
    sharded = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_DEPLOY_MODE": "sharded", "NETCHANGE_SCHEDULE": "deploy",
               "NETCHANGE_GIT_REMOTE": "origin"}

    def calls() -> list[dict]:
        return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []

    p = run_pipeline(s.work, "sharded-ok", NETCHANGE_BIN=str(standin_bin(tmp_path, log)), **sharded)
    assert p.rc == 0, p.out[-3000:]
    for job in ("fleet:claim", "fleet:commit: [1/2]", "fleet:commit: [2/2]", "fleet:refresh: [1/2]",
                "fleet:refresh: [2/2]", "fleet:deployed"):
        assert p.status(job) == "PASS", (job, p.out[-3000:])
    assert p.status("fleet:rollback: [1/2]") is None and p.status("deploy") is None
    commits = [c for c in calls() if c["phase"] == "commit"]
    refreshes = [c for c in calls() if c["phase"] == "refresh"]
    assert sorted(c["shard"] for c in commits) == ["1/2", "2/2"] == sorted(c["shard"] for c in refreshes)
    assert max(c["t"] for c in commits) < min(c["t"] for c in refreshes)  # the fleet-wide barrier
    assert all(c["had_journal"] for c in refreshes)  # each shard's journal came through as an artifact
    assert s.ledger_note(m2)["changes"]["CHG-0002"]["records"][-1]["state"] == "deployed"

    # Shard 2 fails to refresh: the rollback job of every shard runs, with its shard's journal.
    m3 = _merge_change(s, "CHG-0003", "mr-8")
    log.unlink()
    p = run_pipeline(s.work, "sharded-refresh-fails", **sharded,
                     NETCHANGE_BIN=str(standin_bin(tmp_path, log, fail_shard=2, fail_phase="refresh")))
    assert p.rc != 0
    assert p.status("fleet:refresh: [1/2]") == "PASS" and p.status("fleet:refresh: [2/2]") == "FAIL"
    assert p.status("fleet:rollback: [1/2]") == "PASS" and p.status("fleet:rollback: [2/2]") == "PASS"
    assert p.status("fleet:failed") == "PASS" and p.status("fleet:deployed") is None
    rollbacks = [c for c in calls() if c["phase"] == "rollback"]
    assert sorted(c["shard"] for c in rollbacks) == ["1/2", "2/2"] and all(c["had_journal"] for c in rollbacks)
    last = s.ledger_note(m3)["changes"]["CHG-0003"]["records"][-1]
    assert last["state"] == "failed" and any(r["verdict"] == "rolled_back" for r in last["reports"])

    # Shard 2 fails to commit: no shard refreshes. (GitLab then runs the rollback jobs too; gitlab-ci-local
    # 4.60 never starts a job after a skipped one, so the skipped refresh stage ends its run here.)
    m4 = _merge_change(s, "CHG-0004", "mr-9")
    log.unlink()
    p = run_pipeline(s.work, "sharded-commit-fails", NETCHANGE_BIN=str(standin_bin(tmp_path, log, fail_shard=2)), **sharded)
    assert p.rc != 0
    assert p.status("fleet:commit: [1/2]") == "PASS" and p.status("fleet:commit: [2/2]") == "FAIL"
    assert [c for c in calls() if c["phase"] == "refresh"] == []
    assert s.ledger_note(m4)["changes"]["CHG-0004"]["records"][-1]["state"] == "claimed"  # in doubt, for a human


def _deploy_registered() -> bool:
    p = subprocess.run([str(PYTHON), "-m", "pipeline.gitlab", "deploy", "--help"], capture_output=True, text=True)
    return p.returncode == 0


@pytest.mark.lab
def test_scheduled_pipeline_real_deploy_on_the_lab(request, tmp_path):
    """The scheduled pipeline with the real `netchange deploy` against the lab devices."""
    if not _deploy_registered():
        pytest.xfail("`netchange deploy` is not registered in the CLI yet (being written); the pipeline side "
                     "is covered with a stand-in by test_scheduled_pipeline_deploys_once_and_keeps_the_ledger")
    lab = request.getfixturevalue("lab")  # only now: the lab takes a while to come up
    s = Scratch(tmp_path, full=True)
    shutil.rmtree(s.work / "inventory")
    shutil.copytree(lab.inventory_path, s.work / "inventory")  # the test lab's addresses and keys
    s.commit_all("inventory of the test lab")
    s.git("push", "-q", "origin", "main")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
    subprocess.run([str(PYTHON), "-m", "pipeline.gitlab", "ci", "adopt"], cwd=s.work, env=env, check=True)
    # Raise r3's local preference, keeping the lab's PL-R3-IN whole (narrowing it would lose routes and
    # the deploy's post-checks would rightly roll it back).
    text = change("CHG-0002").replace("- {seq: 10, action: permit, prefix: 203.0.113.0/24}",
                                      "- {seq: 10, action: permit, prefix: 203.0.113.0/24}\n"
                                      "        - {seq: 20, action: permit, prefix: 198.18.3.0/24}")
    merge = s.merge_change(text, "mr-7")
    variables = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_BIN": str(real_bin(tmp_path)),
                 "NETCHANGE_GIT_REMOTE": "origin", "NETCHANGE_SCHEDULE": "deploy"}
    p = run_pipeline(s.work, "schedule-lab-1", **variables)
    assert p.rc == 0, p.out[-4000:]
    assert s.ledger_note(merge)["changes"]["CHG-0002"]["records"][-1]["state"] == "deployed"
    assert "local-preference 300" in lab.vtysh("r1", "show running-config")
    p = run_pipeline(s.work, "schedule-lab-2", **variables)
    assert p.rc == 0 and "nothing to deploy" in p.log("deploy")
