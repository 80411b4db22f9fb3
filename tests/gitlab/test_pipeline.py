"""`.gitlab-ci.yml` run for real by gitlab-ci-local (shell executor, isolated build folders, so artifacts
really travel between jobs) in a scratch copy of the project with a bare `origin`.

netchange runs from the already-bootstrapped venv (NETCHANGE_BIN), so no job reinstalls anything. The MR
note and the open-MR lookup go to the GitLab HTTP fake. `netchange deploy` is the stand-in of
netchange_standin.py where noted (no lab needed, or a shard whose commit fails on purpose); the `lab`
tests run the real one against the session lab, the sharded one with two shards (r1, r2).
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


def run_pipeline(work: Path, name: str, jobs: tuple[str, ...] = (), **variables: str) -> Pipeline:
    args = [GCL, "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source", "--json-schema-validation"]
    for k, v in variables.items():
        args += ["--variable", f"{k}={v}"]
    args += list(jobs)  # only these jobs (default: the whole pipeline)
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


def test_mr_validate_and_plan_jobs_install_with_pip_alone(project, tmp_path):
    """No NETCHANGE_BIN and a scripts/bootstrap that fails: the validate and plan jobs install netchange
    into a virtualenv with pip (the light install: no apt package, no bootstrap) and do their work."""
    s = project
    s.write("scripts/bootstrap", "#!/bin/sh\necho 'netchange-test: scripts/bootstrap ran' >&2\nexit 99\n")
    (s.work / "scripts" / "bootstrap").chmod(0o755)
    s.commit_all("this repository's bootstrap must not run in MR jobs")
    s.git("push", "-q", "origin", "main")
    base = s.head("main")
    s.git("checkout", "-q", "-b", "mr-7", "main")
    s.add_change(change("CHG-0002"))
    s.commit_all("CHG-0002: raise local preference on r1")
    p = run_pipeline(s.work, "mr-light", jobs=("validate", "plan"), CI_PIPELINE_SOURCE="merge_request_event",
                     CI_MERGE_REQUEST_DIFF_BASE_SHA=base, NETCHANGE_SNAPSHOTS="snapshots", NETCHANGE_GIT_REMOTE="origin")
    assert p.rc == 0, p.out[-4000:]
    assert p.status("validate") == "PASS" and p.status("plan") == "PASS", p.out[-4000:]
    for job in ("validate", "plan"):
        assert "netchange: light install (pip install .)" in p.log(job), p.log(job)[-3000:]
        assert "netchange 0.1.0" in p.log(job)  # the job's `$NC --version`
    assert "netchange-test: scripts/bootstrap ran" not in p.out + p.log("validate") + p.log("plan")
    assert 'failures="0"' in p.artifact("validate", "out/validate-junit.xml").read_text()
    plan = json.loads(p.artifact("plan", "out/plan/CHG-0002.json").read_text())
    assert plan["format"] == "netchange-plan/1" and plan["devices"][0]["host"] == "r1" and plan["errors"] == []


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
    """Stand-in deploy, so this runs without the lab: it checks the pipeline, the claim/record protocol and
    the ledger pushed back to origin (test_scheduled_pipeline_real_deploy_on_the_lab runs the real one)."""
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


def test_sharded_pipeline_stops_before_refresh_when_a_shard_fails_to_commit(project, tmp_path):
    """Stand-in deploy, because this needs a deterministic fault the lab cannot give: one shard's commit job
    failing (the lab's routers accept every edit netchange sends). Everything else of the sharded pipeline
    (barrier, refresh, a failing refresh, rollback of every shard, the ledger) runs with the real
    `netchange deploy` against the lab in test_sharded_pipeline_real_deploy_on_the_lab."""
    s = project
    m4 = _merge_change(s, "CHG-0004", "mr-9")
    log = tmp_path / "deploys.jsonl"
    sharded = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_DEPLOY_MODE": "sharded", "NETCHANGE_SCHEDULE": "deploy",
               "NETCHANGE_GIT_REMOTE": "origin"}
    # Shard 2 fails to commit: no shard refreshes. (GitLab then runs the rollback jobs too; gitlab-ci-local
    # 4.60 never starts a job after a skipped one, so the skipped refresh stage ends its run here.)
    p = run_pipeline(s.work, "sharded-commit-fails", NETCHANGE_BIN=str(standin_bin(tmp_path, log, fail_shard=2)), **sharded)
    assert p.rc != 0
    assert p.status("fleet:commit: [1/2]") == "PASS" and p.status("fleet:commit: [2/2]") == "FAIL"
    calls = [json.loads(x) for x in log.read_text().splitlines()]
    assert sorted(c["shard"] for c in calls if c["phase"] == "commit") == ["1/2", "2/2"]
    assert [c for c in calls if c["phase"] == "refresh"] == []
    assert s.ledger_note(m4)["changes"]["CHG-0004"]["records"][-1]["state"] == "claimed"  # in doubt, for a human


@pytest.mark.lab
def test_scheduled_pipeline_real_deploy_on_the_lab(request, tmp_path):
    """The scheduled pipeline with the real `netchange deploy` against the lab devices."""
    lab = request.getfixturevalue("lab")  # only now: the lab takes a while to come up
    s = _lab_project(tmp_path, lab)
    # Raise r3's local preference, keeping the lab's PL-R3-IN whole (narrowing it would lose routes and
    # the deploy's post-checks would rightly roll it back).
    text = change("CHG-0002").replace("- {seq: 10, action: permit, prefix: 203.0.113.0/24}",
                                      "- {seq: 10, action: permit, prefix: 203.0.113.0/24}\n"
                                      "        - {seq: 20, action: permit, prefix: 198.18.3.0/24}")
    merge = s.merge_change(text, "mr-7")
    variables = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_BIN": str(real_bin(tmp_path)),
                 "NETCHANGE_GIT_REMOTE": "origin", "NETCHANGE_SCHEDULE": "deploy"}
    from lab_env import restored

    with restored(lab, tmp_path / "restore"):  # the lab goes back as it was: later tests expect its baseline
        p = run_pipeline(s.work, "schedule-lab-1", **variables)
        assert p.rc == 0, p.out[-4000:]
        assert s.ledger_note(merge)["changes"]["CHG-0002"]["records"][-1]["state"] == "deployed"
        assert "local-preference 300" in lab.vtysh("r1", "show running-config")
        p = run_pipeline(s.work, "schedule-lab-2", **variables)
        assert p.rc == 0 and "nothing to deploy" in p.log("deploy")


def _lab_project(tmp_path: Path, lab) -> Scratch:
    """The whole project in a scratch repository, with the test lab's inventory, CHG-0001 adopted."""
    s = Scratch(tmp_path, full=True)
    shutil.rmtree(s.work / "inventory")
    shutil.copytree(lab.inventory_path, s.work / "inventory")  # the test lab's addresses and keys
    s.commit_all("inventory of the test lab")
    s.git("push", "-q", "origin", "main")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
    subprocess.run([str(PYTHON), "-m", "pipeline.gitlab", "ci", "adopt"], cwd=s.work, env=env, check=True,
                   capture_output=True)
    return s


def _two_router_change(cid: str, rm_entry: str, r1_out_extra: str) -> str:
    """A change on r1 and r2 (one device per shard of 2). Routing objects go to every targeted BGP speaker:
    RM-R3-IN/PL-R3-IN matter on r1 (bound to r3) and are new, unbound objects on r2; PL-R1-OUT is bound
    on r2 (outbound to r1) and gains a prefix r2 does not originate (harmless, but it needs a refresh),
    and is a new, unbound object on r1."""
    return (f"id: {cid}\ntitle: sharded test change {cid}\nrequested_by: alice@example.net\n"
            "targets:\n  hosts: [r1, r2]\n"
            "routing:\n"
            "  prefix_lists:\n"
            "    - name: PL-R3-IN\n      afi: ipv4\n      entries:\n"
            "        - {seq: 10, action: permit, prefix: 203.0.113.0/24}\n"
            "        - {seq: 20, action: permit, prefix: 198.18.3.0/24}\n"
            "    - name: PL-R1-OUT\n      afi: ipv4\n      entries:\n"
            "        - {seq: 10, action: permit, prefix: 203.0.113.0/24}\n"
            "        - {seq: 20, action: permit, prefix: 198.18.2.0/24}\n"
            f"        - {{seq: 30, action: permit, prefix: {r1_out_extra}}}\n"
            "  route_maps:\n"
            "    - name: RM-R3-IN\n      entries:\n"
            f"        - {rm_entry}\n")


def _artifacts_of(p: Pipeline, job: str) -> Path:
    """A job's artifacts folder; gitlab-ci-local names it like the job's log (see Pipeline.log)."""
    name = re.sub(r"[^A-Za-z0-9]+", lambda m: base64.b64encode(m.group(0).encode()).decode().rstrip("="), job)
    return p.state / "artifacts" / name


def _journal(p: Pipeline, job: str) -> list[dict]:
    """The journal records a shard job left in its artifacts (its shard's journal, archived or not)."""
    files = sorted(_artifacts_of(p, job).rglob("*.jsonl"))
    return [json.loads(x) for f in files for x in f.read_text().splitlines() if x.strip()]


def _report(p: Pipeline, job: str, name: str) -> dict:
    files = list(_artifacts_of(p, job).rglob(name))
    assert files, (job, name, sorted(str(f) for f in p.state.joinpath("artifacts").rglob("*")))
    return json.loads(files[0].read_text())


@pytest.mark.lab
def test_sharded_pipeline_real_deploy_on_the_lab(request, tmp_path):
    """The sharded pipeline (parallel: 2) with the REAL `netchange deploy` against the lab, r1 on shard 1
    and r2 on shard 2. A good change commits on both shards before either refreshes, then refreshes and is
    recorded deployed. A bad change (RM-R3-IN denies every prefix from r3 on r1) passes the commit stage,
    fails r1's post-checks in the refresh stage while r2's refresh succeeds; then the rollback job of
    every shard runs from its journal (an artifact), both routers hold exactly their policy from before,
    and the ledger records the failure."""
    from lab_env import restored

    lab = request.getfixturevalue("lab")  # only now: the lab takes a while to come up
    s = _lab_project(tmp_path, lab)
    sharded = {"CI_PIPELINE_SOURCE": "schedule", "NETCHANGE_DEPLOY_MODE": "sharded", "NETCHANGE_SCHEDULE": "deploy",
               "NETCHANGE_GIT_REMOTE": "origin", "NETCHANGE_BIN": str(real_bin(tmp_path))}
    shard_jobs = [f"fleet:{stage}: [{i}/2]" for stage in ("commit", "refresh") for i in (1, 2)]
    with restored(lab, tmp_path / "restore") as env:  # the lab goes back as it was, whatever happens
        # ---- a good change: commit on both shards, the barrier, refresh on both shards, deployed
        good = _two_router_change("CHG-0002", "{seq: 10, action: permit, match: {prefix_list: PL-R3-IN}, "
                                  "set: {local_preference: 250}}", "198.18.250.0/24")
        m2 = s.merge_change(good, "mr-7")
        p = run_pipeline(s.work, "sharded-lab-ok", **sharded)
        assert p.rc == 0, p.out[-4000:]
        for job in ("fleet:claim", *shard_jobs, "fleet:deployed"):
            assert p.status(job) == "PASS", (job, p.out[-4000:])
        assert p.status("fleet:rollback: [1/2]") is None and p.status("fleet:failed") is None
        for i, host in ((1, "r1"), (2, "r2")):
            commit = _report(p, f"fleet:commit: [{i}/2]", f"commit-{i}.json")
            refresh = _report(p, f"fleet:refresh: [{i}/2]", f"refresh-{i}.json")
            assert [d["host"] for d in commit["devices"]] == [host] == [d["host"] for d in refresh["devices"]]
            assert (commit["verdict"], refresh["verdict"]) == ("committed", "deployed")
        # The fleet-wide barrier: every shard's commit finished before any shard's refresh began.
        commits_done = [r["t"] for i in (1, 2) for r in _journal(p, f"fleet:commit: [{i}/2]") if r["step"] == "phase_done"]
        refresh_starts = [r["t"] for i in (1, 2) for r in _journal(p, f"fleet:refresh: [{i}/2]")
                          if r["step"] == "start" and r.get("phase") == "refresh"]
        assert len(commits_done) == 2 and len(refresh_starts) == 2 and max(commits_done) < min(refresh_starts)
        assert s.ledger_note(m2)["changes"]["CHG-0002"]["records"][-1]["state"] == "deployed"
        r1 = lab.vtysh_json("r1", "show bgp ipv4 unicast 198.18.3.0/24 json")
        assert any(path.get("locPrf") == 250 for path in r1["paths"]), r1
        assert "198.18.250.0/24" in lab.vtysh("r2", "show running-config")
        before = {n: env.policy(n) for n in ("r1", "r2")}

        # ---- a bad change: r1's shard fails its post-checks in the refresh stage, every shard rolls back
        bad = _two_router_change("CHG-0003", "{seq: 10, action: deny, match: {prefix_list: PL-R3-IN}}",
                                 "198.18.99.0/24")
        m3 = s.merge_change(bad, "mr-8")
        p = run_pipeline(s.work, "sharded-lab-refresh-fails", **sharded)
        assert p.rc != 0
        assert p.status("fleet:commit: [1/2]") == "PASS" and p.status("fleet:commit: [2/2]") == "PASS", p.out[-4000:]
        assert p.status("fleet:refresh: [1/2]") == "FAIL" and p.status("fleet:refresh: [2/2]") == "PASS", p.out[-4000:]
        assert p.status("fleet:rollback: [1/2]") == "PASS" and p.status("fleet:rollback: [2/2]") == "PASS", p.out[-4000:]
        assert p.status("fleet:failed") == "PASS" and p.status("fleet:deployed") is None
        failed_refresh = _report(p, "fleet:refresh: [1/2]", "refresh-1.json")
        assert failed_refresh["verdict"] == "rolled_back" and "post-check" in failed_refresh["summary"], failed_refresh
        assert _report(p, "fleet:refresh: [2/2]", "refresh-2.json")["verdict"] == "deployed"
        # r1's shard rolled itself back in its refresh job: its rollback job has nothing left to do and says so
        # (it used to claim "rolled_back: restored 0 device(s)")
        rb1 = _report(p, "fleet:rollback: [1/2]", "rollback-1.json")
        assert rb1["verdict"] == "no_op" and "its last run ended rolled_back" in rb1["summary"], rb1
        rb = _report(p, "fleet:rollback: [2/2]", "rollback-2.json")
        assert rb["verdict"] == "rolled_back" and [d["host"] for d in rb["devices"]] == ["r2"], rb
        # r2 had refreshed its session to r1 when r1's shard failed: its rollback refreshes it again.
        rb2 = _report(p, "fleet:rollback: [2/2]", "rollback-2.json")
        assert any(e["phase"] == "rollback" and e["refreshed"] for e in rb2["devices"][0]["events"]), rb2
        assert {n: env.policy(n) for n in ("r1", "r2")} == before
        last = s.ledger_note(m3)["changes"]["CHG-0003"]["records"][-1]
        assert last["state"] == "failed" and any(r["verdict"] == "rolled_back" for r in last["reports"]), last
