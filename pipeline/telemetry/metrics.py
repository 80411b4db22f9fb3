"""Prometheus metrics of a collector, in their own registry so several collectors can live in one process."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

# per-agent counters kept as plain integers on the hot path and read at scrape time
AGENT_COUNTERS = (
    ("netchange_sflow_datagrams", "sFlow datagrams accepted"),
    ("netchange_sflow_flow_samples", "flow samples decoded"),
    ("netchange_sflow_counter_samples", "counter samples decoded"),
    ("netchange_sflow_lost_datagrams", "datagrams missing from agents' sequence numbers"),
)


class _AgentCounters:
    """A prometheus collector over {agent: [datagrams, flow samples, counter samples, lost]}."""

    def __init__(self, source: Callable[[], Iterable[tuple[str, list[int]]]]):
        self.source = source

    def describe(self):
        return [CounterMetricFamily(n, h, labels=["agent"]) for n, h in AGENT_COUNTERS]

    def collect(self):
        families = [CounterMetricFamily(n, h, labels=["agent"]) for n, h in AGENT_COUNTERS]
        for agent, values in self.source():
            for fam, v in zip(families, values):
                fam.add_metric([agent], v)
        return families


POINT_COUNTERS = (
    ("netchange_point_samples", "flow samples taken at an observation point"),
    ("netchange_point_estimated_packets", "packets the samples at an observation point stand for"),
    ("netchange_point_estimated_bytes", "bytes the samples at an observation point stand for"),
)


class _PointCounters:
    def __init__(self, source):
        self.source = source

    def describe(self):
        return [CounterMetricFamily(n, h, labels=["point", "direction"]) for n, h in POINT_COUNTERS]

    def collect(self):
        families = [CounterMetricFamily(n, h, labels=["point", "direction"]) for n, h in POINT_COUNTERS]
        for (point, direction), values in self.source():
            for fam, v in zip(families, values):
                fam.add_metric([point, direction], v)
        return families


class _DropGauges:
    def __init__(self, source):
        self.source = source

    def describe(self):
        return [GaugeMetricFamily("netchange_sflow_agent_drops", "", labels=["agent", "source"])]

    def collect(self):
        fam = GaugeMetricFamily("netchange_sflow_agent_drops",
                                "samples the agent dropped for lack of resources (cumulative, as reported)",
                                labels=["agent", "source"])
        for (agent, index), value in self.source():
            fam.add_metric([agent, str(index)], value)
        return [fam]


class CollectorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.malformed = Counter("netchange_sflow_malformed_datagrams", "datagrams that failed to decode", registry=r)
        # no source label: unknown senders are unbounded, a label per sender would be a cardinality leak
        self.rejected = Counter("netchange_sflow_rejected_datagrams", "datagrams from agents not in the known list", registry=r)
        self.overflow = Counter("netchange_flow_history_overflow_samples", "samples not kept per flow because the history was full (verdicts that rest on absence turn inconclusive)", registry=r)
        # every table a sender can name entries of is bounded: its size and what it evicted, per table
        self.state_entries = Gauge("netchange_collector_state_entries", "entries in a bounded state table", ["table"], registry=r)
        # the latest verification checks (a bounded set: older checks are removed)
        self.check_samples = Gauge("netchange_verify_check_samples", "matching samples at the check's point in its window", ["change", "check", "point"], registry=r)
        self.check_packets = Gauge("netchange_verify_check_estimated_packets", "packets the matching samples stand for", ["change", "check", "point"], registry=r)
        self.check_bytes = Gauge("netchange_verify_check_estimated_bytes", "bytes the matching samples stand for", ["change", "check", "point"], registry=r)
        self.check_outcome = Gauge("netchange_verify_check_outcome", "1 for the check's verdict (pass, fail, inconclusive)", ["change", "check", "point", "outcome"], registry=r)
        self.state_evictions = Counter("netchange_collector_state_evictions", "entries evicted from a bounded state table (least recently used first)", ["table"], registry=r)

    def drop_gauges(self, source: Callable[[], Iterable[tuple[tuple[str, int], int]]]) -> None:
        """Per agent and data source: the drops the agent reports (read at scrape time)."""
        self.registry.register(_DropGauges(source))

    def point_counters(self, source: Callable[[], Iterable[tuple[tuple[str, str], list]]]) -> None:
        """Per observation point and direction: samples, estimated packets and bytes (read at scrape time)."""
        self.registry.register(_PointCounters(source))

    def agent_counters(self, source: Callable[[], Iterable[tuple[str, list[int]]]]) -> None:
        """Registers the per-agent counters, read from `source` at scrape time."""
        self.registry.register(_AgentCounters(source))

    def value(self, name: str, **labels: str) -> float:
        """Current value of a metric sample (0 when absent), e.g. value('netchange_sflow_malformed_datagrams_total')."""
        v = self.registry.get_sample_value(name, labels or None)
        return v or 0.0
