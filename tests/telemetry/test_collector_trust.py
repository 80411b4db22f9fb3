"""The collector trusts no datagram for its agent field alone, and no sender can make its state grow.

Issue 11 item 8: 100 k datagrams from 127.0.0.1 claiming to be fw1 were accepted; 50 k sub-agent / source
ids grew the collector by 50 MB and its metrics page to 3 MB.  `collect --max-flows 0` and
`--listen :99999` ended in tracebacks.
"""

from __future__ import annotations

import subprocess
import tracemalloc

from prometheus_client import generate_latest

from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.collector import Collector, KnownAgent

from .conftest import NETCHANGE, REPO
from .test_codec import udp4

FW1 = "198.51.100.10"
R1 = "198.51.100.20"


def dg(agent: str = FW1, seq: int = 1, sub_agent: int = 0, source: int = 3) -> bytes:
    sample = enc.flow_sample(seq, source, 10, 100 * seq, 0, source, 0, [enc.raw_header_record(udp4(), 64)])
    return enc.datagram(agent, sub_agent, seq, 1000, [sample])


def test_a_known_agent_address_sent_from_another_source_is_rejected():
    c = Collector(agents={"fw1": FW1})
    for seq in range(1, 1001):
        assert c.ingest(dg(seq=seq), "127.0.0.1") is None
    assert c.rejected == 1000
    assert c.metrics.value("netchange_sflow_flow_samples_total", agent="fw1") == 0
    assert c.flows() == []
    assert c.ingest(dg(seq=1001), FW1) is not None, "the agent's own address is accepted"


def test_multi_homed_agents_list_the_sources_they_may_send_from():
    c = Collector(agents={"fw1": KnownAgent(FW1, sources=(FW1, "198.18.0.5")), "r1": R1})
    assert c.ingest(dg(), "198.18.0.5") is not None
    assert c.ingest(dg(seq=2), "198.18.0.6") is None
    assert c.ingest(dg(agent=R1), "198.18.0.5") is None, "fw1's second address cannot speak for r1"
    assert c.ingest(dg(agent=R1), R1) is not None
    assert c.rejected == 2


def test_a_datagram_without_a_udp_source_is_not_trusted():
    c = Collector(agents={"fw1": FW1})
    assert c.ingest(dg(), None) is None and c.rejected == 1


def test_sub_agent_and_source_ids_cannot_grow_state_or_metrics():
    c = Collector(agents={"fw1": FW1}, max_sources=256, max_flows=256)
    for i in range(2000):  # warm-up: the tables reach their bound
        c.ingest(dg(seq=i + 1, sub_agent=i, source=i % 0xFFFFFF), FW1)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(2000, 50_000):
        c.ingest(dg(seq=i + 1, sub_agent=i, source=i % 0xFFFFFF), FW1)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    page = generate_latest(c.metrics.registry)
    assert grown < 1_000_000, f"state grew by {grown / 1e6:.1f} MB over 48 k new ids"
    assert len(page) < 100_000, f"metrics page is {len(page) / 1e6:.1f} MB"
    assert c.metrics.value("netchange_collector_state_evictions_total", table="sequences") >= 48_000
    assert c.metrics.value("netchange_collector_state_evictions_total", table="sources") >= 48_000
    assert c.metrics.value("netchange_collector_state_entries", table="sequences") == 256
    assert c.metrics.value("netchange_sflow_flow_samples_total", agent="fw1") == 50_000


def test_any_agent_mode_bounds_the_agents_it_tracks():
    c = Collector(agents=None, max_agents=64)
    for i in range(3000):
        addr = f"198.18.{i // 250}.{i % 250 + 1}"
        assert c.ingest(dg(agent=addr), addr) is not None  # any-agent still needs source == agent address
    page = generate_latest(c.metrics.registry).decode()
    assert page.count("netchange_sflow_datagrams_total{") == 64
    assert c.metrics.value("netchange_collector_state_evictions_total", table="agents") == 3000 - 64
    assert c.ingest(dg(agent="198.18.0.1"), "127.0.0.1") is None, "spoofed agent field in any-agent mode"


def _collect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(NETCHANGE + ["collect", "--agent", "127.0.0.1", "--duration", "0.1", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_collect_refuses_bad_sizes_and_ports_with_a_clear_error():
    for args, message in ((["--max-flows", "0"], "--max-flows must be at least 1"),
                          (["--listen", ":99999"], "port 99999 is out of range"),
                          (["--listen", "127.0.0.1:x"], "expected ADDRESS:PORT"),
                          (["--listen", "127.0.0.1:0", "--metrics-port", "70000"], "port 70000 is out of range")):
        p = _collect(*args)
        assert p.returncode != 0, (args, p.stderr)
        assert "Traceback" not in p.stderr, p.stderr
        assert message in p.stderr, (args, p.stderr)


def _inventory(tmp_path, telemetry: str):
    (tmp_path / "hosts.yaml").write_text(
        "fw1:\n  hostname: 198.51.100.10\n  data:\n    driver: nftables\n" + telemetry)
    from pipeline.inventory import Inventory

    return Inventory(tmp_path)


def test_inventory_lists_the_sources_of_a_multi_homed_agent(tmp_path):
    from pipeline.telemetry.collector import agents_from_inventory

    inv = _inventory(tmp_path, "    telemetry:\n      sources: [198.51.100.10, 198.18.0.5]\n")
    c = Collector(agents=agents_from_inventory(inv))
    assert c.ingest(dg(), "198.18.0.5") is not None
    assert c.ingest(dg(seq=2), "127.0.0.1") is None


def test_a_bad_source_in_the_inventory_names_the_file_and_field(tmp_path):
    import pytest

    from pipeline.errors import InputError

    with pytest.raises(InputError) as e:
        _inventory(tmp_path, "    telemetry:\n      sources: ['fe80::1%eth0']\n")
    assert "hosts.yaml" in str(e.value.location) and "telemetry.sources" in str(e.value.location)
