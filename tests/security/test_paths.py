"""Paths built from what users hand us stay where they belong, and no file read can hang or eat memory.

A host named `../../../x` made `plan --snapshots` read outside the snapshot folder; a FIFO snapshot hung
the plan; a symlink to /dev/zero read until memory ran out. Every file read now goes through
pipeline.safefiles (regular files only, size-capped, no symbolic link out of its folder), and every
name that becomes a file name is checked where the inventory is loaded and again where paths are built.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.inventory import Inventory

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "tests" / "fixtures" / "fleet"

CHANGE = textwrap.dedent("""\
    id: CHG-0100
    title: raise the local preference of r3
    requested_by: noc@example.net
    targets:
      groups: [frr_routers]
    routing:
      prefix_lists:
        - name: PL-R3-IN
          afi: ipv4
          entries:
            - {seq: 10, action: permit, prefix: 203.0.113.0/24}
      route_maps:
        - name: RM-R3-IN
          entries:
            - seq: 10
              action: permit
              match: {prefix_list: PL-R3-IN}
              set: {local_preference: 300}
    """)
FRR_CONFIG = "frr version 8.4\n!\nrouter bgp 65001\n!\n"
EVIL_HOST = textwrap.dedent("""\
    '../../../x':
      hostname: 198.18.0.12
      groups: [frr_routers]
      data:
        bgp: {asn: 65001}
    """)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project: the repository's objects, the fixture fleet as inventory, CHG-0100, a snapshot folder."""
    root = tmp_path / "proj"
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", root / "policies" / "objects")
    shutil.copytree(FLEET, root / "inventory")
    (root / "policies" / "changes" / "CHG-0100.yaml").write_text(CHANGE)
    (root / "snaps").mkdir()
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def plan(capsys, proj: Path, *extra: str) -> tuple[int, str, str]:
    """(exit code, stdout, stdout + stderr): per-device errors are part of the plan document."""
    code, out, err = run(capsys, "plan", str(proj / "policies" / "changes" / "CHG-0100.yaml"), "--snapshots",
                         str(proj / "snaps"), *extra)
    return code, out, out + err


# -- host names ----------------------------------------------------------------------------------

def test_a_host_name_that_climbs_out_of_its_folder_is_refused_at_inventory_load(proj, capsys):
    hosts = proj / "inventory" / "hosts.yaml"
    hosts.write_text(hosts.read_text() + EVIL_HOST)
    line = hosts.read_text().splitlines().index("'../../../x':") + 1
    with pytest.raises(InputError) as e:
        Inventory(proj / "inventory")
    loc = e.value.problems[0][0]
    assert (loc.file, loc.line, loc.field) == (str(hosts), line, "../../../x")
    # and plan never gets to read <snaps>/../../../x.cfg, which exists
    outside = (proj / "snaps" / "../../../x.cfg").resolve()
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("SECRET-OUTSIDE-THE-SNAPSHOTS\n")
    try:
        code, out, err = plan(capsys, proj)
    finally:
        outside.unlink()
    assert code == 2
    assert f"hosts.yaml:{line}:1 [../../../x]: host name '../../../x' is not allowed" in err
    assert "SECRET" not in out + err


def test_names_are_checked_again_where_paths_are_built(tmp_path):
    from pipeline.deploy.journal import Journal
    from pipeline.deploy.lock import DeployLock, break_lock
    from pipeline.inventory import Host, HostData
    from pipeline.plan.run import received_routes_from_snapshot, snapshot_path

    evil = Host(name="../x", hostname=None, data=HostData(driver="frr"))  # built around the inventory check
    for build in (lambda: snapshot_path(tmp_path, evil), lambda: received_routes_from_snapshot(tmp_path, evil),
                  lambda: DeployLock(tmp_path / "locks", ["r1", "../../victim"], "CHG-1").acquire(),
                  lambda: break_lock(tmp_path / "locks", "../../victim"),
                  lambda: Journal.open(tmp_path / "journal", "../../victim")):
        with pytest.raises(InputError, match="cannot name a file"):
            build()
    assert not (tmp_path / "locks" / "r1.lock").exists()  # checked before the first lock was taken


def test_break_lock_cannot_delete_files_outside_the_lock_folder(proj, capsys):
    victim = proj / ".netchange" / "victim.lock"
    victim.parent.mkdir()
    victim.write_text("{}")
    code, _, err = run(capsys, "deploy", str(proj / "policies" / "changes" / "CHG-0100.yaml"), "--break-lock", "../victim")
    assert code == 2 and "--break-lock: device name '../victim' cannot name a file" in err
    assert victim.exists()


def test_a_plan_file_cannot_point_deploy_at_a_change_outside_the_project(proj, capsys, monkeypatch):
    monkeypatch.chdir(proj)
    (proj / "plan.json").write_text('{"format": "netchange-plan/1", "change": "../../../tmp/evil"}')
    code, _, err = run(capsys, "deploy", str(proj / "plan.json"))
    assert code == 2 and "plan.json [change]: the plan's change id '../../../tmp/evil' cannot name a file" in err


# -- files that are not regular files --------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_fifo_snapshot_is_refused_not_waited_on(proj, capsys):
    os.mkfifo(proj / "snaps" / "r1.cfg")
    code, _, err = plan(capsys, proj)
    assert code == 1
    assert "r1.cfg: is a FIFO (named pipe), not a regular file; refusing to read it" in err


@pytest.mark.timeout(60)
def test_fifos_anywhere_a_file_is_read_are_refused(proj, capsys):
    (proj / "snaps" / "r1.cfg").write_text(FRR_CONFIG)
    (proj / "snaps" / "r1.routes").mkdir()
    os.mkfifo(proj / "snaps" / "r1.routes" / "198.51.100.6_ipv4.json")
    code, _, err = plan(capsys, proj)
    assert code == 1 and "198.51.100.6_ipv4.json: is a FIFO" in err
    fifo_change = proj / "policies" / "changes" / "CHG-0101.yaml"
    os.mkfifo(fifo_change)
    code, _, err = run(capsys, "render", str(fifo_change), "--host", "r1")
    assert code == 2 and "CHG-0101.yaml: is a FIFO" in err
    (proj / "inventory" / "groups.yaml").rename(proj / "groups.yaml.real")
    os.mkfifo(proj / "inventory" / "groups.yaml")  # nornir would open it itself
    code, _, err = plan(capsys, proj)
    assert code == 2 and "groups.yaml: is a FIFO" in err


def test_a_snapshot_that_is_a_directory_is_refused(proj, capsys):
    (proj / "snaps" / "r1.cfg").mkdir()
    code, _, err = plan(capsys, proj)
    assert code == 1 and "r1.cfg: is a directory, not a regular file" in err


def _plan_in_a_subprocess(proj: Path, limit: int) -> subprocess.CompletedProcess:
    """The CLI under an address-space limit: reading /dev/zero into memory fails fast instead of
    taking the machine with it (which is what the old code did)."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "pipeline.cli", "plan", "policies/changes/CHG-0100.yaml",
                           "--snapshots", "snaps"], cwd=proj, capture_output=True, text=True, timeout=120,
                          preexec_fn=cap, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(proj):
    (proj / "snaps" / "r1.cfg").symlink_to("/dev/zero")
    p = _plan_in_a_subprocess(proj, 2 * 1024**3)
    assert p.returncode == 1, p.stderr[-2000:]
    assert "r1.cfg: resolves to /dev/zero, outside the folder" in p.stdout
    assert "Traceback" not in p.stderr and "MemoryError" not in p.stderr


def test_a_symlink_out_of_the_snapshot_folder_is_refused(proj, capsys):
    secret = proj / "secret.cfg"
    secret.write_text("SECRET-OUTSIDE-THE-SNAPSHOTS\n")
    (proj / "snaps" / "r1.cfg").symlink_to(secret)
    code, out, err = plan(capsys, proj)
    assert code == 1 and "outside the folder" in err and "SECRET" not in out + err
    (proj / "snaps" / "r1.cfg").unlink()
    (proj / "snaps" / "r1.cfg").write_text(FRR_CONFIG)
    (proj / "snaps" / "r1.routes").symlink_to(proj / "policies")  # a whole folder linked out
    (proj / "policies" / "x_ipv4.json").write_text('{"receivedRoutes": {}}')
    code, _, err = plan(capsys, proj)
    assert code == 1 and "x_ipv4.json: resolves to" in err and "outside the folder" in err


def test_a_symlink_inside_the_snapshot_folder_is_fine(proj, capsys):
    (proj / "snaps" / "r1-2026-01-01.cfg").write_text(FRR_CONFIG)
    (proj / "snaps" / "r1.cfg").symlink_to("r1-2026-01-01.cfg")
    code, out, err = plan(capsys, proj)
    assert code == 0, err
    assert "route-map RM-R3-IN permit 10" in out


# -- size caps -----------------------------------------------------------------------------------

def test_oversized_files_are_refused_before_they_are_read(proj, capsys, monkeypatch):
    from pipeline import safefiles

    monkeypatch.setattr(safefiles, "SNAPSHOT_MAX", 1024 * 1024)
    with open(proj / "snaps" / "r1.cfg", "wb") as f:  # sparse: no disk or memory spent on it
        f.truncate(5 * 1024 * 1024)
    code, _, err = plan(capsys, proj)
    assert code == 1 and "r1.cfg: file is 5242880 bytes, larger than the 1048576 byte limit" in err
    (proj / "snaps" / "r1.cfg").write_text(FRR_CONFIG)
    (proj / "snaps" / "r1.routes").mkdir()
    with open(proj / "snaps" / "r1.routes" / "198.51.100.6_ipv4.json", "wb") as f:
        f.truncate(3 * 1024 * 1024)
    code, _, err = plan(capsys, proj)
    assert code == 1 and "198.51.100.6_ipv4.json: file is 3145728 bytes, larger than" in err


def test_an_oversized_change_request_is_refused(proj, capsys):
    big = proj / "policies" / "changes" / "CHG-0102.yaml"
    with open(big, "wb") as f:
        f.truncate(3 * 1024 * 1024)
    code, _, err = run(capsys, "render", str(big), "--host", "r1")
    assert code == 2 and "larger than the 2097152 byte limit" in err
