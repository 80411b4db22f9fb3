"""The collector against a real third-party sFlow agent: pmacct's pmacctd with the sfprobe plugin."""

from __future__ import annotations

import math
import shutil
import socket
import time

import pytest

from pipeline.telemetry.collector import Collector

from .conftest import sh

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SENT = 6000
RATE = 10


@pytest.mark.skipif(not shutil.which("pmacctd"), reason="needs pmacct (pmacctd)")
def test_collector_decodes_pmacct_sfprobe_and_counts_match(netlab, tmp_path):
    ns = netlab.ns("p")
    # root namespace end of the veth, so the in-process collector can listen on it
    sh("ip", "link", "add", "nctP0", "type", "veth", "peer", "name", "nctP1", "netns", ns)
    try:
        sh("ip", "addr", "add", "198.18.20.1/24", "dev", "nctP0")
        sh("ip", "link", "set", "nctP0", "up")
        sh("ip", "addr", "add", "198.18.20.2/24", "dev", "nctP1", ns=ns)
        sh("ip", "link", "set", "nctP1", "up", ns=ns)
        with Collector(bind=("198.18.20.1", 0), agents={"probe": "198.18.20.2"}) as c:
            conf = tmp_path / "pmacctd.conf"
            conf.write_text(
                "daemonize: false\n"
                "pcap_interface: nctP1\n"
                "plugins: sfprobe[s]\n"
                f"sfprobe_receiver[s]: 198.18.20.1:{c.address[1]}\n"
                "sfprobe_agentip[s]: 198.18.20.2\n"
                f"sampling_rate: {RATE}\n"
                f"pidfile: {tmp_path}/pmacctd.pid\n")
            probe = netlab.spawn(["pmacctd", "-f", str(conf)], ns=ns)
            time.sleep(2.0)  # pcap open + plugin start
            assert probe.poll() is None, probe.stderr.read()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(SENT):
                    s.sendto(b"x" * 100, ("198.18.20.2", 5002))
                    if i % 50 == 0:
                        time.sleep(0.005)  # keep libpcap from dropping: we are checking the decoder, not pcap
            deadline = time.time() + 10
            flow = []
            while time.time() < deadline:
                flow = c.flows(agent="probe", where=lambda f: f.dst_port == 5002 and f.protocol == 17)
                if flow and flow[0].samples * RATE > SENT * 0.7:
                    time.sleep(1.0)
                    break
                time.sleep(0.2)
            flow = c.flows(agent="probe", where=lambda f: f.dst_port == 5002 and f.protocol == 17)
            assert c.malformed == 0 and c.rejected == 0
            assert flow, f"no flow decoded; snapshot: {c.snapshot()}"
            f = flow[0]
            assert (f.src, f.dst, f.direction in ("ingress", None)) == ("198.18.20.1", "198.18.20.2", True)
            # each packet sampled with probability 1/RATE: binomial spread of the estimate
            sd = math.sqrt(SENT * (1 / RATE) * (1 - 1 / RATE)) * RATE
            assert abs(f.packets - SENT) < 5 * sd, (f.packets, f.samples, sd)
            assert f.bytes / f.packets >= 142  # 100 B payload + UDP/IP/Ethernet headers
    finally:
        sh("ip", "link", "del", "nctP0", check=False)
