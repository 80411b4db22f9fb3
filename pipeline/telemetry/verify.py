"""Statistical verdicts on traffic expectations from sampled flows.

With 1-in-N sampling, a flow that still passes at the rate seen before the change (lambda packets/s) leaves
no sample in t seconds with probability (1 - 1/N) ** (lambda * t).  Once that falls to 1 - confidence
without a sample, "blocked" passes (and "allowed" fails); one sample decides the other way at once.  The
rate lambda is itself estimated from k baseline samples over T seconds, so we also take the exact
conditional test (T / (T + t)) ** k (Poisson counts, same intensity before and after) and use the larger,
i.e. the more cautious, of the two.  No traffic to judge gives "inconclusive", never "pass".
"""

from __future__ import annotations

import math

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from .collector import Collector, Observation
from .errors import TelemetryError
from .packet import PROTOCOLS

SETTLE_SECONDS = 1.0   # samples taken before the change may still be in flight (agent flush + network)
BATCH_SECONDS = 0.5    # agents send samples in batches (flush interval): a shorter window may see none of a passing flow
VIA_MIN_SHARE = 0.5    # "via" fails once we are confident less than this share of the flow takes the hop


@dataclass(frozen=True)
class Point:
    """Where to look: an agent, optionally one of its interfaces (name or ifindex) and a direction."""

    agent: str
    interface: str | int | None = None
    direction: Literal["ingress", "egress"] | None = None


@dataclass(frozen=True)
class TrafficExpectation:
    src: str                                   # prefix or address
    dst: str
    expect: Literal["allowed", "blocked", "via"]
    point: Point
    protocol: str | int | None = None          # tcp, udp, icmp, icmpv6 or a number; None: any
    dst_port: int | None = None
    via_interface: str | int | None = None
    via_next_hop: str | None = None
    confidence: float = 0.99
    reference: Point | None = None             # optional upstream point: its live rate replaces the baseline
    name: str = ""

    def __post_init__(self) -> None:
        if self.expect not in ("allowed", "blocked", "via"):
            raise TelemetryError(f"expect must be allowed, blocked or via, not {self.expect!r}")
        if self.expect == "via" and self.via_interface is None and self.via_next_hop is None:
            raise TelemetryError("expect: via needs via_interface or via_next_hop")
        if not 0.5 < self.confidence < 1:
            raise TelemetryError("confidence must be between 0.5 and 1 (exclusive)")
        for p in (self.src, self.dst):
            try:
                ipaddress.ip_network(p, strict=False)
            except ValueError:
                raise TelemetryError(f"{p!r} is not a prefix or address") from None
        if isinstance(self.protocol, str) and self.protocol.lower() not in PROTOCOLS:
            raise TelemetryError(f"unknown protocol {self.protocol!r}")

    @property
    def label(self) -> str:
        return self.name or f"{self.src}->{self.dst} {self.protocol or 'any'}{'/' + str(self.dst_port) if self.dst_port else ''} {self.expect}"


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass
class Verdict:
    expectation: TrafficExpectation
    outcome: Outcome
    reason: str
    samples: int = 0                 # matching samples at the point during the window
    expected_packets: float = 0.0    # packets the flow would have sent during the window at the reference rate
    p_unseen: float = 1.0            # P(no sample in the window | the flow still passes the point)
    elapsed: float = 0.0


@dataclass
class Tally:
    """Matching samples in one phase (baseline or window)."""

    samples: int = 0
    packets: float = 0.0             # estimated: sum of sampling rates
    via: int = 0
    other: int = 0
    reference_samples: int = 0
    reference_packets: float = 0.0
    sampling_rate: int = 0           # latest rate seen at the point (any flow)


def p_unseen(rate_pps: float, seconds: float, sampling_rate: int, baseline_samples: int = 0,
             baseline_seconds: float = 0.0) -> float:
    """P(no sample in `seconds` | the flow passes at rate_pps, sampled 1-in-N)."""
    if rate_pps <= 0 or seconds <= 0 or sampling_rate < 1:
        return 1.0
    p = (1.0 - 1.0 / sampling_rate) ** (rate_pps * seconds)
    if baseline_samples > 0 and baseline_seconds > 0:
        p = max(p, (baseline_seconds / (baseline_seconds + seconds)) ** baseline_samples)
    return p


class Matcher:
    """Decides whether an observation belongs to an expectation's flow, at its point or its reference."""

    def __init__(self, exp: TrafficExpectation, collector: Collector | None = None):
        self.exp = exp
        self.src = ipaddress.ip_network(exp.src, strict=False)
        self.dst = ipaddress.ip_network(exp.dst, strict=False)
        self.proto = PROTOCOLS[exp.protocol.lower()] if isinstance(exp.protocol, str) else exp.protocol
        resolve = (lambda agent, i: collector.ifindex(agent, i)) if collector else (lambda agent, i: int(i))
        self.point_if = None if exp.point.interface is None else resolve(exp.point.agent, exp.point.interface)
        self.ref_if = None
        if exp.reference is not None and exp.reference.interface is not None:
            self.ref_if = resolve(exp.reference.agent, exp.reference.interface)
        self.via_if = None if exp.via_interface is None else resolve(exp.point.agent, exp.via_interface)
        self.via_nh = None if exp.via_next_hop is None else str(ipaddress.ip_address(exp.via_next_hop))

    @staticmethod
    def _at(obs: Observation, point: Point, ifindex: int | None) -> bool:
        return (obs.agent == point.agent and (ifindex is None or obs.ifindex == ifindex)
                and (point.direction is None or obs.direction == point.direction))

    def at_point(self, obs: Observation) -> bool:
        return self._at(obs, self.exp.point, self.point_if)

    def at_reference(self, obs: Observation) -> bool:
        return self.exp.reference is not None and self._at(obs, self.exp.reference, self.ref_if)

    def flow(self, obs: Observation) -> bool:
        p = obs.sample.packet
        if p is None or p.src is None or p.dst is None:
            return False
        if self.proto is not None and p.protocol != self.proto:
            return False
        if self.exp.dst_port is not None and p.dst_port != self.exp.dst_port:
            return False
        try:
            return ipaddress.ip_address(p.src) in self.src and ipaddress.ip_address(p.dst) in self.dst
        except ValueError:
            return False

    def via(self, obs: Observation) -> bool:
        fs = obs.sample
        if self.via_nh is not None and fs.next_hop == self.via_nh:
            return True
        if self.via_if is not None:
            if fs.output_format == 0 and fs.output_if == self.via_if:
                return True
            if fs.direction == "egress" and fs.source_index == self.via_if:
                return True
        return False

    def add(self, obs: Observation, tally: Tally) -> None:
        at_point = self.at_point(obs)
        if at_point:
            tally.sampling_rate = obs.sample.sampling_rate or tally.sampling_rate
        if not self.flow(obs):
            return
        rate = obs.sample.sampling_rate or 1
        if self.at_reference(obs):
            tally.reference_samples += 1
            tally.reference_packets += rate
        if at_point:
            tally.samples += 1
            tally.packets += rate
            if self.exp.expect == "via":
                if self.via(obs):
                    tally.via += 1
                else:
                    tally.other += 1


def judge(exp: TrafficExpectation, window: Tally, elapsed: float, baseline: Tally | None, baseline_seconds: float,
          final: bool) -> Verdict | None:
    """The verdict after `elapsed` seconds of window, or None while undecided (always decides when final)."""
    alpha = 1.0 - exp.confidence
    judged = max(0.0, elapsed - BATCH_SECONDS)  # the stretch of the window that absence of samples can count on
    n = window.sampling_rate or (baseline.sampling_rate if baseline else 0)
    if exp.reference is not None:
        # live upstream rate: what the flow offered during the window
        k_ref = window.reference_samples
        rate_pps = window.reference_packets / elapsed if elapsed > 0 else 0.0
        p = p_unseen(rate_pps, judged, n) if k_ref else 1.0
        source = f"{k_ref} samples at the reference point"
    else:
        k_ref = baseline.samples if baseline else 0
        rate_pps = baseline.packets / baseline_seconds if baseline and baseline_seconds > 0 else 0.0
        p = p_unseen(rate_pps, judged, n, k_ref, baseline_seconds)
        source = f"{k_ref} samples in {baseline_seconds:.0f} s before the change"
    expected = rate_pps * judged

    def verdict(outcome: Outcome, reason: str) -> Verdict:
        return Verdict(exp, outcome, reason, window.samples, expected, p, elapsed)

    if exp.expect in ("allowed", "blocked"):
        seen = window.samples > 0
        if seen:
            ok = exp.expect == "allowed"
            return verdict(Outcome.PASS if ok else Outcome.FAIL,
                           f"{window.samples} samples of the flow at the point ({'passing' if ok else 'still passing'})")
        if k_ref == 0:
            if final:
                return verdict(Outcome.INCONCLUSIVE, f"no traffic to judge: {source}, none after")
            return None
        if p <= alpha:
            ok = exp.expect == "blocked"
            return verdict(Outcome.PASS if ok else Outcome.FAIL,
                           f"no sample where {expected:.0f} packets were expected at 1-in-{n} "
                           f"(P(unseen | passing) = {p:.2g} <= {alpha:.2g}; {source})")
        if final:
            return verdict(Outcome.INCONCLUSIVE, f"no sample yet, but P(unseen | passing) = {p:.2g} > {alpha:.2g} ({source})")
        return None

    # via: a one-sided binomial test of "at least VIA_MIN_SHARE of the flow takes the hop" (one stray
    # sample on the hop, e.g. while a route settles, proves nothing; all samples elsewhere disprove it)
    total = window.via + window.other
    if total and binom_tail_ge(window.via, total, VIA_MIN_SHARE) <= alpha:
        return verdict(Outcome.PASS, f"{window.via} of {total} samples of the flow take the hop")
    if total and binom_tail_le(window.via, total, VIA_MIN_SHARE) <= alpha:
        return verdict(Outcome.FAIL, f"only {window.via} of {total} samples of the flow take the hop")
    if window.samples == 0 and k_ref > 0 and p <= alpha:
        return verdict(Outcome.FAIL, f"the flow no longer shows at the point (P(unseen | passing) = {p:.2g}; {source})")
    if final:
        why = "no traffic to judge" if window.samples == 0 else f"{window.via} of {total} samples via the hop: not enough to decide"
        return verdict(Outcome.INCONCLUSIVE, why)
    return None


def binom_tail_ge(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def binom_tail_le(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(0, k + 1))


class Verifier:
    """Measures a baseline before a change and judges expectations after it, on a running Collector."""

    def __init__(self, collector: Collector):
        self.collector = collector

    def _collect(self, exps: list[TrafficExpectation], seconds: float, settle: float,
                 baseline: dict[int, Tally] | None, baseline_seconds: float) -> tuple[dict[int, Tally], dict[int, Verdict], float]:
        matchers = [Matcher(e, self.collector) for e in exps]
        tallies = {i: Tally() for i in range(len(exps))}
        verdicts: dict[int, Verdict] = {}
        lock = threading.Lock()
        start = time.time() + settle

        def listen(obs: Observation) -> None:
            if obs.time < start:
                return
            with lock:
                for i, m in enumerate(matchers):
                    if i not in verdicts:
                        m.add(obs, tallies[i])

        unsubscribe = self.collector.subscribe(listen)
        try:
            deadline = start + seconds
            while True:
                now = time.time()
                final = now >= deadline
                if baseline is not None and now >= start:
                    with lock:
                        for i, e in enumerate(exps):
                            if i not in verdicts:
                                v = judge(e, tallies[i], now - start, baseline.get(i), baseline_seconds, final)
                                if v is not None:
                                    verdicts[i] = v
                    if len(verdicts) == len(exps):
                        break
                if final:
                    break
                time.sleep(0.05)
        finally:
            unsubscribe()
        return tallies, verdicts, max(0.0, time.time() - start)

    def baseline(self, expectations: list[TrafficExpectation], seconds: float = 10.0) -> "Baseline":
        """Counts each expectation's flow at its point for `seconds` (run this before the change)."""
        tallies, _, took = self._collect(expectations, seconds, 0.0, None, 0.0)
        return Baseline(list(expectations), tallies, took)

    def verify(self, expectations: list[TrafficExpectation], baseline: "Baseline | None" = None, timeout: float = 30.0,
               settle: float = SETTLE_SECONDS) -> list[Verdict]:
        """Judges every expectation, stopping as soon as all are decided or at `timeout` seconds."""
        base = {}
        base_seconds = 0.0
        if baseline is not None:
            index = {e: i for i, e in enumerate(baseline.expectations)}
            base = {i: baseline.tallies[index[e]] for i, e in enumerate(expectations) if e in index}
            base_seconds = baseline.seconds
        _, verdicts, _ = self._collect(expectations, timeout, settle, base, base_seconds)
        return [verdicts[i] for i in range(len(expectations))]


@dataclass
class Baseline:
    expectations: list[TrafficExpectation]
    tallies: dict[int, Tally] = field(default_factory=dict)
    seconds: float = 0.0
