"""The sFlow collector: UDP or pcap in, known agents only, a bounded flow history, metrics, JSON lines.

A datagram is accepted only when its UDP source is one of the addresses its claimed agent may send from
(the agent address itself, or the `sources` of a multi-homed agent): the agent field inside a datagram is
whatever the sender wrote.  Everything a sender can name (sub-agents, data sources, agents in any-agent
mode, interface names) lives in a bounded LRU table whose size and evictions are metrics; samples go into
the flow history (history.py), of fixed total size.  Hot path: the C extension (fastscan.c) where it was
built, else the Python scan (fastpath.py); listeners, the labeler and JSON lines use the reference decoder.

Library use (the deploy step runs it in-process):

    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "198.51.100.1"})
    c.start(); ...; c.flows(agent="fw1", direction="egress"); c.snapshot(); c.stop()
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping

from .bounded import LRU
from .cext import fastscan
from .errors import MalformedDatagram, TelemetryError
from .fastpath import Scanned, _slow_flow, header, scan
from .history import Count, FlowHistory, Selector, text_address
from .metrics import CollectorMetrics
from .sflow_codec import FlowSample, decode_datagram

MAX_AGENTS = 1024      # agents tracked at once in any-agent mode (a known list bounds itself)
MAX_SOURCES = 4096     # (agent, sub-agent) sequence states and (agent, data source) drop gauges
MAX_INTERFACES = 4096  # interface names learned per agent from port-name counter records
MAX_CHECKS = 64        # verification checks whose results are exported as metrics (the latest ones)


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


Labeler = Callable[[Observation], "str | None"]
Listener = Callable[[Observation], None]


@dataclass(frozen=True)
class KnownAgent:
    """An sFlow agent: the address it writes into its datagrams and the UDP sources it may send them from
    (default: that address; list every address of a multi-homed agent)."""

    address: str
    sources: tuple[str, ...] = ()


def _address(name: str, text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise TelemetryError(f"agent {name!r}: {text!r} is not an IP address") from None


def _agent_map(agents) -> tuple[dict[str, str], dict[str, str]] | None:
    """(agent address -> name, UDP source -> name), normalized; None accepts every agent from its own address."""
    if agents is None:
        return None
    pairs = agents.items() if isinstance(agents, Mapping) else ((a, a) for a in agents)
    by_address: dict[str, str] = {}
    by_source: dict[str, str] = {}
    for name, spec in pairs:
        spec = spec if isinstance(spec, KnownAgent) else KnownAgent(str(spec))
        addr = _address(name, spec.address)
        by_address[addr] = name
        for src in spec.sources or (addr,):
            src = _address(name, src)
            other = by_source.setdefault(src, name)
            if other != name:
                raise TelemetryError(f"agents {other!r} and {name!r} both claim source address {src}")
    return by_address, by_source


def agents_from_inventory(inventory) -> dict[str, KnownAgent]:
    """{host name: KnownAgent}: host data `telemetry.agent_address` (else the host's address) and
    `telemetry.sources`."""
    out = {}
    for name, host in inventory.hosts.items():
        tel = getattr(host.data, "telemetry", None)
        addr = str(tel.agent_address) if tel is not None and tel.agent_address else host.hostname
        if not addr:
            continue
        try:
            addr = str(ipaddress.ip_address(addr))
        except ValueError:
            try:
                addr = socket.gethostbyname(addr)
            except OSError:
                continue
        out[name] = KnownAgent(addr, tuple(str(a) for a in tel.sources) if tel is not None else ())
    return out


class Collector:
    def __init__(self, bind: tuple[str, int] = ("0.0.0.0", 6343),
                 agents: Mapping[str, "str | KnownAgent"] | Iterable[str] | None = (),
                 max_flows: int = 10_000, jsonl: IO[str] | None = None, labeler: Labeler | None = None,
                 interfaces: Mapping[str, Mapping[str, int]] | None = None, metrics: CollectorMetrics | None = None,
                 max_sources: int = MAX_SOURCES, max_agents: int = MAX_AGENTS, resolution: float = 1.0,
                 max_age: float = 900.0, points: Mapping[str, Mapping[str, str]] | None = None):
        """`agents`: {name: address or KnownAgent} or addresses; a datagram is accepted only from a UDP source
        of the agent it names (None: any agent, from its own address).  `interfaces`: {agent name:
        {interface name: ifindex}} for queries by name (more are learned from port-name counter records).
        `max_flows` bounds the flow history (entries over all `resolution`-second buckets of the last
        `max_age` seconds).  `points`: {agent: {interface: observation point name}}, exported per point."""
        for what, n in (("--max-flows", max_flows), ("max_sources", max_sources), ("max_agents", max_agents)):
            if not isinstance(n, int) or n < 1:
                raise TelemetryError(f"{what} must be at least 1, not {n}")
        self.bind = bind
        self._agents = _agent_map(agents)
        self.max_flows = max_flows
        self.jsonl = jsonl
        self.labeler = labeler
        self.interfaces = {a: dict(m) for a, m in (interfaces or {}).items()}
        self.metrics = metrics or CollectorMetrics()
        mm = self.metrics
        flow_evictions = mm.state_evictions.labels("flows")
        self.history = FlowHistory(max_flows, resolution, max_age, on_evict=flow_evictions.inc, on_overflow=mm.overflow.inc)
        self._labels: LRU[tuple, str] = LRU("labels", max_flows)
        self._c = fastscan()  # the optional C hot path (None: pure Python, same results)
        self._accept_cache: dict[tuple, tuple] = {}
        # when another receiver feeds the history (sfacctd.SfacctdReader): the time it is complete up to
        self.complete_until: float | None = None
        self._listeners: list[Listener] = []
        self._last_seq: LRU[tuple[str, int], int] = LRU("sequences", max_sources, counter=mm.state_evictions.labels("sequences"))
        self._drops: LRU[tuple[str, int], int] = LRU("sources", max_sources, None, mm.state_evictions.labels("sources"))
        mm.drop_gauges(self._drops.items)
        # per agent: [datagrams, flow samples, counter samples, lost datagrams], read at scrape time
        self._per_agent: LRU[str, list[int]] = LRU("agents", max_agents if self._agents is None else len(self._agents[0]) or 1,
                                                   None, mm.state_evictions.labels("agents"))
        mm.agent_counters(self._per_agent.items)
        mm.state_entries.labels("flows").set_function(lambda: self.history.entries)
        # observation points: (agent, ifindex) -> point name; per (point, direction) [samples, packets, bytes]
        self._point_names = {a: dict(m) for a, m in (points or {}).items()}
        self._points: dict[tuple[str, int], str] = {}
        self._point_totals: dict[tuple[str, str], list[float]] = {}
        self._refresh_points()
        mm.point_counters(lambda: list(self._point_totals.items()))
        self._checks: LRU[tuple[str, str], tuple] = LRU("checks", MAX_CHECKS, self._forget_check)
        for name, table in (("sequences", self._last_seq), ("sources", self._drops), ("agents", self._per_agent)):
            mm.state_entries.labels(name).set_function(table.__len__)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self.address: tuple[str, int] | None = None
        self.malformed = 0
        self.rejected = 0

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> "Collector":
        family = socket.AF_INET6 if ":" in self.bind[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        try:
            sock.bind(self.bind)
        except (OSError, OverflowError) as e:
            sock.close()
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise TelemetryError(f"cannot listen on {self.bind[0]}:{self.bind[1]}: {why}") from None
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
        assert sock is not None  # bound by start() before the thread runs
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
        if self._c is None or self._listeners or self.jsonl is not None or self.labeler is not None:
            for ts, src, payload in udp_datagrams(path, port, self._c):
                self.ingest(payload, src, ts)
                n += 1
            return n
        # runs of datagrams from one sender within one history bucket go to the C path in one call
        res = self.history.resolution
        run: list[bytes] = []
        run_key = None
        run_ts = 0.0
        for ts, src, payload in udp_datagrams(path, port, self._c):
            n += 1
            key = (payload[:12] if payload[4:8] == b"\0\0\0\1" else payload[:24], src, ts // res)
            if key != run_key or len(run) >= 512:
                if run:
                    assert run_key is not None  # set with the run's first datagram
                    self._ingest_run(run, run_key[1], run_ts)
                run, run_key, run_ts = [], key, ts
            run.append(payload)
        if run:
            assert run_key is not None
            self._ingest_run(run, run_key[1], run_ts)
        return n

    def _ingest_run(self, run: list[bytes], source: str, ts: float) -> None:
        """Datagrams with the same sender and header start, within one bucket: what the C path takes in one
        call, the first one it does not take through `ingest` (which decides: Python scan, malformed, ...)."""
        while run:
            accepted = self._accept_cache.get((run[0][:12] if run[0][4:8] == b"\0\0\0\1" else run[0][:24], source))
            if accepted is None or accepted[0] is None:
                self.ingest(run[0], source, ts)  # decides and caches the sender (or counts it rejected/malformed)
                run = run[1:]
                continue
            name, _agent, off = accepted
            taken = self._ingest_c(run, name, off, ts)
            if taken < len(run):
                self.ingest(run[taken], source, ts)
            run = run[taken + 1:]

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
            known = self.interfaces.setdefault(agent, {})
            for name, index in names.items():
                if known.get(name) != index and (name in known or len(known) < MAX_INTERFACES):
                    known[name] = index
            self._refresh_points()

    def _refresh_points(self) -> None:
        self._points = {(agent, self.interfaces[agent][itf]): point
                        for agent, m in self._point_names.items() for itf, point in m.items()
                        if itf in self.interfaces.get(agent, {})}

    def ifindex(self, agent: str, interface: str | int) -> int:
        if isinstance(interface, int) or str(interface).isdigit():
            return int(interface)
        try:
            return self.interfaces[agent][interface]
        except KeyError:
            raise TelemetryError(f"interface {interface!r} of agent {agent!r} is unknown to the collector "
                                 "(give its ifindex or an interfaces map)") from None

    # -- ingest --------------------------------------------------------------------------------------
    def _reject(self) -> None:
        self.rejected += 1
        self.metrics.rejected.inc()

    def accepts(self, agent_address: str, source: str | None) -> str | None:
        """The agent's name when `source` may speak for `agent_address`, else None."""
        if source is None:
            return None
        if self._agents is None:
            return agent_address if source == agent_address else None
        name = self._agents[0].get(agent_address)
        return name if name is not None and self._agents[1].get(source) == name else None

    def ingest(self, data: bytes, source: str | None, now: float | None = None) -> Scanned | bool | None:
        """Decodes and accounts one datagram received from UDP address `source`; returns what it held (True
        when the C path took it), or None when rejected (unknown agent, or a source that may not speak for
        it) or malformed."""
        try:
            # (version, address type, agent address, UDP source) -> accepted name: decided once per sender
            hkey = (data[:12] if data[4:8] == b"\0\0\0\1" else data[:24], source)
            known = self._accept_cache.get(hkey)
            if known is None:
                agent, off = header(data)
                known = (self.accepts(agent, source), agent, off)
                if len(self._accept_cache) >= MAX_SOURCES:
                    self._accept_cache.clear()
                self._accept_cache[hkey] = known
            name, agent, off = known
            if name is None:
                self._reject()
                return None
            if self._listeners or self.jsonl is not None or self.labeler is not None:
                return self._ingest_observed(data, name, now)
            if self._c is not None:
                t = time.time() if now is None else now
                if self._ingest_c([data], name, off, t):
                    return True
            sc = scan(data, agent, off, name)
        except MalformedDatagram:
            self._malformed()
            return None
        except Exception:  # a decoder bug must not kill the collector; it shows as malformed
            self._malformed()
            return None
        self._account(name, sc, time.time() if now is None else now)
        return sc

    def _malformed(self) -> None:
        self.malformed += 1
        self.metrics.malformed.inc()

    def _ingest_c(self, run: list[bytes], name: str, off: int, t: float) -> int:
        """The C path: the leading datagrams of `run` that are all common flow samples, added to the history
        in one call; returns how many it took (the next one is the Python scan's)."""
        h = self.history
        assert self._c is not None  # the C path runs only when the extension loaded
        with h.lock:
            bs = h.buckets
            bucket = bs[-1] if bs and bs[-1].start <= t < bs[-1].start + h.resolution else h.bucket(t)
            taken, nsamples, fresh, drops, sources, seqs = self._c.scan_many(run, off, name, bucket.flows)
            for key, samples, packets, nbytes, rate in fresh:  # keys new to the bucket: within the bound
                h.add_many(bucket, name, key, samples, packets, nbytes, rate)
        if taken:
            m = self._per_agent.get(name)
            if m is None:
                m = [0, 0, 0, 0]
                self._per_agent.put(name, m)
            m[0] += taken
            m[1] += nsamples
            swap = self._last_seq.swap
            for sub_agent, sequence in seqs:
                last = swap((name, sub_agent), sequence)
                if last is not None and sequence > last + 1:
                    m[3] += sequence - last - 1
            self._account_sources(name, drops, sources)
        return taken

    def _account_sources(self, name: str, drops: dict, sources: dict) -> None:
        if self._points:
            for (index, direction), (k, packets, nbytes) in sources.items():
                point = self._points.get((name, index))
                if point is not None:
                    t = self._point_totals.setdefault((point, direction or "unknown"), [0, 0, 0])
                    t[0] += k
                    t[1] += packets
                    t[2] += nbytes
        put = self._drops.put
        for index, value in drops.items():
            put((name, index), value)

    def _set_drops(self, name: str, drops: dict) -> None:
        put = self._drops.put
        for index, value in drops.items():
            put((name, index), value)

    def _account(self, name: str, sc: Scanned, now: float, labels: list | None = None) -> None:
        """Sequence, counters and history of one accepted datagram."""
        m = self._per_agent.get(name)
        if m is None:
            m = [0, 0, 0, 0]
            self._per_agent.put(name, m)
        m[0] += 1
        seq_key = (name, sc.sub_agent)
        last = self._last_seq.swap(seq_key, sc.sequence)
        if last is not None and sc.sequence > last + 1:
            m[3] += sc.sequence - last - 1
        if sc.counters:
            m[2] += len(sc.counters)
            names = {cs.port_name: cs.source_index for cs in sc.counters if cs.port_name}
            if names and any(self.interfaces.get(name, {}).get(n) != i for n, i in names.items()):
                self.learn_interfaces(name, names)
        flows = sc.flows
        if not flows:
            return
        m[1] += len(flows)
        h = self.history
        with h.lock:
            bucket = h.bucket(now)
            table = bucket.flows
            for key, rate, flen in flows:
                v = table.get(key)
                if v is None:
                    h.add(bucket, name, key, rate, flen)
                else:
                    v[0] += 1
                    v[1] += rate
                    v[2] += rate * flen
                    v[3] = rate
        if self._points:
            points, totals = self._points, self._point_totals
            for key, rate, flen in flows:
                point = points.get((name, key[1]))
                if point is not None:
                    t = totals.get((point, key[2] or "unknown"))
                    if t is None:
                        t = totals[(point, key[2] or "unknown")] = [0, 0, 0]
                    t[0] += 1
                    t[1] += rate
                    t[2] += rate * flen
        if labels:
            for (key, _r, _f), label in zip(flows, labels):
                if label is not None:
                    self._labels.put(key, label)
        self._set_drops(name, sc.drops)

    def _ingest_observed(self, data: bytes, name: str, now: float | None) -> Scanned:
        """The reference decoder with per-sample Observations, for listeners, the labeler and JSON lines."""
        dg = decode_datagram(data)
        now = time.time() if now is None else now
        sc = Scanned(dg.agent, dg.sub_agent, dg.sequence)
        sc.flows = [_slow_flow(name, fs) for fs in dg.flows]
        sc.counters = dg.counters
        sc.drops = {fs.source_index: fs.drops for fs in dg.flows}
        observations = [Observation(now, name, fs) for fs in dg.flows]
        if self.labeler is not None:
            for obs in observations:
                obs.label = self.labeler(obs)
        self._account(name, sc, now, [o.label for o in observations])
        if self.jsonl is not None:
            for cs in dg.counters:
                for c in cs.interfaces:
                    self._write({"type": "counters", "time": now, "agent": name, "ifindex": c.ifindex,
                                 "in_octets": c.in_octets, "in_packets": c.in_ucast + c.in_multicast + c.in_broadcast,
                                 "out_octets": c.out_octets, "out_packets": c.out_ucast + c.out_multicast + c.out_broadcast,
                                 "in_discards": c.in_discards, "out_discards": c.out_discards, "status": c.status})
        with self._lock:
            listeners = list(self._listeners)
        for obs in observations:
            for fn in listeners:
                fn(obs)
            if self.jsonl is not None:
                self._write(self._flow_record(obs))
        return sc

    def _forget_check(self, key: tuple[str, str], labels: tuple) -> None:
        mm = self.metrics
        for metric in (mm.check_samples, mm.check_packets, mm.check_bytes):
            try:
                metric.remove(*labels[:3])
            except KeyError:
                pass
        try:
            mm.check_outcome.remove(*labels)
        except KeyError:
            pass

    def report(self, body: dict) -> None:
        """A deploy's verdicts, exported per check (the latest MAX_CHECKS checks; older ones are dropped)."""
        change = body.get("change")
        checks = body.get("checks")
        if not isinstance(change, str) or not isinstance(checks, list) or len(checks) > 256:
            raise TelemetryError("a report is {change: ID, checks: [...]} with at most 256 checks")
        mm = self.metrics
        for c in checks:
            if not isinstance(c, dict):
                raise TelemetryError("each check is an object")
            name, point, outcome = (str(c.get(k, ""))[:100] for k in ("name", "point", "outcome"))
            if outcome not in ("pass", "fail", "inconclusive"):
                raise TelemetryError(f"check {name}: outcome must be pass, fail or inconclusive")
            key = (change[:100], name)
            old = self._checks.get(key)
            if old is not None:
                self._forget_check(key, old)
            labels = (change[:100], name, point, outcome)
            self._checks.put(key, labels)
            mm.check_samples.labels(*labels[:3]).set(float(c.get("samples") or 0))
            mm.check_packets.labels(*labels[:3]).set(float(c.get("packets") or 0))
            mm.check_bytes.labels(*labels[:3]).set(float(c.get("bytes") or 0))
            mm.check_outcome.labels(*labels).set(1)

    def status(self) -> dict:
        span = self.history.span()
        return {"now": self.now(), "complete": self.complete(), "span": list(span) if span else None,
                "agents": {n: {"datagrams": v[0], "flow_samples": v[1]} for n, v in self._per_agent.items()},
                "interfaces": {a: dict(m) for a, m in self.interfaces.items()},
                "flows": self.history.entries, "overflow": self.history.overflow,
                "rejected": self.rejected, "malformed": self.malformed}

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
        assert self.jsonl is not None  # called only when a JSONL file was given
        self.jsonl.write(json.dumps(rec, separators=(",", ":")) + "\n")

    # -- queries -------------------------------------------------------------------------------------
    def now(self) -> float:
        """The clock the history's buckets are kept in (arrival time)."""
        return time.time()

    def known_agents(self) -> dict[str, KnownAgent]:
        """{name: KnownAgent} as configured (empty in any-agent mode)."""
        if self._agents is None:
            return {}
        by_address, by_source = self._agents
        return {name: KnownAgent(addr, tuple(s for s, n in by_source.items() if n == name))
                for addr, name in by_address.items()}

    def complete(self) -> float:
        """The time up to which the history holds everything that arrived (now, with our own receiver)."""
        return self.complete_until if self.complete_until is not None else time.time()

    def span(self) -> tuple[float, float] | None:
        return self.history.span()

    def account_record(self, name: str, key: tuple, samples: int, packets: int, nbytes: int) -> None:
        """Counters and point totals of aggregated samples another receiver added to the history."""
        m = self._per_agent.get(name)
        if m is None:
            m = [0, 0, 0, 0]
            self._per_agent.put(name, m)
        m[1] += samples
        point = self._points.get((name, key[1]))
        if point is not None:
            t = self._point_totals.setdefault((point, key[2] or "unknown"), [0, 0, 0])
            t[0] += samples
            t[1] += packets
            t[2] += nbytes

    def query(self, selectors: list[Selector], since: float, until: float | None = None) -> tuple[list[Count], float]:
        """Counts per selector over [since, until) of the history; interface names resolve to ifindexes."""
        resolved = []
        for s in selectors:
            changes: dict[str, Any] = {}
            for field_, agent in (("ifindex", s.agent), ("via_ifindex", s.agent), ("ref_ifindex", s.ref_agent)):
                v = getattr(s, field_)
                if v is not None and not isinstance(v, int):
                    assert agent is not None  # a reference interface comes with its agent
                    changes[field_] = self.ifindex(agent, v)
            resolved.append(replace(s, **changes) if changes else s)
        return self.history.query(resolved, since, until)

    def flows(self, agent: str | None = None, interface: str | int | None = None, direction: str | None = None,
              where: Callable[[FlowStats], bool] | None = None, top: int | None = None) -> list[FlowStats]:
        """Flows in the history (summed over its buckets), largest estimated packet count first (the `top`
        ones only, when given)."""
        ifindex = self.ifindex(agent, interface) if interface is not None and agent is not None else interface

        def group(key: tuple) -> tuple | None:
            if (agent is not None and key[0] != agent) or (ifindex is not None and key[1] != ifindex) \
                    or (direction is not None and key[2] != direction):
                return None
            return key

        totals = self.history.totals(group)
        items = totals.items() if top is None or where is not None else heapq.nlargest(top, totals.items(), key=lambda kv: kv[1][1])
        out = []
        for key, (samples, packets, nbytes, _rate, first, last) in items:
            a, index, d, src, dst, proto, sport, dport, _out, _nh, _detail = key
            f = FlowStats(a, index, d, text_address(src), text_address(dst), proto, sport, dport, self._labels.get(key),
                          samples, packets, nbytes, first, last)
            if where is None or where(f):
                out.append(f)
        out.sort(key=lambda f: f.packets, reverse=True)
        return out if top is None else out[:top]

    def snapshot(self, top: int = 20) -> dict:
        h = self.history
        return {
            "flows": h.entries,
            "evictions": h.evictions,
            "overflow": h.overflow,
            "malformed": self.malformed,
            "rejected": self.rejected,
            "datagrams": sum(v[0] for _, v in self._per_agent.items()),
            "flow_samples": sum(v[1] for _, v in self._per_agent.items()),
            "top": [f.to_dict() for f in self.flows(top=top)],
        }
