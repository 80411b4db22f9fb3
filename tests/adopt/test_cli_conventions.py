"""The conventions of the ecosystem: --version, -q/-v, NO_COLOR and plain text off a terminal, Terraform's
--detailed-exitcode, and device error output that is never mistaken for an empty device."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from importlib.metadata import version

import pytest

from .conftest import NETCHANGE, REPO, clean_env
from .test_inventory_adoption import PLAIN, project

CHANGE = "policies/changes/CHG-0310.yaml"


def in_terminal(args: list[str], env: dict[str, str], cwd) -> str:
    """Output of `netchange ARGS` run on a pseudo-terminal (stdout and stderr), as a person sees it."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(NETCHANGE), *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_version_from_any_directory(tmp_path, run_cli):
    p = run_cli("--version", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == f"netchange {version('netchange')}\n"


def test_no_color_and_non_terminal_output_is_plain(tmp_path, run_cli):
    args = ["validate", "policies/changes/CHG-0001.yaml"]
    coloured = in_terminal(args, clean_env(TERM="xterm-256color"), REPO)
    assert "\x1b[" in coloured and "1 clean" in coloured  # on a terminal, the summary is coloured
    plain = in_terminal(args, clean_env(TERM="xterm-256color", NO_COLOR="1"), REPO)
    assert "1 clean" in plain and "\x1b[" not in plain
    failing = in_terminal(["validate", "no-such.yaml"], clean_env(TERM="xterm-256color", NO_COLOR="1"), REPO)
    assert "error" in failing and "\x1b[" not in failing
    helped = in_terminal(["--help"], clean_env(TERM="xterm-256color", NO_COLOR="1"), REPO)
    assert "--quiet" in helped and "\x1b[" not in helped
    p = run_cli(*args, cwd=REPO)  # piped: plain without being asked
    assert "1 clean" in p.stdout and "\x1b[" not in p.stdout + p.stderr


def test_quiet_keeps_errors_and_verbose_logs(tmp_path, run_cli):
    root = project(tmp_path)
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", "-o", "plan.txt", cwd=root)
    assert p.returncode == 0 and "plan written to plan.txt" in p.stderr
    p = run_cli("-q", "plan", CHANGE, "--snapshots", "snapshots", "-o", "plan.txt", cwd=root)
    assert p.returncode == 0 and p.stderr == "" and (root / "plan.txt").read_text().startswith("plan CHG-0310")
    p = run_cli("-q", "plan", "policies/changes/CHG-9999.yaml", cwd=root)
    assert p.returncode == 2 and "CHG-9999.yaml" in p.stderr and "error" in p.stderr
    p = run_cli("-v", "plan", CHANGE, "--snapshots", "snapshots", "-o", "plan.txt", cwd=root)
    assert "INFO pipeline.plan.cli: edge-ios-1: 12 command(s)" in p.stderr, p.stderr
    assert "DEBUG" not in p.stderr


def test_detailed_exitcode_as_terraform(tmp_path, run_cli):
    root = project(tmp_path)
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", "--detailed-exitcode", cwd=root)
    assert p.returncode == 2, p.stderr  # changes
    # the devices as they will be once the change is applied: their snapshots plus the rendered change
    for host, ext in (("edge-ios-1", "cfg"), ("edge-eos-1", "cfg"), ("edge-junos-1", "cfg")):
        r = run_cli("render", CHANGE, "--host", host, cwd=root)
        assert r.returncode == 0, r.stderr
        snap = root / "snapshots" / f"{host}.{ext}"
        snap.write_text(snap.read_text().replace("end\n", "") + r.stdout + ("end\n" if "ios" in host or "eos" in host else ""))
    hosts = root / "policies" / "changes" / "CHG-0310.yaml"
    hosts.write_text(hosts.read_text().replace("roles: [edge]", "hosts: [edge-ios-1, edge-eos-1, edge-junos-1]"))
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", "--detailed-exitcode", cwd=root)
    assert p.returncode == 0, p.stdout + p.stderr  # nothing to change
    assert p.stdout.count(": no change") == 3
    (root / "snapshots" / "edge-eos-1.cfg").unlink()
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", "--detailed-exitcode", cwd=root)
    assert p.returncode == 1  # an error, never "changes"
    p = run_cli("plan", "policies/changes/CHG-9999.yaml", "--detailed-exitcode", cwd=root)
    assert p.returncode == 1 and "CHG-9999" in p.stderr  # bad input: 2 without the flag, 1 with it
    p = run_cli("plan", CHANGE, "--detailed-exitcode", "--no-such-option", cwd=root)
    assert p.returncode == 1


REFUSALS = {
    "edge-ios-1.cfg": "show running-config\n                    ^\n% Invalid input detected at '^' marker.\n",
    "edge-eos-1.cfg": "% Authorization denied for command 'show running-config'\n",
    "edge-junos-1.cfg": "                ^\nsyntax error, expecting <command>.\n",
    "fw-1.json": "bash: line 1: nft: command not found\n",
}


def test_device_error_output_in_a_snapshot_is_an_error(tmp_path, run_cli):
    root = project(tmp_path)
    for name, text in REFUSALS.items():
        (root / "snapshots" / name).write_text(text)
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", "--format", "json", cwd=root)
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["devices"] == []  # no device planned as if it were empty
    for host, line in (("edge-ios-1", "% Invalid input detected"), ("edge-eos-1", "% Authorization denied"),
                       ("edge-junos-1", "syntax error"), ("fw-1", "nft: command not found")):
        err = next(e for e in doc["errors"] if e.startswith(f"{host}:"))
        assert "error output, not its configuration" in err and line in err, err
    (root / "snapshots" / "edge-ios-1.cfg").write_text("")
    p = run_cli("plan", CHANGE, "--snapshots", "snapshots", cwd=root)
    assert "edge-ios-1: snapshot" in p.stdout and "no output at all" in p.stdout


class _Conn:
    def __init__(self, answer: str):
        self.answer = answer

    def send_command(self, command, read_timeout=None):
        return self.answer


@pytest.mark.parametrize("host,answer", [("edge-ios-1", "% Authorization failed.\n"),
                                         ("edge-junos-1", "error: permission denied\n"),
                                         ("fw-1", "Error: Operation not permitted\n")])
def test_device_error_output_of_a_live_fetch_is_an_error(tmp_path, host, answer):
    from pipeline.deploy.device import DeviceSession
    from pipeline.errors import DeviceError
    from pipeline.inventory import Inventory
    from pipeline.plan.run import fetch_running

    h = Inventory(project(tmp_path) / "inventory").hosts[host]
    with pytest.raises(DeviceError, match="answered with an error, not a configuration"):
        fetch_running(h, _Conn(answer))
    with pytest.raises(DeviceError, match=answer.strip().split()[0]):
        DeviceSession(h, _Conn(answer)).fetch()
    good = (PLAIN / "snapshots" / ("fw-1.json" if host == "fw-1" else f"{host}.cfg")).read_text()
    assert fetch_running(h, _Conn(good)) == good

