"""The standing collector without a lab: observation points from the inventory, the local API, passive
verdicts from live (synthetic) traffic, bounded per-check and per-point metrics."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from prometheus_client import generate_latest

from pipeline.inventory import Inventory
from pipeline.model.change import ChangeRequest
from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.api import ApiServer, RemoteCollector
from pipeline.telemetry.collector import Collector
from pipeline.telemetry.errors import TelemetryError
from pipeline.telemetry.points import Points, resolve
from pipeline.telemetry.standing import Probes, StandingVerification
from pipeline.telemetry.verify import Point

from .test_codec import MAC

HOSTS = """
fw1:
  hostname: 127.0.0.1
  data:
    driver: nftables
    telemetry:
      points:
        - {interface: to-srv1, ifindex: 5, sees: srv1, prefixes: [198.51.100.128/25],
           probe: {addresses: [198.51.100.130], netns: ncx-srv1}}
        - {interface: to-r1, ifindex: 4, sees: r1, prefixes: [0.0.0.0/0]}
r2:
  hostname: 127.0.0.2
  data:
    driver: frr
    telemetry:
      points:
        - {interface: to-ext1, ifindex: 3, sees: ext1, prefixes: [203.0.113.0/24],
           probe: {addresses: [203.0.113.10], ssh: probe@203.0.113.10}}
        - {interface: to-r1, ifindex: 2, sees: r1, prefixes: [0.0.0.0/0]}
"""


@pytest.fixture
def inventory(tmp_path):
    (tmp_path / "hosts.yaml").write_text(HOSTS)
    return Inventory(tmp_path)


def change(*traffic: dict) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-7", "title": "t", "requested_by": "tests", "targets": {"hosts": ["fw1"]},
                                         "verify": {"window_seconds": 8, "traffic": list(traffic)}})


WEB = {"name": "web", "source": "ext1", "destination": "srv1", "protocol": "tcp", "port": 80, "expect": "blocked"}


def test_expectations_resolve_to_the_inventory_points(inventory):
    [r] = resolve(change(WEB), inventory)
    e = r.expectation
    assert (e.src, e.dst, e.dst_port) == ("203.0.113.10/32", "198.51.100.130/32", 80)
    assert e.point == Point("fw1", "to-srv1", "egress") and e.reference == Point("fw1", "to-r1", "ingress")
    assert (r.mode, r.probe) == ("passive", None)
    [a] = resolve(change({**WEB, "expect": "allowed", "mode": "active", "port": 443}), inventory)
    assert (a.probe.host, a.probe.src, a.probe.dst, a.probe.port) == ("ext1", "203.0.113.10", "198.51.100.130", 443)
    assert Probes.command(a.probe, 50, 5)[:4] == ["ssh", "-o", "BatchMode=yes", "-o"]
    [v] = resolve(change({"name": "v", "source": "srv1", "destination": "203.0.113.0/24", "expect": "via",
                          "via": {"host": "r1"}, "at": {"host": "fw1"}}), inventory)
    assert v.expectation.point == Point("fw1", None, None) and v.expectation.via_interface == "to-r1"


@pytest.mark.parametrize("entry, message", [
    ({"source": "ext9", "destination": "srv1"}, "neither an address nor a host"),
    ({"source": "ext1", "destination": "192.0.2.5"}, "no observation point sees destination"),
    ({"source": "ext1", "destination": "srv1", "mode": "active", "protocol": "gre"}, "unknown protocol 'gre'"),
    ({"source": "198.18.0.1", "destination": "srv1", "mode": "active"}, "no probe host"),
    ({"source": "srv1", "destination": "ext1", "expect": "via", "via": {"next_hop": "198.18.1.1"}}, "needs `at:`"),
])
def test_expectations_that_cannot_be_resolved_are_refused_before_deploying(inventory, entry, message):
    with pytest.raises(TelemetryError, match=message):
        resolve(change({"name": "x", "expect": "allowed", **entry}), inventory)


def syn(dport: int) -> bytes:
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 203, 0, 113, 10, 198, 51, 100, 130])
    return MAC + b"\x08\x00" + ip + dport.to_bytes(2, "big") * 0 + (40000).to_bytes(2, "big") + dport.to_bytes(2, "big") + bytes(16)


class LiveTraffic:
    """fw1's agent: the web flow at 1-in-10 arrives on to-r1 and (until blocked) leaves on to-srv1."""

    def __init__(self, port: int):
        self.port, self.blocked, self.stop = port, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        seq = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not self.stop.is_set():
                seq += 1
                samples = [enc.flow_sample(seq, 4, 10, seq * 20, 0, 4, 0, [enc.raw_header_record(syn(80), 58)])]
                if not self.blocked.is_set():
                    samples.append(enc.flow_sample(seq, 5, 10, seq * 20, 0, 0, 5, [enc.raw_header_record(syn(80), 58)]))
                s.sendto(enc.datagram("127.0.0.1", 0, seq, 1000, samples), ("127.0.0.1", self.port))
                time.sleep(0.02)


def test_a_passive_check_is_judged_from_live_traffic_over_the_api(inventory):
    pts = Points(inventory)
    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "127.0.0.1"}, points=pts.names(), interfaces=pts.interfaces(),
                  resolution=0.25).start()
    api = ApiServer(("127.0.0.1", 0), c).start()
    live = LiveTraffic(c.address[1])
    live.thread.start()
    try:
        remote = RemoteCollector(f"http://127.0.0.1:{api.server_address[1]}")
        time.sleep(3.2)  # the collector's history holds the flow's recent past
        sv = StandingVerification(change(WEB), inventory, remote, baseline_seconds=3.0)
        t0 = time.monotonic()
        sv.before_change([])
        assert time.monotonic() - t0 < 1.0, "the baseline comes from the collector's history, without waiting"
        assert sv.baseline.tallies[0].samples > 50
        live.blocked.set()  # the change takes effect
        [result] = sv.verify(change(WEB), [])
        assert result.ok, result.detail
        assert result.detail.startswith("pass: no sample where") and "before the change: " in result.detail
        assert "at the reference" in result.detail
        live.blocked.clear()  # a wrong change: the flow still passes
        [wrong] = sv.verify(change(WEB), [])
        assert not wrong.ok and wrong.detail.startswith("fail:"), wrong.detail
        page = generate_latest(c.metrics.registry).decode()
        assert 'netchange_verify_check_outcome{change="CHG-7",check="web",outcome="fail",point="fw1:to-srv1"} 1.0' in page
        assert 'outcome="pass"' not in page, "a check shows its latest verdict only"
        assert 'netchange_point_samples_total{direction="egress",point="fw1:to-srv1"}' in page
        # bad questions get a clear 400
        req = urllib.request.Request(remote.url + "/v1/query", data=json.dumps({"selectors": [{"nope": 1}], "since": 0}).encode())
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        assert e.value.code == 400 and "selector" in json.loads(e.value.read())["error"]
    finally:
        live.stop.set()
        api.stop()
        c.stop()


def test_no_traffic_is_inconclusive_and_a_dead_collector_is_a_clear_error(inventory):
    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "127.0.0.1"}, resolution=0.25).start()
    api = ApiServer(("127.0.0.1", 0), c).start()
    try:
        with pytest.raises(TelemetryError, match="does not know fw1's interface to-srv1"):
            StandingVerification(change(WEB), inventory, RemoteCollector(f"http://127.0.0.1:{api.server_address[1]}"))
        c.learn_interfaces("fw1", {"to-srv1": 5, "to-r1": 4})  # as from the agent's port-name counters
        sv = StandingVerification(change(WEB), inventory, RemoteCollector(f"http://127.0.0.1:{api.server_address[1]}"),
                                  baseline_seconds=1.0, max_seconds=2.0)
        sv.before_change([])
        [r] = sv.verify(change(WEB), [])
        assert not r.ok and r.detail.startswith("inconclusive (counted as failed): no traffic to judge"), r.detail
    finally:
        api.stop()
        c.stop()
    with pytest.raises(TelemetryError, match="does not answer"):
        StandingVerification(change(WEB), inventory, RemoteCollector("http://127.0.0.1:9", timeout=2))


def test_check_metrics_keep_the_latest_checks_only():
    c = Collector(agents={"fw1": "127.0.0.1"})
    for i in range(200):
        c.report({"change": f"CHG-{i}", "checks": [{"name": "web", "point": "fw1:to-srv1", "outcome": "pass", "samples": 3}]})
    page = generate_latest(c.metrics.registry).decode()
    assert page.count("netchange_verify_check_outcome{") == 64
    with pytest.raises(TelemetryError):
        c.report({"change": "x", "checks": [{"name": "a", "outcome": "maybe"}]})


def test_the_collector_learns_interface_names_from_port_name_counters():
    c = Collector(agents={"fw1": "127.0.0.1"}, points={"fw1": {"to-srv1": "fw1:to-srv1"}})
    counters = enc.counter_sample(1, 5, [enc.generic_counters_record(enc.IfCounters(5)), enc.port_name_record("to-srv1")])
    assert c.ingest(enc.datagram("127.0.0.1", 0, 1, 10, [counters]), "127.0.0.1") is not None
    assert c.ifindex("fw1", "to-srv1") == 5
    c.ingest(enc.datagram("127.0.0.1", 0, 2, 10, [enc.flow_sample(1, 5, 10, 1, 0, 0, 5, [enc.raw_header_record(syn(80), 58)])]),
             "127.0.0.1")
    assert c.metrics.value("netchange_point_samples_total", point="fw1:to-srv1", direction="egress") == 1


def test_the_grafana_dashboard_plots_metrics_the_collector_exports():
    import re
    from pathlib import Path

    dash = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-netchange-collector.json").read_text())
    assert all(p.get("description") for p in dash["panels"]), "every panel is described"
    wanted = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"netchange_[a-z_]+", t["expr"])}
    c = Collector(agents={"fw1": "127.0.0.1"}, points={"fw1": {"e5": "fw1:e5"}}, interfaces={"fw1": {"e5": 5}})
    c.ingest(enc.datagram("127.0.0.1", 0, 1, 10, [enc.flow_sample(1, 5, 10, 1, 0, 0, 5, [enc.raw_header_record(syn(80), 58)])]),
             "127.0.0.1")
    c.report({"change": "CHG-1", "checks": [{"name": "web", "point": "fw1:e5", "outcome": "pass", "samples": 1}]})
    page = generate_latest(c.metrics.registry).decode()
    exported = set(re.findall(r"^(netchange_[a-z_]+)", page, re.M))
    assert wanted <= exported, f"the dashboard plots metrics nobody exports: {sorted(wanted - exported)}"


def test_sfacctd_output_goes_into_the_same_history(tmp_path):
    from pipeline.telemetry.sfacctd import SfacctdReader, allow_list, sfacctd_config

    c = Collector(agents={"fw1": "127.0.0.1"}, points={"fw1": {"to-srv1": "fw1:to-srv1"}},
                  interfaces={"fw1": {"to-srv1": 5}})
    rec = {"event_type": "purge", "peer_ip_src": "127.0.0.1", "iface_in": 0, "iface_out": 5, "ip_src": "203.0.113.10",
           "ip_dst": "198.51.100.130", "port_src": 40000, "port_dst": 80, "ip_proto": "tcp", "sampling_rate": 10,
           "timestamp_arrival": "2026-12-01 10:00:00.000000", "packets": 3, "bytes": 234}
    spoof = {**rec, "peer_ip_src": "127.0.0.9"}
    (tmp_path / "sfacctd-1796119201.json").write_text(json.dumps(rec) + "\n" + json.dumps(spoof) + "\nnot json\n")
    old = time.time() - 5
    import os

    os.utime(tmp_path / "sfacctd-1796119201.json", (old, old))
    reader = SfacctdReader(c, tmp_path)
    assert reader.step() == 1 and not list(tmp_path.glob("sfacctd-*.json")), "read and removed"
    assert c.complete() == 1796119201.0 and c.rejected == 1
    [f] = c.flows()
    assert (f.agent, f.ifindex, f.direction, f.src, f.dst, f.protocol, f.dst_port) == \
        ("fw1", 5, "egress", "203.0.113.10", "198.51.100.130", 6, 80)
    assert (f.samples, f.packets, f.bytes) == (3, 30, 2340)
    assert c.metrics.value("netchange_point_samples_total", point="fw1:to-srv1", direction="egress") == 3
    conf = sfacctd_config("198.19.0.1", 6343, tmp_path, tmp_path / "allow.txt")
    assert "sfacctd_allow_file:" in conf and "timestamp_arrival" in conf and "plugin_buffer_size" not in conf
    assert allow_list(c.known_agents()) == "127.0.0.1\n"


def test_several_deploys_may_ask_at_once(inventory):
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.telemetry.history import Selector

    c = Collector(agents={"fw1": "127.0.0.1"}, interfaces={"fw1": {"to-srv1": 5, "to-r1": 4}}, resolution=0.25)
    for i in range(200):
        c.ingest(enc.datagram("127.0.0.1", 0, i + 1, 10, [enc.flow_sample(i, 4 if i % 2 else 5, 10, i, 0, 4 if i % 2 else 0,
                                                                           0 if i % 2 else 5, [enc.raw_header_record(syn(80 + i % 4), 58)])]),
                 "127.0.0.1", now=1000.0 + i * 0.05)
    api = ApiServer(("127.0.0.1", 0), c).start()
    try:
        remote = RemoteCollector(f"http://127.0.0.1:{api.server_address[1]}")
        sels = [Selector(agent="fw1", src="203.0.113.0/24", dst="198.51.100.130/32", ifindex=itf, dst_port=port)
                for itf in ("to-srv1", "to-r1") for port in (80, 81, 82, 83)]
        expected = [c.query([s], 1000.0, 1011.0)[0][0].samples for s in sels]
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda s: remote.query([s], 1000.0, 1011.0)[0][0].samples, sels * 4))
        assert got == expected * 4 and sum(expected) == 200
    finally:
        api.stop()
