"""The sFlow collector: UDP or pcap in, known agents only, bounded flow table, listeners, metrics, JSON lines.

Library use (the deploy step runs it in-process):

    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "198.51.100.1"})
    c.start(); ...; c.flows(agent="fw1", direction="egress"); c.snapshot(); c.stop()
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable, Mapping

from .errors import MalformedDatagram, TelemetryError
from .metrics import CollectorMetrics
from .sflow_codec import Datagram, FlowSample, decode_datagram


@dataclass(slots=True)
class Observation:
    """One flow sample as the collector saw it: who sent it, when, and what the attribution hook said."""

    time: float
    agent: str                 # agent name (its address when no name was given)
    sample: FlowSample
    label: str | None = None

    @property
    def ifindex(self) -> int:
        return self.sample.source_index

    @property
    def direction(self) -> str | None:
        return self.sample.direction


FlowKey = tuple  # (agent, ifindex, direction, src, dst, protocol, src_port, dst_port)


@dataclass(slots=True)
class FlowStats:
    agent: str
    ifindex: int
    direction: str | None
    src: str | None
    dst: str | None
    protocol: int | None
    src_port: int | None
    dst_port: int | None
    label: str | None = None
    samples: int = 0
    packets: int = 0           # estimated: each sample stands for `sampling_rate` packets
    bytes: int = 0
    first: float = 0.0
    last: float = 0.0

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class _AgentMetrics:
    """Per-agent metric children, looked up once (prometheus' labels() is slow on the hot path)."""

    datagrams: object
    flow_samples: object
    counter_samples: object
    lost: object
    drops: dict = field(default_factory=dict)


Labeler = Callable[[Observation], "str | None"]
Listener = Callable[[Observation], None]


def _agent_map(agents: Mapping[str, str] | Iterable[str] | None) -> dict[str, str] | None:
    """address -> name, with addresses normalized; None accepts every agent."""
    if agents is None:
        return None
    pairs = agents.items() if isinstance(agents, Mapping) else ((a, a) for a in agents)
    out = {}
    for name, addr in pairs:
        try:
            out[str(ipaddress.ip_address(addr))] = name
        except ValueError:
            raise TelemetryError(f"agent {name!r}: {addr!r} is not an IP address") from None
    return out


def agents_from_inventory(inventory) -> dict[str, str]:
    """{host name: agent address}: host data `telemetry.agent_address`, else the host's address."""
    out = {}
    for name, host in inventory.hosts.items():
        extra = (host.data.model_extra or {}).get("telemetry") or {}
        addr = extra.get("agent_address") if isinstance(extra, dict) else None
        addr = addr or host.hostname
        if not addr:
            continue
        try:
            out[name] = str(ipaddress.ip_address(addr))
        except ValueError:
            try:
                out[name] = socket.gethostbyname(addr)
            except OSError:
                continue
    return out


class Collector:
    def __init__(self, bind: tuple[str, int] = ("0.0.0.0", 6343), agents: Mapping[str, str] | Iterable[str] | None = (),
                 max_flows: int = 10_000, jsonl: IO[str] | None = None, labeler: Labeler | None = None,
                 interfaces: Mapping[str, Mapping[str, int]] | None = None, metrics: CollectorMetrics | None = None):
        """`agents`: {name: address} or addresses; datagrams whose agent address is not among them are
        rejected (None accepts all).  `interfaces`: {agent name: {interface name: ifindex}} for queries by name."""
        self.bind = bind
        self._agents = _agent_map(agents)
        self.max_flows = max_flows
        self.jsonl = jsonl
        self.labeler = labeler
        self.interfaces = {a: dict(m) for a, m in (interfaces or {}).items()}
        self.metrics = metrics or CollectorMetrics()
        self._flows: OrderedDict[FlowKey, FlowStats] = OrderedDict()
        self._listeners: list[Listener] = []
        self._last_seq: dict[tuple[str, int], int] = {}
        self._per_agent: dict[str, _AgentMetrics] = {}
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self.address: tuple[str, int] | None = None
        self.evictions = 0
        self.malformed = 0
        self.rejected = 0

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> "Collector":
        family = socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        try:
            sock.bind(self.bind)
        except OSError as e:
            sock.close()
            raise TelemetryError(f"cannot listen on {self.bind[0]}:{self.bind[1]}: {e.strerror}") from None
        sock.settimeout(0.2)
        self._sock = sock
        self.address = sock.getsockname()[:2]
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="sflow-collector", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "Collector":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        sock = self._sock
        while self._running:
            try:
                data, src = sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            self.ingest(data, src[0])

    def read_pcap(self, path: Path | str, port: int | None = 6343) -> int:
        """Feeds every sFlow datagram of a capture file through the collector; returns how many."""
        from .pcap import udp_datagrams

        n = 0
        for ts, src, payload in udp_datagrams(path, port):
            self.ingest(payload, src, ts)
            n += 1
        return n

    # -- listeners and attribution -------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Calls listener(Observation) for every accepted flow sample; returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def learn_interfaces(self, agent: str, names: Mapping[str, int]) -> None:
        with self._lock:
            self.interfaces.setdefault(agent, {}).update(names)

    def ifindex(self, agent: str, interface: str | int) -> int:
        if isinstance(interface, int) or str(interface).isdigit():
            return int(interface)
        try:
            return self.interfaces[agent][interface]
        except KeyError:
            raise TelemetryError(f"interface {interface!r} of agent {agent!r} is unknown to the collector "
                                 "(give its ifindex or an interfaces map)") from None

    # -- ingest --------------------------------------------------------------------------------------
    def ingest(self, data: bytes, source: str | None = None, now: float | None = None) -> Datagram | None:
        """Decodes and accounts one datagram; returns it, or None when rejected or malformed."""
        try:
            dg = decode_datagram(data)
        except MalformedDatagram:
            self.malformed += 1
            self.metrics.malformed.inc()
            return None
        except Exception:  # a decoder bug must not kill the collector; it shows as malformed
            self.malformed += 1
            self.metrics.malformed.inc()
            return None
        name = dg.agent if self._agents is None else self._agents.get(dg.agent)
        if name is None:
            self.rejected += 1
            self.metrics.rejected.inc()
            return None
        now = time.time() if now is None else now
        m = self._agent_metrics(name)
        m.datagrams.inc()
        seq_key = (name, dg.sub_agent)
        last = self._last_seq.get(seq_key)
        if last is not None and dg.sequence > last + 1:
            m.lost.inc(dg.sequence - last - 1)
        self._last_seq[seq_key] = dg.sequence
        if dg.counters:
            m.counter_samples.inc(len(dg.counters))
            if self.jsonl is not None:
                for cs in dg.counters:
                    for c in cs.interfaces:
                        self._write({"type": "counters", "time": now, "agent": name, "ifindex": c.ifindex,
                                     "in_octets": c.in_octets, "in_packets": c.in_ucast + c.in_multicast + c.in_broadcast,
                                     "out_octets": c.out_octets, "out_packets": c.out_ucast + c.out_multicast + c.out_broadcast,
                                     "in_discards": c.in_discards, "out_discards": c.out_discards, "status": c.status})
        if dg.flows:
            m.flow_samples.inc(len(dg.flows))
            # Observations are only built when someone looks at single samples (the hot path skips them)
            observations = None
            if self._listeners or self.jsonl is not None or self.labeler is not None:
                observations = [Observation(now, name, fs) for fs in dg.flows]
                if self.labeler is not None:
                    for obs in observations:
                        obs.label = self.labeler(obs)
            with self._lock:
                listeners = list(self._listeners)
                if observations is None:
                    for fs in dg.flows:
                        self._account(name, now, fs, None)
                else:
                    for obs in observations:
                        self._account(name, now, obs.sample, obs.label)
                self.metrics.flows.set(len(self._flows))
            for source, drops in {fs.source_index: fs.drops for fs in dg.flows}.items():
                gauge = m.drops.get(source)
                if gauge is None:
                    gauge = m.drops[source] = self.metrics.agent_drops.labels(name, str(source))
                gauge.set(drops)
            for obs in observations or ():
                for fn in listeners:
                    fn(obs)
                if self.jsonl is not None:
                    self._write(self._flow_record(obs))
        return dg

    def _agent_metrics(self, name: str) -> "_AgentMetrics":
        m = self._per_agent.get(name)
        if m is None:
            mm = self.metrics
            m = self._per_agent[name] = _AgentMetrics(mm.datagrams.labels(name), mm.flow_samples.labels(name),
                                                      mm.counter_samples.labels(name), mm.lost_datagrams.labels(name))
        return m

    @staticmethod
    def _flow_record(obs: Observation) -> dict:
        fs = obs.sample
        rec = {"type": "flow", "time": obs.time, "agent": obs.agent, "ifindex": fs.source_index, "direction": fs.direction,
               "rate": fs.sampling_rate, "pool": fs.sample_pool, "drops": fs.drops,
               "frame_length": fs.frame_length, "input": fs.input_if, "output": fs.output_if}
        if fs.packet is not None:
            rec.update(fs.packet.to_dict())
        if fs.next_hop:
            rec["next_hop"] = fs.next_hop
        if obs.label is not None:
            rec["label"] = obs.label
        return rec

    def _write(self, rec: dict) -> None:
        self.jsonl.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def _account(self, agent: str, now: float, fs: FlowSample, label: str | None) -> None:
        p = fs.packet
        if p is not None:
            key = (agent, fs.source_index, fs.direction, p.src, p.dst, p.protocol, p.src_port, p.dst_port)
        else:
            key = (agent, fs.source_index, fs.direction, None, None, None, None, None)
        flows = self._flows
        st = flows.get(key)
        if st is None:
            if len(flows) >= self.max_flows:
                flows.popitem(last=False)  # least recently seen goes first
                self.evictions += 1
                self.metrics.evictions.inc()
            st = flows[key] = FlowStats(*key, label=label, first=now)
        else:
            flows.move_to_end(key)
        rate = fs.sampling_rate or 1
        st.samples += 1
        st.packets += rate
        st.bytes += rate * (fs.frame_length or 0)
        st.last = now

    # -- queries -------------------------------------------------------------------------------------
    def flows(self, agent: str | None = None, interface: str | int | None = None, direction: str | None = None,
              where: Callable[[FlowStats], bool] | None = None) -> list[FlowStats]:
        """Flows in the table, largest estimated packet count first."""
        ifindex = self.ifindex(agent, interface) if interface is not None and agent is not None else interface
        with self._lock:
            out = [FlowStats(**f.to_dict()) for f in self._flows.values()
                   if (agent is None or f.agent == agent) and (ifindex is None or f.ifindex == ifindex)
                   and (direction is None or f.direction == direction) and (where is None or where(f))]
        out.sort(key=lambda f: f.packets, reverse=True)
        return out

    def snapshot(self, top: int = 20) -> dict:
        m = self.metrics
        with self._lock:
            nflows = len(self._flows)
        return {
            "flows": nflows,
            "evictions": self.evictions,
            "malformed": self.malformed,
            "rejected": self.rejected,
            "datagrams": sum(s.value for mf in m.datagrams.collect() for s in mf.samples if s.name.endswith("_total")),
            "flow_samples": sum(s.value for mf in m.flow_samples.collect() for s in mf.samples if s.name.endswith("_total")),
            "top": [f.to_dict() for f in self.flows()[:top]],
        }
