"""Fault injection against the real lab: every case ends with the devices as before (or fully applied
after a resume) and a clear report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from pipeline.deploy.lock import LockError
from pipeline.plan.report import plan_document, to_json
from pipeline.plan.run import plan_live
from pipeline.project import load_change

pytestmark = pytest.mark.lab
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TWO_ROUTERS = """
id: CHG-9101
title: New prefix-list on two routers
requested_by: tests
targets: {hosts: [r1, r2]}
routing:
  prefix_lists:
    - name: PL-FAULT
      afi: ipv4
      entries: [{seq: 10, action: permit, prefix: 198.18.10.0/24}]
"""

R3_DROPS_ALL = """
id: CHG-9102
title: A policy that drops everything r3 sends
requested_by: tests
targets: {hosts: [r1]}
routing:
  route_maps:
    - name: RM-R3-IN
      entries:
        - {seq: 10, action: deny, match: {prefix_list: PL-R3-IN}}
"""

RAISE_R3 = """
id: CHG-9103
title: Prefer r3
requested_by: tests
targets: {hosts: [r1]}
routing:
  route_maps:
    - name: RM-R3-IN
      entries:
        - {seq: 10, action: permit, description: backup upstream, match: {prefix_list: PL-R3-IN}, set: {local_preference: 300}}
"""
# The same change as `netchange deploy` takes it: the command runs the validator first, which refuses a
# route-map matching a list it cannot see (NC103), so the change names PL-R3-IN as r1 has it.
RAISE_R3_VALID = RAISE_R3.replace("""routing:
""", """routing:
  prefix_lists:
    - name: PL-R3-IN
      afi: ipv4
      entries:
        - {seq: 10, action: permit, prefix: 203.0.113.0/24}
        - {seq: 20, action: permit, prefix: 198.18.3.0/24}
""")


def sshd_pids(lab, node: str) -> list[int]:
    ns = lab.lab.device(node).namespace
    pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    out = []
    for p in pids:
        try:
            if open(f"/proc/{p}/comm").read().strip() == "sshd":
                out.append(int(p))
        except OSError:
            pass
    return out


def restart_sshd(lab, node: str) -> None:
    d = lab.lab.device(node)
    cfg = d.directory / "sshd_config"
    subprocess.run(["ip", "netns", "exec", d.namespace, "unshare", "--uts", "sh", "-c",
                    f"hostname {node} && /usr/sbin/sshd -f {cfg}"], check=True)


def test_ssh_dies_mid_push_then_journal_rollback_restores(env, lab):
    before = {n: env.policy(n) for n in ("r1", "r2")}
    change = env.change(TWO_ROUTERS)

    def kill_r2(_wave):
        for pid in sshd_pids(lab, "r2"):
            os.kill(pid, signal.SIGKILL)

    rep = env.deployer(change, hooks={"before_commit": kill_r2}).run()
    try:
        assert rep["verdict"] in ("rolled_back", "rollback_failed")
        r2 = next(d for d in rep["devices"] if d["host"] == "r2")
        assert "r2" in rep["summary"] and r2["error"], "the report names the device that failed"
        assert env.policy("r1") == before["r1"], "r1 was restored"
    finally:
        restart_sshd(lab, "r2")
    if rep["verdict"] == "rollback_failed":  # r2 was unreachable for its rollback: finish it from the journal
        rep2 = env.deployer(change, phase="rollback").run()
        assert rep2["verdict"] == "rolled_back", rep2
    assert {n: env.policy(n) for n in ("r1", "r2")} == before


def test_device_rejecting_a_command_rolls_back(env, lab, tmp_path):
    before = env.policy("r1")
    change_file = env.change(RAISE_R3)
    change = load_change(change_file)[0]
    plans = list(plan_live(change, env.inventory, env.project.objects))
    doc = plan_document(change, change_file, plans, [])
    doc["devices"][0]["commands"].insert(2, " set frobnicate 7")  # a reviewed plan the device refuses
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(to_json(doc))
    rep = env.deployer(change_file, plan_file).run()
    assert rep["verdict"] == "rolled_back"
    assert "refused" in rep["summary"] and "frobnicate" in rep["summary"]
    assert env.policy("r1") == before


def test_session_down_before_deploy_refuses_and_sends_nothing(env, lab):
    lab.vtysh("r1", "configure terminal", "router bgp 65001", "neighbor 198.18.1.3 shutdown")
    try:
        deadline = time.monotonic() + 10
        while lab.vtysh_json("r1", "show bgp summary json")["ipv4Unicast"]["peers"]["198.18.1.3"]["state"] == "Established":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        before = env.policy("r1")
        rep = env.deployer(env.change(RAISE_R3)).run()
        assert rep["verdict"] == "refused" and "198.18.1.3" in rep["summary"]
        assert not any(e["phase"] == "commit" for d in rep["devices"] for e in d["events"])
        assert env.policy("r1") == before
    finally:
        lab.vtysh("r1", "configure terminal", "router bgp 65001", "no neighbor 198.18.1.3 shutdown")
        lab.lab.wait_converged(30)


def test_drift_after_planning_is_refused(env, lab, tmp_path):
    change_file = env.change(RAISE_R3)
    change = load_change(change_file)[0]
    doc = plan_document(change, change_file, list(plan_live(change, env.inventory, env.project.objects)), [])
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(to_json(doc))
    lab.vtysh("r1", "configure terminal", "ip prefix-list PL-DRIFT seq 5 permit 198.18.20.0/24")
    drifted = env.policy("r1")
    rep = env.deployer(change_file, plan_file).run()
    assert rep["verdict"] == "refused" and "drift" in rep["summary"]
    assert env.policy("r1") == drifted


def test_failed_post_check_rolls_back_and_refreshes_again(env, lab):
    before = env.policy("r1")
    pfx = lambda: lab.vtysh_json("r1", "show bgp summary json")["ipv4Unicast"]["peers"]["198.18.1.3"]["pfxRcd"]  # noqa: E731
    assert pfx() == 2
    rep = env.deployer(env.change(R3_DROPS_ALL)).run()
    assert rep["verdict"] == "rolled_back" and "prefixes from 198.18.1.3" in rep["summary"]
    events = [e["phase"] for d in rep["devices"] for e in d["events"]]
    assert events.index("refresh") < events.index("rollback")
    assert env.policy("r1") == before
    deadline = time.monotonic() + 10
    while pfx() != 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert pfx() == 2, "the restored policy was refreshed into the table again"


def test_second_deploy_while_one_runs_is_refused(env, lab):
    inside, release = threading.Event(), threading.Event()

    def hold(_wave):
        inside.set()
        release.wait(30)

    first_result = {}
    t = threading.Thread(target=lambda: first_result.update(env.deployer(env.change(RAISE_R3), hooks={"after_barrier": hold}).run()))
    t.start()
    try:
        assert inside.wait(30)
        with pytest.raises(LockError, match="being deployed by change CHG-9103"):
            env.deployer(env.change(R3_DROPS_ALL.replace("CHG-9102", "CHG-9104"))).run()
    finally:
        release.set()
        t.join(60)
    assert first_result["verdict"] == "deployed"


def test_killed_between_commit_and_refresh_is_resumed(env, lab, tmp_path):
    change_file = env.change(RAISE_R3_VALID)
    state = tmp_path / "state"
    argv = [sys.executable, "-m", "pipeline.cli", "deploy", str(change_file), "--inventory", str(env.inventory.directory),
            "--pause-before-refresh", "60", "--journal-dir", str(state / "journal")]
    env_vars = {**os.environ, "PYTHONPATH": REPO}
    # State dir: the CLI keeps locks under <project>/.netchange; point the test deployer at the same place.
    proc = subprocess.Popen(argv, cwd=REPO, env=env_vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = state / "journal" / "CHG-9103.jsonl"
    deadline = time.monotonic() + 60
    while not (journal.exists() and '"step": "barrier"' in journal.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "timeout"
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    lp = lambda: lab.vtysh_json("r1", "show bgp ipv4 unicast 203.0.113.0/24 json")  # noqa: E731
    assert all(p.get("locPrf", 100) != 300 for p in lp()["paths"]), "killed before the refresh: nothing moved"
    project_state = env.project.root / ".netchange"
    try:
        # The dead deploy's lock is reported as stale, never silently broken.
        with pytest.raises(LockError, match="STALE"):
            env.deployer(change_file, state_dir=project_state, journal_dir=state / "journal").run()
        subprocess.run([sys.executable, "-m", "pipeline.cli", "deploy", str(change_file), "--break-lock", "r1"],
                       cwd=REPO, env=env_vars, check=True, capture_output=True)
        rep = env.deployer(change_file, state_dir=project_state, journal_dir=state / "journal").run()
    finally:
        (project_state / "locks" / "r1.lock").unlink(missing_ok=True)
    assert rep["verdict"] == "deployed", rep
    assert any(c["check"] == "refresh 198.18.1.3 ipv4 in" and c["ok"] for d in rep["devices"] for c in d["checks"])
    best = [p for p in lp()["paths"] if p.get("bestpath", {}).get("overall")]
    assert best[0]["locPrf"] == 300
