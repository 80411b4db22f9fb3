"""Careless or hostile input gets one clear error (file, line, field) and a non-zero exit, never a Python
traceback: malformed received-routes files, outputs into missing folders, a 3,000-deep network-object
chain, malformed plan files, journals and lock files, and — as a last line of defence — any exception
nobody foresaw (one line and a hint; `-v` or NETCHANGE_DEBUG=1 for the traceback)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "tests" / "fixtures" / "fleet"
FRR_CONFIG = "frr version 8.4\n!\nrouter bgp 65001\n!\n"
CHANGE = textwrap.dedent("""\
    id: CHG-0200
    title: raise the local preference of r3
    requested_by: noc@example.net
    targets:
      hosts: [r1]
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


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", root / "policies" / "objects")
    shutil.copytree(FLEET, root / "inventory")
    (root / "policies" / "changes" / "CHG-0200.yaml").write_text(CHANGE)
    (root / "snaps").mkdir()
    (root / "snaps" / "r1.cfg").write_text(FRR_CONFIG)
    return root


@pytest.fixture
def cli(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        return code, out.out, out.err
    return run


def change_file(proj: Path) -> Path:
    return proj / "policies" / "changes" / "CHG-0200.yaml"


# -- outputs ---------------------------------------------------------------------------------------

def test_outputs_into_a_missing_folder_are_written(proj, cli):
    code, _, err = cli("plan", change_file(proj), "--snapshots", proj / "snaps", "-o", proj / "out" / "plan" / "p.json",
                       "--format", "json")
    assert code == 0, err
    assert json.loads((proj / "out" / "plan" / "p.json").read_text())["change"] == "CHG-0200"
    code, _, err = cli("validate", change_file(proj), "--project", proj, "-o", proj / "out" / "validate" / "v.txt")
    assert code == 0, err
    assert "clean" in (proj / "out" / "validate" / "v.txt").read_text()


def test_an_output_blocked_by_a_file_is_one_clear_error(proj, cli):
    blocker = proj / "out"
    blocker.write_text("a file where a folder should be")
    code, _, err = cli("plan", change_file(proj), "--snapshots", proj / "snaps", "-o", blocker / "p.txt")
    assert code == 2 and f"cannot write the plan: {blocker} is a file, not a folder" in err
    code, _, err = cli("validate", change_file(proj), "--project", proj, "-o", blocker / "v.txt")
    assert code == 2 and f"{blocker} is a file, not a folder" in err
    # backup fails on the folder before it asks any device for anything
    code, _, err = cli("backup", "-o", blocker / "snaps", "--inventory", proj / "inventory", "--hosts", "r1")
    assert code == 2 and f"cannot create the snapshot folder: {blocker} is a file, not a folder" in err


def test_a_missing_snapshot_folder_is_named(proj, cli):
    code, _, err = cli("plan", change_file(proj), "--snapshots", proj / "nosuch")
    assert code == 2 and "nosuch: no such snapshot folder" in err


# -- received-routes files ---------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ("{", None),
    ("[]", None),
    ('"x"', None),
    ('{"receivedRoutes": ["203.0.113.0/24"]}', "receivedRoutes"),
    ('{"receivedRoutes": {"203.0.113.0/24": "x"}}', "receivedRoutes.203.0.113.0/24"),
    ('{"receivedRoutes": {"203.0.113.0/24": ["x"]}}', "receivedRoutes.203.0.113.0/24"),
    ('{"receivedRoutes": {"203.0.113.0/24": {"path": 5, "community": {"string": 5}}}}', "receivedRoutes.203.0.113.0/24"),
    ('{"receivedRoutes": {"203.0.113.0/24": {"locPrf": "high"}}}', "receivedRoutes.203.0.113.0/24"),
    ('{"routes": {"203.0.113.0/24": {"aspath": "65003"}}}', "routes.203.0.113.0/24"),
    ('{"receivedRoutes": {"hook": {"path": "65003"}}}', "receivedRoutes.hook"),  # long fuzz run: ValueError in impact
])
def test_a_malformed_routes_file_is_an_error_naming_it(proj, cli, body, field):
    routes = proj / "snaps" / "r1.routes"
    routes.mkdir()
    (routes / "198.51.100.6_ipv4.json").write_text(body)
    code, out, err = cli("plan", change_file(proj), "--snapshots", proj / "snaps")
    assert code == 1
    where = "198.51.100.6_ipv4.json" + (f" [{field}]" if field else ":1")
    assert f"r1: {routes / '198.51.100.6_ipv4.json'}"[:-len("198.51.100.6_ipv4.json")] in out
    assert where in out, out


def test_a_wellformed_routes_file_still_feeds_the_impact_preview(proj, cli):
    routes = proj / "snaps" / "r1.routes"
    routes.mkdir()
    (routes / "198.51.100.6_ipv4.json").write_text(json.dumps({"receivedRoutes": {
        "203.0.113.0/24": {"path": "65003", "nextHop": "198.51.100.6", "locPrf": 100}}}))
    code, out, err = cli("plan", change_file(proj), "--snapshots", proj / "snaps", "--format", "json")
    assert code == 0, out + err
    assert "203.0.113.0/24" in out


# -- network objects -------------------------------------------------------------------------------

def _deep_chain(proj: Path, depth: int = 3000) -> None:
    lines = [f"CHAIN-{i}: [CHAIN-{i + 1}]" for i in range(depth)] + [f"CHAIN-{depth}: [198.51.100.128/25]"]
    nets = proj / "policies" / "objects" / "networks.yaml"
    nets.write_text(nets.read_text() + "\n".join(lines) + "\n")
    (proj / "policies" / "changes" / "CHG-0201.yaml").write_text(textwrap.dedent("""\
        id: CHG-0201
        title: a filter whose destination is a very deep object
        requested_by: noc@example.net
        targets:
          hosts: [fw1]
        firewall:
          filters:
            - name: SERVER-EDGE
              attach: [server-edge]
              terms:
                - name: web
                  destinations: [CHAIN-0]
                  protocols: [tcp]
                  destination_ports: [443]
                  action: accept
        """))


def test_a_3000_deep_network_object_chain_is_a_clear_error(proj, cli):
    _deep_chain(proj)
    nets = proj / "policies" / "objects" / "networks.yaml"
    line = nets.read_text().splitlines().index("CHAIN-0: [CHAIN-1]") + 1
    change = proj / "policies" / "changes" / "CHG-0201.yaml"
    code, _, err = cli("render", change, "--host", "fw1")
    assert code == 2
    assert f"networks.yaml:{line} [CHAIN-0]: network objects nest more than 64 levels deep: CHAIN-0 -> CHAIN-1" in err
    code, out, err = cli("validate", change, "--project", proj)
    assert code == 1 and "nest more than 64 levels deep" in out and "NC900" not in out


@pytest.mark.timeout(60)
def test_objects_that_refer_to_each_other_twice_per_level_expand_once(proj):
    """40 levels of `A_i: [A_i+1, A_i+1]`: 2^40 expansions when each reference is expanded again."""
    from pipeline.model.objects import ObjectStore

    nets = proj / "policies" / "objects" / "networks.yaml"
    nets.write_text("\n".join(f"D{i}: [D{i + 1}, D{i + 1}]" for i in range(40)) + "\nD40: [198.51.100.0/25, 198.51.100.0/25]\n")
    assert [str(n) for n in ObjectStore.load(proj / "policies" / "objects").addresses("D0")] == ["198.51.100.0/25"]


def test_an_object_cycle_names_the_cycle(proj):
    from pipeline.model.objects import ObjectStore

    (proj / "policies" / "objects" / "networks.yaml").write_text("A: [B]\nB: [C]\nC: [A]\n")
    with pytest.raises(InputError, match="network object 'A' refers to itself: A -> B -> C -> A"):
        ObjectStore.load(proj / "policies" / "objects").addresses("A")


# -- deploy's inputs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("{", "p.json:1:2: not valid JSON"),
    ("[]", "p.json:1:1: expected a JSON object at the top level, found an array"),
    ('{"format": "netchange-plan/1", "change": "CHG-0200", "devices": [{"commands": []}]}',
     "p.json [devices]: devices must be a list of objects, each with its host"),
    ('{"format": "netchange-plan/1", "change": "CHG-0200", "devices": "r1"}', "p.json [devices]"),
])
def test_a_malformed_plan_file_is_refused_before_any_device(proj, cli, body, message):
    (proj / "p.json").write_text(body)
    code, _, err = cli("deploy", proj / "p.json", "--change", change_file(proj))
    assert code == 2 and message in err, err
    assert not (proj / ".netchange" / "locks").exists()  # refused before any device was locked


def test_a_journal_cut_short_by_a_crash_names_its_line(tmp_path):
    from pipeline.deploy.journal import Journal

    d = tmp_path / "journal"
    d.mkdir()
    (d / "CHG-0200.jsonl").write_text('{"t": "x", "step": "start"}\n{"t": "x", "step": "orig')
    with pytest.raises(InputError) as e:
        Journal.open(d, "CHG-0200")
    assert e.value.location.line == 2 and "not JSON" in str(e.value)
    (d / "CHG-0200.jsonl").write_text('{"t": "x", "step": "start"}\n{"t": "x", "step": "original", "device": "r1"}\n')
    with pytest.raises(InputError, match="journal record 'original' lacks policy"):
        Journal.open(d, "CHG-0200")
    (d / "CHG-0200.jsonl").write_text('[1, 2]\n')
    with pytest.raises(InputError, match="not an object with a 'step'"):
        Journal.open(d, "CHG-0200")


@pytest.mark.parametrize("body", ["[]", '"x"', '{"pid": "abc", "machine": "here"}', '{"pid": 99999999999999999999}', "\x00\xff"])
def test_a_malformed_lock_file_is_reported_not_crashed_on(tmp_path, body):
    from pipeline.deploy.lock import DeployLock, LockError

    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "r1.lock").write_bytes(body.encode("latin-1"))
    with pytest.raises(LockError, match="r1 is locked by an unreadable lock file"):
        DeployLock(locks, ["r1"], "CHG-0200").acquire()


def test_a_lock_with_an_absurd_pid_on_this_machine_is_reported(tmp_path):
    import socket

    from pipeline.deploy.lock import DeployLock, LockError

    locks = tmp_path / "locks"
    locks.mkdir()
    (locks / "r1.lock").write_text(json.dumps({"pid": 10**20, "machine": socket.gethostname(), "change": "CHG-1"}))
    with pytest.raises(LockError, match="r1 is being deployed by change CHG-1"):  # not os.kill's OverflowError
        DeployLock(locks, ["r1"], "CHG-0200").acquire()


# -- CI artifacts ------------------------------------------------------------------------------------

def test_ci_summary_survives_malformed_artifacts(tmp_path, cli):
    d = tmp_path / "out"
    (d / "plan").mkdir(parents=True)
    (d / "conflicts").mkdir()
    (d / "changed.json").write_text(json.dumps({"files": [{"change": "CHG-0200", "status": "added"}, "junk",
                                                          {"change": "../../etc/passwd"}], "problems": "x"}))
    (d / "gl-code-quality-report.json").write_text('{"not": "a list"}')
    (d / "validate.exit").write_text("zero")
    (d / "plan" / "CHG-0200.json").write_text("[]")
    (d / "conflicts" / "CHG-0200.json").write_text('{"conflicts": [{"change": "CHG-0009"}]}')
    code, out, _ = cli("ci", "summary", "--dir", d)
    assert code == 0
    assert "## netchange: CHG-0200" in out and "passwd" not in out
    assert "**Conflicts (CHG-0200):** report unreadable" in out
    assert "**Plan (CHG-0200):** not available" in out


# -- the last line of defence -----------------------------------------------------------------------

def test_an_unexpected_exception_is_one_line_and_a_hint(proj, capsys, monkeypatch):
    from pipeline.cli import EXIT_INTERNAL
    from pipeline.plan import run

    def boom(*a, **k):
        raise RuntimeError("the planner fell over\nsecond line")

    monkeypatch.delenv("NETCHANGE_DEBUG", raising=False)
    monkeypatch.setattr(run, "plan_snapshots", boom)
    argv = ["plan", str(change_file(proj)), "--snapshots", str(proj / "snaps")]
    assert main(argv) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error unexpected RuntimeError: the planner fell over second line" in err
    assert "netchange -v" in err and "NETCHANGE_DEBUG=1" in err
    assert main(["-v", *argv]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("NETCHANGE_DEBUG", "1")
    assert main(argv) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_the_catch_all_masks_secrets(proj, capsys, monkeypatch):
    from pipeline.cli import EXIT_INTERNAL
    from pipeline.plan import run

    monkeypatch.delenv("NETCHANGE_DEBUG", raising=False)
    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", "glpat-very-secret-token")

    def boom(*a, **k):
        raise RuntimeError("push to https://oauth2:glpat-very-secret-token@gitlab.example.net failed")

    monkeypatch.setattr(run, "plan_snapshots", boom)
    assert main(["plan", str(change_file(proj)), "--snapshots", str(proj / "snaps")]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "glpat-very-secret-token" not in err and "[MASKED]" in err


# -- options that would fail half-way -----------------------------------------------------------------

@pytest.mark.parametrize("option", [["--workers", "0"], ["--batch", "-1"], ["--pause-before-refresh", "nan"],
                                    ["--pause-before-refresh", "-5"], ["--revert-after", "nan"], ["--revert-after", "5"]])
def test_deploy_options_that_would_fail_mid_deploy_are_refused_up_front(proj, cli, option):
    """`--pause-before-refresh -5` made time.sleep raise after every device had committed; `--batch -1`
    made no wave at all. (The inventory points at a closed loopback port: nothing leaves the machine.)"""
    hosts = proj / "inventory" / "hosts.yaml"
    hosts.write_text("\n".join(("  hostname: 127.0.0.1\n  port: 9" if line.startswith("  hostname:") else line)
                               for line in hosts.read_text().splitlines()) + "\n")
    code, _, err = cli("deploy", change_file(proj), *option)
    assert code == 2 and f"error {option[0]}:" in err
    assert not (proj / ".netchange" / "journal").exists()


def test_plan_workers_must_be_positive(proj, cli):
    code, _, err = cli("plan", change_file(proj), "--snapshots", proj / "snaps", "--workers", "0")
    assert code == 2 and "--workers must be at least 1" in err


@pytest.mark.parametrize("entry, where, message", [
    ("r9:\n  data: 5\n", "hosts.yaml:2:3 [r9.data]", "host data must be a mapping"),
    ("r9:\n  port: abc\n  data: {driver: frr}\n", "hosts.yaml:2:3 [r9.port]", "valid integer"),
    ("1:\n  data: {driver: frr}\n", "hosts.yaml:1:1 [1]", "host name 1 is not text (quote it in YAML)"),
])
def test_odd_inventory_entries_are_errors_with_their_line(proj, cli, entry, where, message):
    (proj / "inventory" / "hosts.yaml").write_text(entry)
    code, _, err = cli("render", change_file(proj), "--host", "r9")
    assert code == 2 and where in err and message in err, err
