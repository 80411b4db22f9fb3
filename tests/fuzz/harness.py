"""Run fuzz cases through netchange's real entry points, in-process, inside the watchdog's worker.

A case is plain data (it crosses a pipe and is saved for reproduction): a change request as YAML text
plus the running configs of the fleet (change cases), or one platform's mutated running config plus a
small change (config cases). The worker writes them into a throw-away project and calls
`pipeline.cli.main([...])` exactly as the `netchange` command does: `validate`, `render --host H` for
each platform's host of tests/fixtures/fleet, and `plan --snapshots`. It also collects the commands a
plan and a route check send to a device (through a recording connection) and runs every printed line
through the checker.

Speed: the inventory, the shared objects and the typer command tree are built once per worker instead
of once per command (they are inputs the fuzzer never changes), and a change file is parsed once per
case; `plan` runs its hosts in-process (os.cpu_count() is 1 in the worker: a process pool per case
would cost more than the planning).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from .checker import check_lines, check_refresh, check_show_commands, scope_for
from .findings import finding, traceback_finding

REPO = Path(__file__).resolve().parents[2]
FLEET = REPO / "tests" / "fixtures" / "fleet"
PLATFORM_HOST = {"frr": "r1", "cisco_ios": "ios1", "arista_eos": "eos1", "aruba_aoscx": "cx1", "juniper_junos": "junos1",
                 "cisco_nxos": "nx1", "nftables": "fw1"}
HOST_PLATFORM = {h: p for p, h in PLATFORM_HOST.items()}
NOW = "2027-01-15T12:00:00"
DEEP_CHAIN = 3000  # issue 11: a 3,000-deep network-object chain
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


def find_corpus() -> Path | None:
    """The shared corpus of real device configs: $NETCHANGE_CORPUS, else `shared/corpus` beside a parent folder."""
    env = os.environ.get("NETCHANGE_CORPUS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for parent in REPO.parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    return None


def make_project(root: Path) -> Path:
    """The repository's shared objects and guardrails, the fixture fleet as inventory, plus hostile network
    objects a change may reference: a chain DEEP_CHAIN objects deep and a two-object loop."""
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    shutil.copytree(FLEET, root / "inventory")
    deep = "".join(f"DEEP-{i}: [DEEP-{i + 1}]\n" for i in range(DEEP_CHAIN))
    deep += f"DEEP-{DEEP_CHAIN}: [198.18.5.0/24]\nLOOP-A: [LOOP-B]\nLOOP-B: [LOOP-A]\n"
    with open(root / "policies" / "objects" / "networks.yaml", "a") as f:
        f.write("\n# fuzzing: hostile objects\n" + deep)
    return root


# ------------------------------------------------------------------ the worker's process-wide setup

_STATE: dict = {}


def worker_setup(project: Path) -> None:
    """Called once in each fresh worker (after fork)."""
    import typer.main

    import pipeline.cli as root
    import pipeline.project as project_mod
    from pipeline.inventory import Inventory
    from pipeline.model.objects import ObjectStore

    root._register()
    root._register = lambda: None  # main() would add every sub-command again on each call
    unexpected = getattr(root, "_unexpected", None)
    if unexpected is not None:  # main()'s last line of defence turns any exception into exit 70: keep the exception
        def keep(e, _real=unexpected):
            _STATE["unexpected"] = e
            return _real(e)

        root._unexpected = keep
    command = typer.main.get_command(root.app)
    root.app = lambda *a, **k: command(*a, **k)  # what Typer.__call__ does, minus rebuilding the tree

    inventories: dict[str, Inventory] = {}
    init = Inventory.__init__

    def new(cls, directory):
        key = str(Path(directory).resolve())
        if key not in inventories:
            inv = object.__new__(cls)
            init(inv, directory)
            inventories[key] = inv
        return inventories[key]

    Inventory.__new__ = new
    Inventory.__init__ = lambda self, directory: None
    stores: dict[str, ObjectStore] = {}
    load = ObjectStore.load.__func__

    def load_cached(cls, directory):
        key = str(Path(directory).resolve())
        if key not in stores:
            stores[key] = load(cls, directory)
        return stores[key]

    ObjectStore.load = classmethod(load_cached)
    real_load_change = project_mod.load_change
    memo: dict = {}

    def load_change(path):
        p = Path(path)
        key = (str(p.resolve()), p.read_bytes() if p.is_file() else None)
        if key not in memo:
            memo.clear()
            try:
                memo[key] = ("ok", real_load_change(path))
            except Exception as e:  # noqa: BLE001 - replayed to every caller exactly as raised
                memo[key] = ("raise", e)
        kind, value = memo[key]
        if kind == "raise":
            raise value
        return value

    project_mod.load_change = load_change
    os.cpu_count = lambda: 1
    _STATE.update(project=project, inventory=Inventory(project / "inventory"), counter=itertools.count(1))
    # The first validate/render/plan of a process imports modules and compiles templates and schemas for
    # seconds: that is start-up, not part of any case's budget.
    run_change_case(lambda _step: None, {"change": WARMUP_CHANGE, "snapshots": {}, "routes": {}})


WARMUP_CHANGE = """id: CHG-1
title: warm-up
requested_by: fuzz@example.net
targets: {hosts: [r1, fw1, ios1, eos1, cx1, junos1, nx1]}
routing:
  prefix_lists: [{name: PL-A, entries: [{seq: 10, action: permit, prefix: 198.51.100.0/24}]}]
  route_maps: [{name: RM-IN, entries: [{seq: 10, action: permit, match: {prefix_list: PL-A}}]}]
  bindings: [{neighbor: 198.51.100.2, afi: ipv4, direction: in, route_map: RM-IN}]
firewall:
  filters: [{name: F1, attach: [server-edge], terms: [{name: web, action: accept, protocols: [tcp], destination_ports: [443]}]}]
"""


def run_cli(argv: list[str]) -> tuple[int | None, str, str, BaseException | None]:
    """(exit code, stdout, stderr, escaped exception) of `netchange argv...` run in this process."""
    from pipeline.cli import main

    out, err = io.StringIO(), io.StringIO()
    exc = None
    rc = None
    _STATE.pop("unexpected", None)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except BaseException as e:  # noqa: BLE001 - anything escaping main() is a traceback for the user
            if isinstance(e, KeyboardInterrupt):
                raise
            exc = e
    if exc is None and _STATE.get("unexpected") is not None:
        exc = _STATE.pop("unexpected")  # caught by main() as "unexpected" (exit 70): a bug all the same
    return rc, out.getvalue(), err.getvalue(), exc


class RecordingConnection:
    """Stands in for a netmiko session: records every command, answers `{}`."""

    def __init__(self):
        self.commands: list[str] = []

    def send_command(self, command: str, **_kw) -> str:
        self.commands.append(command)
        return "{}"


# ------------------------------------------------------------------ writing a case


def change_file_name(doc_text: str) -> str:
    m = re.search(r"^id: *['\"]?([^'\"\n]+)", doc_text, re.M)
    ident = m.group(1).strip() if m else ""
    return ident if _SAFE_FILE.match(ident) else "CHG-1"


def write_case(directory: Path, case: dict) -> tuple[Path, Path]:
    """Files of a case: <dir>/<ID>.yaml and <dir>/snap/<host>.cfg|.json (+ <host>.routes/)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{change_file_name(case['change'])}.yaml"
    path.write_text(case["change"], encoding="utf-8", errors="surrogateescape")
    snap = directory / "snap"
    snap.mkdir(exist_ok=True)
    for host, text in case.get("snapshots", {}).items():
        ext = "json" if HOST_PLATFORM.get(host) == "nftables" else "cfg"
        (snap / f"{host}.{ext}").write_text(text, encoding="utf-8", errors="surrogateescape")
    for host, files in case.get("routes", {}).items():
        d = snap / f"{host}.routes"
        d.mkdir(exist_ok=True)
        for stem, text in files.items():
            (d / f"{stem}.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    return path, snap


EXIT_INTERNAL = 70  # pipeline.cli: "anything netchange did not foresee"


def _cli_findings(step: str, rc, exc) -> list[dict]:
    """An exception escaping main() or caught by its last line of defence (exit 70) is a traceback; any other
    exit code is netchange's own answer (0/1/2, plan's 4 = refused, ...)."""
    if exc is not None:
        return [traceback_finding(step, exc)]
    if not isinstance(rc, int) or rc == EXIT_INTERNAL:
        return [finding("traceback", step, f"exit code {rc} (unexpected error)")]
    return []


def _stray(step: str, problems: list[tuple[str, str]], where: str) -> list[dict]:
    out, seen = [], set()
    for reason, _line in problems:
        if reason in seen:
            continue
        seen.add(reason)
        lines = [repr(ln) for r, ln in problems if r == reason][:5]
        kind = "in-use" if reason.startswith("deletes") else "stray"
        out.append(finding(kind, step, reason, f"{where}:\n" + "\n".join(lines)))
    return out


# ------------------------------------------------------------------ change cases


def run_change_case(step, case: dict) -> list[dict]:
    """validate, render on every platform, plan against the case's snapshots, device commands."""
    project: Path = _STATE["project"]
    directory = project / "policies" / "changes" / f"c{next(_STATE['counter'])}"
    try:
        path, snap = write_case(directory, case)
        return _change_steps(step, case, path, snap)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _load(path: Path):
    from pipeline.errors import NetchangeError
    from pipeline.project import load_change

    try:
        return load_change(path)[0], None
    except NetchangeError:
        return None, None
    except Exception as e:  # noqa: BLE001
        return None, e


def _change_steps(step, case: dict, path: Path, snap: Path) -> list[dict]:
    project: Path = _STATE["project"]
    inventory = _STATE["inventory"]
    inv_dir = str(project / "inventory")
    findings: list[dict] = []

    step("validate")
    rc, out, _, exc = run_cli(["validate", "--project", str(project), "--inventory", inv_dir, "--now", NOW, "-f", "json", str(path)])
    findings += _cli_findings("validate", rc, exc)
    if exc is None and rc in (0, 1):
        try:
            rules = {f["rule"]: f["message"] for f in json.loads(out)["files"][0]["findings"]}
        except (ValueError, KeyError, IndexError, TypeError):
            findings.append(finding("exit", "validate", "--format json output is not the report", out[:500]))
            rules = {}
        if "NC900" in rules:
            findings.append(finding("traceback", "validate", "internal error (NC900): " + re.sub(r"\d+", "N", rules["NC900"].split(":")[0]),
                                    rules["NC900"]))

    step("load")
    change, load_exc = _load(path)
    if load_exc is not None:
        findings.append(traceback_finding("load", load_exc))

    for platform, host_name in PLATFORM_HOST.items():
        s = f"render[{platform}]"
        step(s)
        rc, out, _, exc = run_cli(["render", str(path), "--host", host_name, "--inventory", inv_dir])
        findings += _cli_findings(s, rc, exc)
        if exc is None and out.strip():
            if change is None:
                findings.append(finding("stray", s, "output for a change that does not load", out[:500]))
            else:
                scope = scope_for(change, inventory.hosts[host_name])
                findings += _stray(s, check_lines(platform, out.splitlines(), scope), host_name)

    if change is None:
        return findings
    fmt = case.get("plan_format", "json")
    step("plan")
    rc, out, _, exc = run_cli(["plan", str(path), "--snapshots", str(snap), "--inventory", inv_dir, "--format", fmt])
    findings += _cli_findings("plan", rc, exc)
    if exc is None and fmt == "json" and rc != 2 and out.strip():
        findings += _check_plan_json(step, change, out, case.get("snapshots", {}), rc)

    step("device-commands")
    findings += _device_commands(change)
    return findings


def _check_plan_json(step, change, out: str, snapshots: dict, rc: int | None = 0) -> list[dict]:
    from pipeline.drivers import get_driver

    inventory = _STATE["inventory"]
    findings: list[dict] = []
    try:
        doc = json.loads(out)
        devices = doc["devices"]
    except (ValueError, KeyError, TypeError):
        if rc in (0, 1):
            return [finding("exit", "plan", "--format json output is not a plan document", out[:500])]
        return []
    for d in devices:
        host = inventory.hosts[d["host"]]
        platform = host.platform.value
        text = snapshots.get(host.name, "")
        s = f"plan-check[{platform}]"
        step(s)
        running = None
        try:
            running = get_driver(platform).parse(text)
        except Exception as e:  # noqa: BLE001 - the full parse of a running config must not raise either
            findings.append(traceback_finding(f"parse[{platform}]", e))
        scope = scope_for(change, host, running, text, d.get("strategy"))
        for key in ("commands", "switch_commands", "gc_commands", "rollback_commands"):
            findings += _stray(f"plan[{platform}]", check_lines(platform, list(d.get(key) or []), scope), f"{host.name} {key}")
        refresh = [c for r in d.get("refresh", []) for c in r.get("commands", [])]
        findings += _stray(f"plan[{platform}]", check_refresh(refresh, scope), f"{host.name} refresh")
    return findings


def _device_commands(change) -> list[dict]:
    """What plan (received routes) and the route post-check send to each BGP host's device, through its
    platform's observer and a recording session."""
    from pipeline.deploy.checks import route_expectations
    from pipeline.drivers import get_driver
    from pipeline.errors import NetchangeError
    from pipeline.plan.run import fetch_received_routes

    inventory = _STATE["inventory"]
    findings: list[dict] = []
    for platform, name in PLATFORM_HOST.items():
        host = inventory.hosts[name]
        conn = RecordingConnection()
        obs = get_driver(host.platform).observer(conn, host.name)
        if obs is None or host.data.bgp is None:
            continue
        for what, call in (("received-routes", lambda host=host, conn=conn: fetch_received_routes(host, change, conn)),
                           ("route-check", lambda obs=obs, host=host: route_expectations(obs, change, host.name))):
            try:
                call()
            except NetchangeError:
                pass
            except Exception as e:  # noqa: BLE001
                findings.append(traceback_finding(f"device-commands[{platform}:{what}]", e))
        findings += _stray(f"device-commands[{platform}]", check_show_commands(conn.commands), name)
    return findings


# ------------------------------------------------------------------ config cases


def run_config_case(step, case: dict) -> list[dict]:
    """A platform's mutated running config: full parse, then a plan of a small change against it."""
    import importlib

    platform = case["platform"]
    findings: list[dict] = []
    step(f"parse[{platform}]")
    try:
        module = importlib.import_module(f"pipeline.parsers.{platform}")
        module.parse(case["text"])
    except Exception as e:  # noqa: BLE001 - parsers take any text (NetchangeError included: parse is not an input check)
        from pipeline.errors import NetchangeError

        if not isinstance(e, NetchangeError):
            findings.append(traceback_finding(f"parse[{platform}]", e))
    if platform not in PLATFORM_HOST or not case.get("change"):
        return findings
    host = PLATFORM_HOST[platform]
    project: Path = _STATE["project"]
    directory = project / "policies" / "changes" / f"c{next(_STATE['counter'])}"
    try:
        path, snap = write_case(directory, {"change": case["change"], "snapshots": {host: case["text"]},
                                            "routes": case.get("routes", {})})
        change, load_exc = _load(path)
        if load_exc is not None:
            findings.append(traceback_finding("load", load_exc))
        if change is None:
            return findings
        step(f"plan[{platform}]")
        rc, out, _, exc = run_cli(["plan", str(path), "--snapshots", str(snap), "--inventory", str(project / "inventory"),
                                   "--format", "json"])
        findings += _cli_findings(f"plan[{platform}]", rc, exc)
        if exc is None and rc != 2 and out.strip():
            findings += [f for f in _check_plan_json(step, change, out, {host: case["text"]}, rc)
                         if f["step"] != f"parse[{platform}]"]  # already parsed above
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return findings


def new_project() -> Path:
    return make_project(Path(tempfile.mkdtemp(prefix="ncfuzz-")) / "project")
