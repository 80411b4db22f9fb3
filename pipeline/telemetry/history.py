"""Recent flow aggregates in time buckets, of fixed total size: what a deploy asks the collector about.

Each bucket (`resolution` seconds of arrival time) maps a flow key to [samples, packets, bytes, rate]
(packets and bytes estimated: each sample stands for `rate` packets).  The key is where the sample was
taken and what it was:

    (agent, source index, direction, src, dst, protocol, src port, dst port, output ifindex, next hop, detail)

`detail` is what a firewall term may also match on: the TCP flags byte for TCP, type * 256 + code for ICMP
and ICMPv6 (NetFlow's convention), None for other protocols or where the receiver did not decode it.

src/dst are packed address bytes (4 or 16) as they came off the wire; they become text only when a
query or a report needs them.  The total number of entries over all buckets is bounded (`max_entries`):
when full, the oldest buckets go first (counted as evictions, the history gets shorter); when the current
bucket alone is full, new flows are not kept but their samples are counted as overflow per agent, so a
verdict that rests on "no sample" can tell that it cannot be sure.  Buckets older than `max_age` go too.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

INGRESS, EGRESS = "ingress", "egress"
_DIRECTIONS = (None, INGRESS, EGRESS)


def text_address(raw: bytes | str | None) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    if len(raw) == 16:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return None


@dataclass(slots=True)
class Bucket:
    start: float
    flows: dict = field(default_factory=dict)       # key -> [samples, packets, bytes, rate]
    overflow: dict = field(default_factory=dict)    # agent -> samples not kept (bucket full)


@dataclass
class Selector:
    """One question: which samples of a flow at a point (and at an optional reference point), and how
    many of them left through the `via` hop."""

    agent: str
    src: str                               # prefix
    dst: str
    ifindex: int | str | None = None       # an interface name until Collector.query resolves it
    direction: str | None = None
    protocol: int | None = None
    dst_port: int | None = None
    src_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    tcp_flags_mask: int = 0           # TCP segments whose flags & mask == value (0: any)
    tcp_flags_value: int = 0
    via_ifindex: int | str | None = None   # an interface name until Collector.query resolves it
    via_next_hop: str | None = None
    ref_agent: str | None = None
    ref_ifindex: int | str | None = None
    ref_direction: str | None = None

    def __post_init__(self) -> None:
        self._src = ipaddress.ip_network(self.src, strict=False)
        self._dst = ipaddress.ip_network(self.dst, strict=False)
        self._flow_cache: dict[tuple, bool] = {}

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def at(self, agent: str, ifindex: int, direction: str | None) -> bool:
        return agent == self.agent and (self.ifindex is None or ifindex == self.ifindex) \
            and (self.direction is None or direction == self.direction)

    def at_reference(self, agent: str, ifindex: int, direction: str | None) -> bool:
        return self.ref_agent is not None and agent == self.ref_agent \
            and (self.ref_ifindex is None or ifindex == self.ref_ifindex) \
            and (self.ref_direction is None or direction == self.ref_direction)

    @property
    def needs_detail(self) -> bool:
        return bool(self.tcp_flags_mask) or self.icmp_type is not None

    def flow(self, src, dst, protocol, dst_port, src_port=None) -> bool:
        ck = (src, dst, protocol, dst_port, src_port)
        hit = self._flow_cache.get(ck)
        if hit is None:
            hit = self._match_flow(src, dst, protocol, dst_port, src_port)
            if len(self._flow_cache) > 50_000:
                self._flow_cache.clear()
            self._flow_cache[ck] = hit
        return hit

    def detail(self, detail: int | None) -> bool | None:
        """Do the sample's TCP flags / ICMP type and code match (None: the receiver did not decode them)?"""
        if not self.needs_detail:
            return True
        if detail is None:
            return None
        if self.tcp_flags_mask:
            return detail & self.tcp_flags_mask == self.tcp_flags_value
        return detail >> 8 == self.icmp_type and (self.icmp_code is None or detail & 0xFF == self.icmp_code)

    def _match_flow(self, src, dst, protocol, dst_port, src_port=None) -> bool:
        if src is None or dst is None:
            return False
        if self.protocol is not None and protocol != self.protocol:
            return False
        if self.dst_port is not None and dst_port != self.dst_port:
            return False
        if self.src_port is not None and src_port != self.src_port:
            return False
        try:
            return ipaddress.ip_address(text_address(src) or "") in self._src and ipaddress.ip_address(text_address(dst) or "") in self._dst
        except ValueError:
            return False

    def via(self, ifindex: int, direction: str | None, output_if: int, next_hop) -> bool:
        if self.via_next_hop is not None and text_address(next_hop) == self.via_next_hop:
            return True
        if self.via_ifindex is not None:
            if output_if == self.via_ifindex or (direction == EGRESS and ifindex == self.via_ifindex):
                return True
        return False


@dataclass
class Count:
    """What one selector saw in a time range."""

    samples: int = 0                 # matching samples at the point
    packets: float = 0.0             # estimated
    bytes: float = 0.0
    via: int = 0
    other: int = 0
    reference_samples: int = 0
    reference_packets: float = 0.0
    sampling_rate: int = 0           # latest rate seen at the point (any flow)
    overflow: int = 0                # samples at the point's agent that were not kept (table full)
    undecoded: int = 0               # samples of the flow whose TCP flags / ICMP type the receiver did not give

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class FlowHistory:
    def __init__(self, max_entries: int = 100_000, resolution: float = 1.0, max_age: float = 900.0,
                 on_evict: Callable[[int], None] | None = None, on_overflow: Callable[[], None] | None = None):
        self.max_entries, self.resolution, self.max_age = max_entries, resolution, max_age
        self._on_evict, self._on_overflow = on_evict, on_overflow
        self.buckets: deque[Bucket] = deque()
        self.entries = 0
        self.evictions = 0          # entries dropped with their (oldest) bucket
        self.overflow = 0           # samples not kept because the current bucket alone filled the table
        self.lock = threading.Lock()

    # -- writing (the collector holds `lock`) --------------------------------------------------------
    def bucket(self, t: float) -> Bucket:
        """The bucket a sample arriving at `t` goes to (a late sample goes to the newest bucket)."""
        bs = self.buckets
        if bs and t < bs[-1].start + self.resolution:
            return bs[-1]
        b = Bucket(t - t % self.resolution)
        bs.append(b)
        while bs and bs[0].start < b.start - self.max_age:
            self._drop_oldest()
        return b

    def _drop_oldest(self) -> None:
        old = self.buckets.popleft()
        self.entries -= len(old.flows)
        self.evictions += len(old.flows)
        if self._on_evict is not None and old.flows:
            self._on_evict(len(old.flows))

    def add(self, b: Bucket, agent: str, key: tuple, rate: int, frame_length: int) -> None:
        flows = b.flows
        v = flows.get(key)
        if v is not None:
            v[0] += 1
            v[1] += rate
            v[2] += rate * frame_length
            v[3] = rate
            return
        if self.entries >= self.max_entries and not self.make_room(b):
            b.overflow[agent] = b.overflow.get(agent, 0) + 1
            self.overflow += 1
            if self._on_overflow is not None:
                self._on_overflow()
            return
        flows[key] = [1, rate, rate * frame_length, rate]
        self.entries += 1

    def add_many(self, b: Bucket, agent: str, key: tuple, samples: int, packets: int, nbytes: int, rate: int) -> None:
        """`add` for `samples` samples of one key at once (the C path aggregates before it comes here)."""
        flows = b.flows
        v = flows.get(key)
        if v is not None:
            v[0] += samples
            v[1] += packets
            v[2] += nbytes
            v[3] = rate
            return
        if self.entries >= self.max_entries and not self.make_room(b):
            b.overflow[agent] = b.overflow.get(agent, 0) + samples
            self.overflow += samples
            if self._on_overflow is not None:
                for _ in range(samples):
                    self._on_overflow()
            return
        flows[key] = [samples, packets, nbytes, rate]
        self.entries += 1

    def make_room(self, current: Bucket) -> bool:
        while self.entries >= self.max_entries and len(self.buckets) > 1 and self.buckets[0] is not current:
            self._drop_oldest()
        return self.entries < self.max_entries

    # -- reading -------------------------------------------------------------------------------------
    def span(self) -> tuple[float, float] | None:
        with self.lock:
            if not self.buckets:
                return None
            return self.buckets[0].start, self.buckets[-1].start + self.resolution

    def query(self, selectors: list[Selector], since: float, until: float | None = None) -> tuple[list[Count], float]:
        """(a Count per selector over the buckets that start at or after `since` (rounded up to a bucket
        boundary) and before `until`, the seconds from that boundary to `until` (or the newest bucket's end))."""
        counts = [Count() for _ in selectors]
        res = self.resolution
        window_start = math.ceil(since / res - 1e-9) * res
        with self.lock:
            buckets = [b for b in self.buckets if b.start >= window_start - 1e-9 and (until is None or b.start < until)]
            snapshot = [(list(b.flows.items()), dict(b.overflow)) for b in buckets]
            newest = self.buckets[-1].start + res if self.buckets else window_start
        for items, overflow in snapshot:
            for i, sel in enumerate(selectors):
                c = counts[i]
                c.overflow += overflow.get(sel.agent, 0)
                for key, (samples, packets, nbytes, rate) in items:
                    agent, index, direction, src, dst, proto, sport, dport, out_if, nh, detail = key
                    at_point = sel.at(agent, index, direction)
                    if at_point:
                        c.sampling_rate = rate or c.sampling_rate
                    if not (at_point or sel.ref_agent == agent) or not sel.flow(src, dst, proto, dport, sport):
                        continue
                    fits = sel.detail(detail)
                    if not fits:
                        if fits is None and at_point:
                            c.undecoded += samples
                        continue
                    if sel.at_reference(agent, index, direction):
                        c.reference_samples += samples
                        c.reference_packets += packets
                    if at_point:
                        c.samples += samples
                        c.packets += packets
                        c.bytes += nbytes
                        if sel.via_ifindex is not None or sel.via_next_hop is not None:
                            if sel.via(index, direction, out_if, nh):
                                c.via += samples
                            else:
                                c.other += samples
        end = until if until is not None else newest
        return counts, max(0.0, end - window_start)

    def totals(self, group: Callable[[tuple], tuple | None]) -> dict[tuple, list]:
        """Sum [samples, packets, bytes, rate] over all buckets per group(key) (None: skipped)."""
        out: dict[tuple, list] = {}
        with self.lock:
            for b in self.buckets:
                for key, v in b.flows.items():
                    g = group(key)
                    if g is None:
                        continue
                    t = out.get(g)
                    if t is None:
                        out[g] = [v[0], v[1], v[2], v[3], b.start, b.start + self.resolution]
                    else:
                        t[0] += v[0]
                        t[1] += v[1]
                        t[2] += v[2]
                        t[3] = v[3]
                        t[5] = b.start + self.resolution
        return out


def direction_of(source_index: int, input_format: int, input_if: int, output_format: int, output_if: int) -> str | None:
    if input_format == 0 and input_if == source_index:
        return INGRESS
    if output_format == 0 and output_if == source_index:
        return EGRESS
    return None


def selectors_from(rows: Iterable[dict]) -> list[Selector]:
    return [Selector(**row) for row in rows]
