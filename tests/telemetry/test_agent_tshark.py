"""`netchange agent` on a veth in a namespace, real pings and UDP; tshark must find valid sFlow v5."""

from __future__ import annotations

import shutil
import time

import pytest

from .conftest import NETCHANGE, bpf_programs_loaded, sh, stop

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def _udp_burst(ns: str, dst: str, port: int, count: int) -> None:
    code = (f"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for i in range({count}): s.sendto(b'x'*200, ('{dst}', {port}))")
    sh("python3", "-c", code, ns=ns)


@pytest.mark.skipif(not shutil.which("tshark") or not shutil.which("tcpdump"), reason="needs tshark and tcpdump")
def test_agent_datagrams_are_valid_sflow_for_tshark(netlab, bpf_object, tmp_path):
    a, b = netlab.ns("a"), netlab.ns("b")
    netlab.veth("nctA0", a, "198.18.10.1/24", "nctB0", b, "198.18.10.2/24")
    pcap = tmp_path / "sflow.pcap"
    cap = netlab.spawn(["tcpdump", "-i", "lo", "-U", "-w", str(pcap), "udp", "port", "6343"], ns=a)
    agent = netlab.spawn(NETCHANGE + ["agent", "-i", "nctA0=4", "-c", "127.0.0.1:6343", "--counter-interval", "1",
                                      "--flush-interval", "0.1"], ns=a)
    deadline = time.time() + 15
    while "sampling" not in (line := agent.stderr.readline()) and time.time() < deadline:
        assert agent.poll() is None, agent.stderr.read()
    assert "tcx" in line or "(tc)" in line, line
    sh("ping", "-c", "400", "-i", "0.002", "-q", "198.18.10.1", ns=b)
    _udp_burst(b, "198.18.10.1", 5001, 400)
    time.sleep(1.5)
    _, err = stop(agent)
    assert agent.returncode == 0, err
    assert "detached" in err
    assert bpf_programs_loaded() == [], "the agent left programs loaded"
    time.sleep(0.3)
    stop(cap)

    def count(display_filter: str) -> int:
        out = sh("tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields", "-e", "frame.number").stdout
        return len(out.split())

    datagrams = count("sflow")
    assert datagrams >= 5
    assert count("_ws.malformed") == 0
    assert count("_ws.expert.severity >= 6291456") == 0  # warning or error
    assert count("sflow_245.version != 5") == 0
    # the sampled headers dissect as the traffic we sent
    assert count("sflow && icmp") > 0
    assert count("sflow && udp.dstport == 5001") > 0
    fields = sh("tshark", "-r", str(pcap), "-Y", "sflow", "-T", "fields", "-e", "sflow.flow_sample.sampling_rate",
                "-e", "sflow.flow_sample.sample_pool", "-e", "sflow_245.header.frame_length").stdout
    rates = {int(r) for line in fields.splitlines() for r in line.split("\t")[0].split(",") if r}
    assert rates == {4}
    pools = [int(p) for line in fields.splitlines() for p in line.split("\t")[1].split(",") if p]
    # 400 echo requests + 400 replies + 400 UDP datagrams crossed the interface; a sample's pool counts the
    # packets seen up to that sample, so the last one misses those after it (more than 40 at 1-in-4: p < 1e-5)
    assert max(pools) >= 1200 - 40
    samples = len(pools)
    assert 1200 / 4 * 0.6 < samples < 1200 / 4 * 1.5
    assert count("sflow_245.ifindex") > 0  # generic interface counters
    _check_pool_and_sequences(pcap)


def _check_pool_and_sequences(pcap) -> None:
    """sFlow v5 per source: flow sample sequence numbers count 1, 2, 3, ... and sample_pool rises with every
    sample (it counts the packets seen when that sample was taken); datagram sequence numbers count up."""
    fields = ("sflow_245.agent", "sflow_245.sub_agent_id", "sflow_245.sequence_number",
              "sflow.flow_sample.index", "sflow.flow_sample.sequence_number", "sflow.flow_sample.sample_pool")
    out = sh("tshark", "-r", str(pcap), "-Y", "sflow", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
             *(x for f in fields for x in ("-e", f))).stdout
    datagram_seq: dict[tuple, list[int]] = {}
    per_source: dict[tuple, list[tuple[int, int]]] = {}
    for line in out.splitlines():
        agent, sub, dseq, sources, seqs, pools = (line.split("\t") + [""] * 6)[:6]
        datagram_seq.setdefault((agent, sub), []).append(int(dseq))
        rows = [x.split(",") if x else [] for x in (sources, seqs, pools)]
        assert len(rows[0]) == len(rows[1]) == len(rows[2]), line
        for src, seq, pool in zip(*rows):
            per_source.setdefault((agent, src), []).append((int(seq), int(pool)))
    assert per_source, out[:500]
    for key, seqs in datagram_seq.items():
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"datagram sequence of {key} has gaps or repeats"
    problems = []
    for key, samples in per_source.items():
        for (s0, p0), (s1, p1) in zip(samples, samples[1:]):
            if s1 != s0 + 1:
                problems.append(f"{key}: flow sample sequence {s0} then {s1}")
            if p1 <= p0:
                problems.append(f"{key}: sample_pool {p0} then {p1} (must rise with every sample)")
    assert not problems, f"{len(problems)} problems, first: {problems[:5]}"
