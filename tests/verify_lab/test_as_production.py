"""Traffic verification as in production: a long-running collector service and `netchange agent`s on the
lab's managed hosts, started the way a service manager would (not by the deploy), users' traffic that runs
all the time, and the lab inventory's observation points; no lab-topology helper resolves anything.  Two
backends, same verdicts: netchange's own receiver, and pmacct's sfacctd receiving with netchange reading
its output.  A real Prometheus server (Debian's) scrapes the collector."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.telemetry.deploy_verify import verifier_for
from pipeline.telemetry.lab_agents import TrafficGenerator, TrafficSpec

from .conftest import REPO, agent_processes, restored

pytestmark = [pytest.mark.lab, pytest.mark.slow]

CHANGE = """
id: {id}
title: Block plain web from ext1 to srv1
requested_by: tests
targets: {{hosts: [fw1]}}
firewall:
  filters:
    - name: BLOCK-EXT1-WEB
      attach: [forward]
      terms:
        - name: deny-ext1-http
          sources: [203.0.113.0/24]
          destinations: [198.51.100.130]
          protocols: [tcp]
          destination_ports: [80]
          action: deny
        - {{name: allow-rest, action: accept}}
verify:
  window_seconds: 20
  traffic:
    - {{name: users-http, source: ext1, destination: srv1, protocol: tcp, port: 80, expect: {http}, mode: passive, confidence: 0.999}}
    - {{name: probe-https, source: ext1, destination: srv1, protocol: tcp, port: 443, expect: allowed, mode: active}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(p: subprocess.Popen) -> str:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.stderr.read() if p.stderr else ""


def _line(p: subprocess.Popen, word: str, timeout: float = 30) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = p.stderr.readline()
        if word in line:
            return line
        if p.poll() is not None:
            raise AssertionError(f"{p.args[:6]} exited: {line}{p.stderr.read()}")
    raise AssertionError(f"no {word!r} from {p.args[:6]} within {timeout:.0f}s")


class Service:
    """The collector and the agents, as services: they outlive every deploy of the module."""

    def __init__(self, lab, backend: str, tmp: Path):
        from pipeline.telemetry.bpf_build import build_object

        build_object()
        self.lab = lab
        self.backend = backend
        inv = lab.inventory
        gateway = str(lab.lab.topology.mgmt_gateway().ip)
        self.metrics_port = _free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.procs: list[subprocess.Popen] = []
        inventory = lab.inventory_path
        if backend == "sfacctd":
            # sfacctd does not pass the agents' port names on: the inventory gives the ifIndexes, as an
            # operator would from SNMP
            inventory = _with_ifindexes(lab, tmp / "inventory")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((gateway, 0))
                port = s.getsockname()[1]
            listen = f"{gateway}:{port}"
            extra = ["--from-sfacctd", str(tmp / "sfacctd")]
        else:
            listen, extra = f"{gateway}:0", []
        cmd = [sys.executable, "-m", "pipeline.cli", "collect", "--listen", listen, "--inventory", str(inventory),
               "--api", "127.0.0.1:0", "--metrics-port", str(self.metrics_port), "--resolution", "0.5",
               "--history-seconds", "300", *extra]
        self.collector = self._spawn(cmd, env)
        line = _line(self.collector, "API on")
        self.api = "http://" + line.split("API on ")[1].strip()
        if backend == "sfacctd":
            udp = listen
            self._spawn(["sfacctd", "-f", str(tmp / "sfacctd" / "sfacctd.conf")], env)
            time.sleep(1.0)
            assert self.procs[-1].poll() is None, self.procs[-1].stderr.read()
        else:
            udp = line.split("listening on ")[1].split(";")[0]
        self.agents_from = len(self.procs)
        for name, host in inv.hosts.items():
            itfs = [p.interface for p in host.data.telemetry.points]
            argv = [sys.executable, "-m", "pipeline.cli", "agent", "-c", udp, "--agent-address", host.hostname,
                    "--counter-interval", "5", "--flush-interval", "0.1"]
            for i in itfs:
                argv += ["-i", f"{i}=10"]
            self._spawn(["ip", "netns", "exec", f"{lab.prefix}-{name}", *argv], env)
        for p in self.procs[self.agents_from:]:
            _line(p, "sampling")
        self._wait_interfaces({n: {p.interface for p in h.data.telemetry.points} for n, h in inv.hosts.items()})

    def _spawn(self, cmd: list[str], env: dict) -> subprocess.Popen:
        p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def status(self) -> dict:
        with urllib.request.urlopen(self.api + "/v1/status", timeout=5) as r:
            return json.loads(r.read())

    def _wait_interfaces(self, wanted: dict[str, set[str]], timeout: float = 20) -> None:
        """The agents' port-name counters have told the collector every interface name."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            known = self.status()["interfaces"]
            if all(names <= set(known.get(a, {})) for a, names in wanted.items()):
                return
            time.sleep(0.5)
        raise AssertionError(f"collector learned {self.status()['interfaces']}, wanted {wanted}")

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def close(self) -> None:
        for p in reversed(self.procs):
            _stop(p)


def _with_ifindexes(lab, folder: Path) -> Path:
    """A copy of the lab inventory whose observation points carry the interfaces' ifIndexes."""
    from ruamel.yaml import YAML

    shutil.copytree(lab.inventory_path, folder)
    y = YAML(typ="safe", pure=True)
    hosts = y.load((folder / "hosts.yaml").read_text())
    for name, host in hosts.items():
        links = json.loads(subprocess.run(["ip", "-n", f"{lab.prefix}-{name}", "-j", "link", "show"],
                                          capture_output=True, text=True).stdout)
        index = {ln["ifname"]: ln["ifindex"] for ln in links}
        for p in host["data"]["telemetry"]["points"]:
            p["ifindex"] = index[p["interface"]]
    with open(folder / "hosts.yaml", "w") as f:
        y.dump(hosts, f)
    return folder


@pytest.fixture(scope="module", params=["netchange", "sfacctd"])
def service(lab, request, tmp_path_factory):
    if request.param == "sfacctd" and not shutil.which("sfacctd"):
        pytest.skip("needs pmacct (sfacctd)")
    s = Service(lab, request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield s
    finally:
        s.close()
    assert agent_processes(lab.prefix) == []


@pytest.fixture
def env(lab, tmp_path):
    """Devices put back as they were after each test; the service's agents keep running (that is the point)."""
    with restored(lab, tmp_path) as e:
        yield e


@pytest.fixture
def users(lab):
    """Users' web traffic from ext1 to srv1, all the time (100 connection attempts a second)."""
    gen = TrafficGenerator(lab.lab)
    gen.start(TrafficSpec("ext1", "198.51.100.130", "tcp", 80, "203.0.113.10", 100.0), 110)
    time.sleep(6)  # the collector's history holds the flow's recent past
    try:
        yield gen
    finally:
        gen.stop()


def deploy(env, service, http: str, cid: str) -> tuple[dict, dict]:
    path = env.change(CHANGE.format(id=cid, http=http))
    verifier, hooks, cleanup = verifier_for(env.load(path), env.inventory, collector=service.api)
    session = verifier.__self__
    try:
        rep = env.deployer(path, verifier=verifier, hooks=hooks).run()
    finally:
        cleanup()
    checks = {c["check"].split(":")[0]: c for c in rep["checks"] if c["check"].startswith("traffic ")}
    print(f"\n{cid} ({service.backend}): {rep['verdict']}; {session.timings}")
    for c in checks.values():
        print(f"  {'ok ' if c['ok'] else 'BAD'} {c['check']}\n      {c['detail']}")
    return rep, checks


def test_a_deploy_with_passive_and_active_expectations_passes(env, service, users):
    rep, checks = deploy(env, service, "blocked", "CHG-9201")
    assert rep["verdict"] == "deployed", rep["summary"]
    http, https = checks["traffic users-http"], checks["traffic probe-https"]
    assert http["ok"] and http["detail"].startswith("pass: no sample where"), http
    assert "at fw1 to-srv1 egress (passive" in http["check"]
    assert "at the reference" in http["detail"], "the users' flow kept arriving at fw1 while it was blocked"
    assert https["ok"] and https["detail"].startswith("pass:") and "(active" in https["check"], https
    page = service.metrics()
    assert 'netchange_verify_check_outcome{change="CHG-9201",check="users-http",outcome="pass",point="fw1:to-srv1"} 1.0' in page
    assert 'netchange_point_samples_total{direction="egress",point="fw1:to-srv1"}' in page


def test_a_wrong_change_is_detected_from_live_traffic_and_rolled_back(env, service, users):
    before = env.policy("fw1")
    rep, checks = deploy(env, service, "allowed", "CHG-9202")
    assert rep["verdict"] == "rolled_back", rep["summary"]
    http = checks["traffic users-http"]
    assert not http["ok"] and http["detail"].startswith("fail:"), http
    assert "traffic verification failed: traffic users-http" in rep["summary"]
    assert env.policy("fw1") == before


@pytest.mark.skipif(not shutil.which("prometheus"), reason="needs Debian's prometheus package")
def test_a_real_prometheus_scrapes_the_collector(service, tmp_path):
    if service.backend != "netchange":
        pytest.skip("the scrape is the same with either backend; once is enough")
    port = _free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: netchange-collector\n    static_configs: [{{targets: ['127.0.0.1:{service.metrics_port}']}}]\n")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 40
        found: list = []
        while time.time() < deadline and not found:
            time.sleep(1)
            q = urllib.request.quote('netchange_point_samples_total{point="fw1:to-r1"}')
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?query={q}", timeout=5) as r:
                    found = json.loads(r.read())["data"]["result"]
            except OSError:
                continue
        assert found, "Prometheus has no per-point samples from the collector"
        q = urllib.request.quote("count(netchange_sflow_datagrams_total)")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?query={q}", timeout=5) as r:
            assert json.loads(r.read())["data"]["result"][0]["value"][1] == "4", "one series per agent"
    finally:
        prom.terminate()
        prom.wait(10)
