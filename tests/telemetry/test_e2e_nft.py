"""End to end: client -> firewall -> server namespaces, the agent on the firewall, an nftables rule that
blocks one flow; the verifier must call it allowed before the rule and blocked after, from real samples."""

from __future__ import annotations

import json
import shutil
import sys
import time

import pytest

from pipeline.telemetry.collector import Collector
from pipeline.telemetry.verify import Outcome, Point, TrafficExpectation, Verifier

from .conftest import NETCHANGE, bpf_programs_loaded, sh, stop

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.sendto(b"q" * 64, ("203.0.113.2", 5003))
    s.sendto(b"k" * 64, ("203.0.113.2", 5004))
    time.sleep(0.002)
"""


def _ifindex(ns: str, name: str) -> int:
    return json.loads(sh("ip", "-j", "link", "show", name, ns=ns).stdout)[0]["ifindex"]


@pytest.mark.skipif(not shutil.which("nft"), reason="needs nftables")
def test_nftables_block_is_verified_from_samples(netlab, bpf_object):
    cli, fw, srv = netlab.ns("c"), netlab.ns("f"), netlab.ns("s")
    netlab.veth("nctC0", cli, "198.51.100.2/24", "nctF0", fw, "198.51.100.1/24")
    netlab.veth("nctF1", fw, "203.0.113.1/24", "nctS0", srv, "203.0.113.2/24")
    sh("ip", "route", "add", "default", "via", "198.51.100.1", ns=cli)
    sh("ip", "route", "add", "default", "via", "203.0.113.1", ns=srv)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=fw)
    # management link from the root namespace, where the collector runs in-process
    sh("ip", "link", "add", "nctM0", "type", "veth", "peer", "name", "nctM1", "netns", fw)
    try:
        sh("ip", "addr", "add", "198.18.30.1/24", "dev", "nctM0")
        sh("ip", "link", "set", "nctM0", "up")
        sh("ip", "addr", "add", "198.18.30.2/24", "dev", "nctM1", ns=fw)
        sh("ip", "link", "set", "nctM1", "up", ns=fw)
        interfaces = {"nctF0": _ifindex(fw, "nctF0"), "nctF1": _ifindex(fw, "nctF1")}
        with Collector(bind=("198.18.30.1", 0), agents={"fw": "198.18.30.2"}, interfaces={"fw": interfaces}) as c:
            agent = netlab.spawn(NETCHANGE + ["agent", "-i", "nctF0=10", "-i", "nctF1=10", "-c", f"198.18.30.1:{c.address[1]}",
                                              "--flush-interval", "0.1", "--counter-interval", "2"], ns=fw)
            line = agent.stderr.readline()
            assert "sampling" in line, line + agent.stderr.read()
            netlab.spawn([sys.executable, "-c", SENDER, "60"], ns=cli)

            flow = dict(src="198.51.100.0/24", dst="203.0.113.2/32", protocol="udp", dst_port=5003, confidence=0.999)
            out_of_fw = Point("fw", "nctF1", "egress")
            into_fw = Point("fw", "nctF0", "ingress")
            allowed = TrafficExpectation(expect="allowed", point=out_of_fw, **flow)
            blocked = TrafficExpectation(expect="blocked", point=out_of_fw, **flow)
            arriving = TrafficExpectation(expect="allowed", point=into_fw, **flow)
            other = TrafficExpectation(expect="allowed", point=out_of_fw, **{**flow, "dst_port": 5004})
            v = Verifier(c)
            time.sleep(0.5)
            base = v.baseline([allowed, blocked, arriving, other], seconds=3)
            assert base.tallies[0].samples > 20, c.snapshot()

            [before] = v.verify([allowed], base, timeout=5)
            assert before.outcome is Outcome.PASS, before.reason
            [not_yet] = v.verify([blocked], base, timeout=1.5)
            assert not_yet.outcome is Outcome.FAIL, not_yet.reason

            sh("nft", "add table inet nct; add chain inet nct filt { type filter hook forward priority 0; }; "
                      "add rule inet nct filt udp dport 5003 drop", ns=fw)
            t0 = time.time()
            after = v.verify([blocked, arriving, other, allowed], base, timeout=15)
            took = time.time() - t0
            assert [x.outcome for x in after] == [Outcome.PASS, Outcome.PASS, Outcome.PASS, Outcome.FAIL], [x.reason for x in after]
            assert after[0].p_unseen <= 0.001 and after[0].samples == 0
            assert took < 8, "verification should stop once confident"

            _, err = stop(agent)
            assert agent.returncode == 0, err
            assert "0 drops" in err
        assert bpf_programs_loaded() == []
    finally:
        sh("ip", "link", "del", "nctM0", check=False)
