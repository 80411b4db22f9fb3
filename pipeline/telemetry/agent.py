"""The host agent: eBPF samples from chosen interfaces, exported as sFlow v5 to one or more collectors.

One data source per interface (sFlow source id = ifindex); a flow sample's direction shows in which of
input/output equals the source.  sample_pool and drops are per sample, as sFlow v5 defines them: the
packets the data source had seen (both directions, all CPUs) when that sample was taken.  Each event
carries its own CPU's counter for its direction; the sum of the latest value of every (direction, CPU)
therefore rises with every sample of the source (the sampled packet itself counts), and never counts a
packet that came after the sample.  Flow sample sequence numbers count samples per source, datagram
sequence numbers datagrams, as the spec says.

Overload: samples the agent cannot export wait in the kernel's fixed-size ring buffer and, once it is
full, are counted as drops there; the agent itself holds at most MAX_PENDING.  `max_rate` caps the
samples exported per second (protects a collector, and lets a test force the overload).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import sflow_encode as enc
from .bpf_build import build_object
from .bpf_loader import EGRESS, INGRESS, Sampler, parse_event
from .errors import TelemetryError

MAX_DATAGRAM = 1400  # stay below common MTUs: a fragmented datagram is lost whole when one piece is
MAX_PENDING = 256  # samples decoded but not yet exported; beyond it they wait in the kernel's ring buffer
_IFF_UP, _IFF_PROMISC = 0x1, 0x100


@dataclass
class Interface:
    name: str
    rate: int
    ifindex: int = 0


@dataclass
class AgentStats:
    samples: int = 0
    datagrams: int = 0
    counter_samples: int = 0
    send_errors: int = 0
    kernel: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # "if/dir" -> pool, samples, drops


def _sys_counter(name: str, counter: str) -> int:
    try:
        return int(Path(f"/sys/class/net/{name}/statistics/{counter}").read_text())
    except (OSError, ValueError):
        return 0


def interface_counters(name: str, ifindex: int) -> enc.IfCounters:
    """Generic interface counters from sysfs (veth has no speed: 0 means unknown)."""
    base = Path(f"/sys/class/net/{name}")
    try:
        flags = int((base / "flags").read_text(), 16)
    except (OSError, ValueError):
        flags = 0
    try:
        speed = max(0, int((base / "speed").read_text())) * 1_000_000
    except (OSError, ValueError):
        speed = 0
    try:
        oper_up = (base / "operstate").read_text().strip() in ("up", "unknown")
    except OSError:
        oper_up = False
    rx, tx, mc = _sys_counter(name, "rx_packets"), _sys_counter(name, "tx_packets"), _sys_counter(name, "multicast")
    return enc.IfCounters(
        ifindex=ifindex, speed=speed, status=(1 if flags & _IFF_UP else 0) | (2 if oper_up else 0),
        in_octets=_sys_counter(name, "rx_bytes"), in_ucast=max(0, rx - mc), in_multicast=mc,
        in_discards=_sys_counter(name, "rx_dropped"), in_errors=_sys_counter(name, "rx_errors"),
        out_octets=_sys_counter(name, "tx_bytes"), out_ucast=tx,
        out_discards=_sys_counter(name, "tx_dropped"), out_errors=_sys_counter(name, "tx_errors"),
        promiscuous=1 if flags & _IFF_PROMISC else 2)


def parse_collector(text: str) -> tuple[str, int]:
    """HOST[:PORT] or [V6ADDR]:PORT; default port 6343."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        port = port.lstrip(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    try:
        return host, int(port) if port else 6343
    except ValueError:
        raise TelemetryError(f"bad collector {text!r}: expected HOST[:PORT]") from None


class Agent:
    def __init__(self, interfaces: list[Interface], collectors: list[tuple[str, int]], agent_address: str | None = None,
                 snaplen: int = 128, counter_interval: float = 20.0, flush_interval: float = 0.25,
                 directions: tuple[int, ...] = (INGRESS, EGRESS), attach: str = "auto", sub_agent: int = 0,
                 max_rate: float | None = None, ring_bytes: int | None = None):
        if not interfaces:
            raise TelemetryError("the agent needs at least one interface")
        if not collectors:
            raise TelemetryError("the agent needs at least one collector")
        for itf in interfaces:
            try:
                itf.ifindex = socket.if_nametoindex(itf.name)
            except OSError:
                raise TelemetryError(f"no interface {itf.name!r} here") from None
            if itf.rate < 1:
                raise TelemetryError(f"sampling rate of {itf.name} must be >= 1 (1-in-N)")
        self.interfaces = interfaces
        self.collectors = [self._resolve(c) for c in collectors]
        self.agent_address = agent_address or self._source_address(self.collectors[0])
        self.snaplen, self.counter_interval, self.flush_interval = snaplen, counter_interval, flush_interval
        self.directions, self.attach_mode, self.sub_agent = directions, attach, sub_agent
        if max_rate is not None and max_rate <= 0:
            raise TelemetryError("--max-rate must be positive (samples per second)")
        self.max_rate, self.ring_bytes = max_rate, ring_bytes
        self._tokens = float(MAX_PENDING)
        self._last_refill = time.monotonic()
        self.stats = AgentStats()
        self.stop_event = threading.Event()
        self._pending: list[tuple] = []
        self._flow_seq: dict[int, int] = {}
        # per data source: latest (pool, drops) of each (direction, cpu), and their running sums
        self._seen: dict[tuple[int, int, int], tuple[int, int]] = {}
        self._sums: dict[int, list[int]] = {}
        self._counter_seq: dict[int, int] = {}
        self._datagram_seq = 0
        self._started = time.monotonic()
        self._socks: dict[int, socket.socket] = {}
        self._sampler: Sampler | None = None
        self.attached: list[tuple[str, str, str]] = []

    @staticmethod
    def _resolve(c: tuple[str, int]) -> tuple:
        try:
            info = socket.getaddrinfo(c[0], c[1], type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as e:
            raise TelemetryError(f"collector {c[0]}:{c[1]}: {e.strerror}") from None
        return info[0], info[4]

    @staticmethod
    def _source_address(collector: tuple) -> str:
        family, sockaddr = collector
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            try:
                s.connect(sockaddr)
                return s.getsockname()[0]
            except OSError as e:
                raise TelemetryError(f"no route to collector {sockaddr[0]}: {e.strerror}") from None

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._sampler = Sampler(build_object(), self.ring_bytes)
        try:
            self._sampler.on_event(self._pending_append)
            for itf in self.interfaces:
                self._sampler.set_rate(itf.ifindex, itf.rate, self.snaplen)
                for d in self.directions:
                    a = self._sampler.attach(itf.ifindex, d, self.attach_mode)
                    self.attached.append((itf.name, "ingress" if d == INGRESS else "egress", a.mode))
        except BaseException:
            self.close()
            raise

    @property
    def sampler(self) -> Sampler | None:
        """The loaded eBPF sampler while the agent runs (rates and attachments can be changed live)."""
        return self._sampler

    def _pending_append(self, raw: bytes) -> bool:
        self._pending.append(parse_event(raw))
        if self.max_rate is not None:
            self._tokens -= 1
            if self._tokens < 1:
                return True  # over the export rate: the rest waits in the ring buffer (and overflows there)
        return len(self._pending) >= MAX_PENDING  # stop consuming: flush first, so memory stays bounded

    def _may_poll(self, now: float) -> bool:
        """Token bucket of the export rate (burst: MAX_PENDING samples)."""
        if self.max_rate is None:
            return True
        self._tokens = min(float(MAX_PENDING), self._tokens + (now - self._last_refill) * self.max_rate)
        self._last_refill = now
        return self._tokens >= 1

    def close(self) -> None:
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        for s in self._socks.values():
            s.close()
        self._socks.clear()

    def run(self, duration: float | None = None) -> AgentStats:
        """Samples and exports until stop() (or `duration` seconds); always detaches on the way out."""
        if self._sampler is None:
            self.start()
        assert self._sampler is not None
        deadline = None if duration is None else time.monotonic() + duration
        next_flush = time.monotonic() + self.flush_interval
        next_counters = time.monotonic()
        try:
            while not self.stop_event.is_set():
                if self._may_poll(time.monotonic()):
                    self._sampler.poll(50)
                else:
                    assert self.max_rate is not None  # _may_poll says no only under a rate cap
                    time.sleep(min(0.05, 1.0 / self.max_rate))
                now = time.monotonic()
                if self._pending and (now >= next_flush or len(self._pending) >= MAX_PENDING):
                    self.flush()
                    next_flush = now + self.flush_interval
                if self.counter_interval > 0 and now >= next_counters:
                    self.send_counters()
                    next_counters = now + self.counter_interval
                if deadline is not None and now >= deadline:
                    break
            # drain what the ring holds, whatever the rate: every sample the kernel took is exported
            self.max_rate = None
            while self._sampler.poll(0) != 0:
                self.flush()
            self.flush()
            for itf in self.interfaces:
                self._kernel_stats(itf.ifindex)
        finally:
            self.close()
        return self.stats

    def stop(self) -> None:
        self.stop_event.set()

    # -- export --------------------------------------------------------------------------------------
    def _uptime_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    def _kernel_stats(self, ifindex: int) -> None:
        assert self._sampler is not None  # while the agent runs
        for d in (INGRESS, EGRESS):
            self.stats.kernel[f"{ifindex}/{d}"] = self._sampler.stats(ifindex, d)

    def _pool_at(self, ifindex: int, direction: int, cpu: int, pool: int, drops: int) -> tuple[int, int]:
        """(sample_pool, drops) of the data source when this sample was taken (see the module doc)."""
        key = (ifindex, direction, cpu)
        old_pool, old_drops = self._seen.get(key, (0, 0))
        self._seen[key] = (pool, drops)
        sums = self._sums.setdefault(ifindex, [0, 0])
        sums[0] += pool - old_pool
        sums[1] += drops - old_drops
        return sums[0], sums[1]

    def flush(self) -> None:
        """Encodes pending samples into datagrams of at most MAX_DATAGRAM bytes and sends them."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        batch: list[bytes] = []
        head = 28 if ":" not in self.agent_address else 40  # datagram header with an IPv4 / IPv6 agent
        size = head
        for _ts, cpu_pool, cpu_drops, ifindex, frame_len, rate, _segs, _hlen, direction, cpu, header in pending:
            seq = self._flow_seq.get(ifindex, 0) + 1
            self._flow_seq[ifindex] = seq
            pool, drops = self._pool_at(ifindex, direction, cpu, cpu_pool, cpu_drops)
            inp, outp = (ifindex, 0) if direction == INGRESS else (0, ifindex)
            sample = enc.flow_sample(seq, ifindex, rate, pool, drops, inp, outp,
                                     [enc.raw_header_record(header, frame_len + enc.FCS_LEN)])
            if batch and size + len(sample) > MAX_DATAGRAM:
                self._send(batch)
                batch, size = [], head
            batch.append(sample)
            size += len(sample)
            self.stats.samples += 1
        self._send(batch)

    def send_counters(self) -> None:
        samples = []
        for itf in self.interfaces:
            seq = self._counter_seq.get(itf.ifindex, 0) + 1
            self._counter_seq[itf.ifindex] = seq
            samples.append(enc.counter_sample(seq, itf.ifindex, [enc.generic_counters_record(interface_counters(itf.name, itf.ifindex)),
                                                                 enc.port_name_record(itf.name)]))
        self.stats.counter_samples += len(samples)
        self._send(samples)

    def _send(self, samples: list[bytes]) -> None:
        if not samples:
            return
        self._datagram_seq += 1
        data = enc.datagram(self.agent_address, self.sub_agent, self._datagram_seq, self._uptime_ms(), samples)
        for family, sockaddr in self.collectors:
            sock = self._socks.get(family)
            if sock is None:
                sock = self._socks[family] = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.sendto(data, sockaddr)
            except OSError:
                self.stats.send_errors += 1  # a collector that is down must not stop the agent
        self.stats.datagrams += 1
