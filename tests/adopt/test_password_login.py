"""A lab router that accepts only password login (as TACACS+/RADIUS fleets do): planned and deployed with
the password from the environment, and the password appears nowhere in what netchange produced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from labsupport import TEST_LAB_PREFIX, _exclusive, lab_unavailable_reason

from pipeline import schemas

from .conftest import REPO, clean_env

pytestmark = [pytest.mark.lab, pytest.mark.slow]
PREFIX = f"{TEST_LAB_PREFIX}p"  # a lab of its own: the session lab keeps its topology

TOPOLOGY = """\
name: password-login
nodes:
  pw1:
    kind: frr
    role: edge
    login: password
    asn: 65011
    router_id: 198.51.100.11
    loopback: [198.51.100.11/32]
    networks: [198.51.100.11/32]
    expect:
      r9: {ipv4: 1}
    policy: |
      ip prefix-list PL-R9-IN seq 10 permit 198.18.19.0/24
      ip prefix-list PL-LOCAL-OUT seq 10 permit 198.51.100.11/32
      route-map RM-R9-IN permit 10
       match ip address prefix-list PL-R9-IN
       set local-preference 100
      route-map RM-R9-OUT permit 10
       match ip address prefix-list PL-LOCAL-OUT
  r9:
    kind: frr
    role: upstream
    asn: 65019
    router_id: 198.51.100.19
    routes:
      - {prefix: 198.18.19.0/24, via: blackhole}
    networks: [198.18.19.0/24]
    expect:
      pw1: {ipv4: 1}
    policy: |
      ip prefix-list PL-PW1-OUT seq 10 permit 198.18.19.0/24
      route-map RM-PW1-IN permit 10
      route-map RM-PW1-OUT permit 10
       match ip address prefix-list PL-PW1-OUT
links:
  - {a: pw1, b: r9, ipv4: 198.18.1.10/31, bgp: true}
"""

CHANGE = """\
id: CHG-0077
title: Prefer r9 on the password-login router
requested_by: noc@example.net
targets:
  hosts: [pw1]
routing:
  prefix_lists:
    - name: PL-R9-IN
      afi: ipv4
      entries:
        - {seq: 10, action: permit, prefix: 198.18.19.0/24}
  route_maps:
    - name: RM-R9-IN
      entries:
        - seq: 10
          action: permit
          match: {prefix_list: PL-R9-IN}
          set: {local_preference: 300}
"""


@pytest.fixture(scope="module")
def password_lab(tmp_path_factory):
    reason = lab_unavailable_reason()
    if reason:
        print(f"\npassword-login lab test skipped: {reason}")
        pytest.skip(reason)
    from pipeline.lab import Lab
    from pipeline.lab import topology as topo_mod

    topo_file = tmp_path_factory.mktemp("pwlab") / "topology.yaml"
    topo_file.write_text(TOPOLOGY)
    lab = Lab(topo_file, prefix=PREFIX)
    assert topo_mod.load(topo_file).nodes["pw1"].login == "password"
    with _exclusive(PREFIX):
        try:
            lab.up(fresh=True, converge_timeout=60)
            yield lab
        finally:
            lab.down()
            assert not any(lab.leftovers().values()), lab.leftovers()


def _project(tmp: Path, lab) -> Path:
    """A netchange project as a team keeps it: policies from the repository, the lab's inventory."""
    root = tmp / "project"
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    shutil.copytree(lab.inventory_path, root / "inventory")
    (root / "policies" / "changes").mkdir()
    (root / "policies" / "changes" / "CHG-0077.yaml").write_text(CHANGE)
    return root


def _everything(paths: list[Path], texts: list[str]) -> str:
    out = list(texts)
    for base in paths:
        for f in [base] if base.is_file() else base.rglob("*"):
            if f.is_file():
                out.append(f.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_password_only_router_is_planned_and_deployed_without_leaking_the_password(password_lab, tmp_path, run_cli):
    lab = password_lab
    password = lab.login_password()
    assert len(password) >= 20
    root = _project(tmp_path, lab)
    inventory_text = "".join(p.read_text() for p in (root / "inventory").glob("*.yaml"))
    assert password not in inventory_text and "frr_password" in inventory_text
    change = "policies/changes/CHG-0077.yaml"

    # Without the password the router cannot be reached: it refuses the lab's key.
    p = run_cli("plan", change, cwd=root, env=clean_env())
    assert p.returncode == 1 and "pw1: SSH authentication failed for user" in p.stdout + p.stderr, p.stdout + p.stderr

    # With it, as a masked CI/CD variable scoped to the router's group (-vv: even the debug log stays clean).
    env = clean_env(NETCHANGE_SSH_PASSWORD_GROUP_FRR_PASSWORD=password)
    runs = []
    p = run_cli("-vv", "plan", change, "--format", "json", "-o", "out/plan.json", "--detailed-exitcode", cwd=root, env=env)
    runs.append(p)
    assert p.returncode == 2, p.stderr[-3000:]  # changes to make
    assert " DEBUG paramiko.transport: " in p.stderr  # the debug log of the SSH libraries was on
    plan = json.loads((root / "out" / "plan.json").read_text())
    assert plan["devices"][0]["host"] == "pw1" and any("local-preference 300" in c for c in plan["devices"][0]["commands"])

    # Snapshots for offline plans, taken with the same credentials: the offline plan is the live one.
    p = run_cli("backup", "-o", "snapshots", cwd=root, env=env)
    runs.append(p)
    assert p.returncode == 0 and (root / "snapshots" / "pw1.cfg").is_file(), p.stderr[-3000:]
    p = run_cli("plan", change, "--snapshots", "snapshots", "--format", "json", cwd=root, env=env)
    runs.append(p)
    assert json.loads(p.stdout)["devices"][0]["commands"] == plan["devices"][0]["commands"]

    p = run_cli("-vv", "deploy", "out/plan.json", "--report", "out/deploy.json", "--markdown", "out/deploy.md",
                cwd=root, env=env)
    runs.append(p)
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads((root / "out" / "deploy.json").read_text())
    assert report["verdict"] == "deployed", report["summary"]
    for kind, doc in (("plan", plan), ("deploy-report", report)):  # real outputs satisfy the published schemas
        errors = [e.message for e in jsonschema.Draft202012Validator(schemas.schema(kind)).iter_errors(doc)]
        assert errors == [], (kind, errors)
    route = json.loads(lab.exec("pw1", ["vtysh", "-c", "show bgp ipv4 unicast 198.18.19.0/24 json"]).stdout)
    assert any(path.get("locPrf") == 300 for path in route["paths"]), route

    p = run_cli("plan", change, "--detailed-exitcode", cwd=root, env=env)
    runs.append(p)
    assert p.returncode == 0, p.stdout + p.stderr  # nothing left to do

    produced = _everything([root, lab.state_dir / "nodes"], [r.stdout + r.stderr for r in runs])
    assert "198.18.19.0/24" in produced and "pw1" in produced  # the search covers real output
    assert password not in produced


def test_proxyjump_through_a_jump_host_whose_key_is_checked(password_lab, tmp_path, monkeypatch):
    """pw1 reached through an sshd in r9's namespace (port 2222, root by the lab's key): the session on
    pw1 comes from r9's address, and a jump host missing from known_hosts is refused."""
    import os
    import subprocess

    from pipeline.connect import connect
    from pipeline.errors import DeviceError
    from pipeline.inventory import Inventory

    lab = password_lab
    r9, pw1 = lab.device("r9"), lab.device("pw1")
    jump = lab.state_dir / "jump"  # inside the lab's state dir: `lab down` stops this sshd whatever happens
    jump.mkdir()
    (jump / "sshd_config").write_text("\n".join([
        f"ListenAddress {r9.mgmt_address}:2222", f"HostKey {lab.ssh_dir / 'host_r9'}", f"PidFile {jump / 'sshd.pid'}",
        f"AuthorizedKeysFile {lab.ssh_dir / 'authorized_keys'}", "PubkeyAuthentication yes", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no",
        "AllowTcpForwarding yes", "AllowUsers root", "LogLevel ERROR"]) + "\n")
    subprocess.run(["ip", "netns", "exec", r9.namespace, "/usr/sbin/sshd", "-f", str(jump / "sshd_config")], check=True)
    keytype, key = (lab.ssh_dir / "host_r9.pub").read_text().split()[:2]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(lab.known_hosts.read_text() + f"[{r9.mgmt_address}]:2222 {keytype} {key}\n")
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(f"Host {pw1.mgmt_address}\n  ProxyJump root@{r9.mgmt_address}:2222\n")
    for k in [k for k in os.environ if k.startswith(("NETCHANGE_", "SSH_AUTH_SOCK"))]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("NETCHANGE_SSH_CONFIG", str(ssh_config))
    monkeypatch.setenv("NETCHANGE_KNOWN_HOSTS", str(known_hosts))
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD_HOST_PW1", lab.login_password())
    host = Inventory(lab.inventory_path).hosts["pw1"]

    with connect(host) as conn:
        assert conn.find_prompt().startswith("pw1")
        sessions = lab.exec("pw1", ["ss", "-Htn", "state", "established", "( sport = :22 )"]).stdout
        assert r9.mgmt_address in sessions, sessions  # from the jump host, not from this machine's bridge

    # known_hosts without the jump host (r9's key on any port): refused, though pw1's own key is there
    without_jump = tmp_path / "known_hosts.without-jump"
    without_jump.write_text("".join(ln + "\n" for ln in lab.known_hosts.read_text().splitlines()
                                    if not ln.startswith(f"{r9.mgmt_address} ")))
    assert pw1.mgmt_address in without_jump.read_text() and r9.mgmt_address not in without_jump.read_text()
    monkeypatch.setenv("NETCHANGE_KNOWN_HOSTS", str(without_jump))
    with pytest.raises(DeviceError) as e:
        with connect(host):
            pass
    assert f"pw1: SSH to {pw1.mgmt_address}:22 via {r9.mgmt_address} failed at the jump host: Host key verification failed" \
        in str(e.value), e.value
