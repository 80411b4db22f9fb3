"""Statistical verdicts on traffic expectations from sampled flows.

With 1-in-N sampling, a flow that still passes at the rate seen before the change (lambda packets/s) leaves
no sample in t seconds with probability (1 - 1/N) ** (lambda * t).  Once that falls to 1 - confidence
without a sample, "blocked" passes (and "allowed" fails); one sample decides the other way at once.  The
rate lambda is itself estimated from k baseline samples over T seconds, so we also take the exact
conditional test (T / (T + t)) ** k (Poisson counts, same intensity before and after) and use the larger,
i.e. the more cautious, of the two.  No traffic to judge gives "inconclusive", never "pass"; neither
does absence while the collector's history was full at the point's agent (samples it could not keep).

The Verifier asks a flow source for counts over time ranges (`FlowSource.query`): the in-process
Collector, or a standing collector over its HTTP API (`telemetry.api.RemoteCollector`); several deploys
may ask at once.
"""

from __future__ import annotations

import math

import ipaddress
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol

from .errors import TelemetryError
from .history import Count, Selector
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
    src_port: int | None = None
    icmp_type: int | None = None               # ICMP / ICMPv6 messages of this type (and code) only
    icmp_code: int | None = None
    tcp_flags_mask: int = 0                    # TCP segments whose flags & mask == value only (0: any)
    tcp_flags_value: int = 0
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
    counts: Count | None = None      # what the window held (samples, estimated packets and bytes, ...)


Tally = Count  # matching samples in one phase (baseline or window)


def p_unseen(rate_pps: float, seconds: float, sampling_rate: int, baseline_samples: int = 0,
             baseline_seconds: float = 0.0) -> float:
    """P(no sample in `seconds` | the flow passes at rate_pps, sampled 1-in-N)."""
    if rate_pps <= 0 or seconds <= 0 or sampling_rate < 1:
        return 1.0
    p = (1.0 - 1.0 / sampling_rate) ** (rate_pps * seconds)
    if baseline_samples > 0 and baseline_seconds > 0:
        p = max(p, (baseline_seconds / (baseline_seconds + seconds)) ** baseline_samples)
    return p


def detail_of(w) -> dict:
    """The TrafficExpectation fields a change's `verify.traffic` entry `w` (model.verify) adds beyond the flow's
    addresses, protocol and destination port: its source port, ICMP type and code, TCP flags."""
    out: dict = {}
    if w.source_port is not None:
        out["src_port"] = w.source_port.lo
    if w.icmp_type is not None:
        out["icmp_type"], out["icmp_code"] = w.icmp_type_number, w.icmp_code
    if w.tcp_flags is not None:
        out["tcp_flags_mask"], out["tcp_flags_value"] = w.tcp_flags.mask, w.tcp_flags.value
    return out


def selector(exp: TrafficExpectation) -> Selector:
    """What to ask the flow source for one expectation (interfaces by name are resolved there)."""
    proto = PROTOCOLS[exp.protocol.lower()] if isinstance(exp.protocol, str) else exp.protocol
    ref = exp.reference
    return Selector(agent=exp.point.agent, src=exp.src, dst=exp.dst, ifindex=exp.point.interface,
                    direction=exp.point.direction, protocol=proto, dst_port=exp.dst_port, src_port=exp.src_port,
                    icmp_type=exp.icmp_type, icmp_code=exp.icmp_code, tcp_flags_mask=exp.tcp_flags_mask,
                    tcp_flags_value=exp.tcp_flags_value,
                    via_ifindex=exp.via_interface, via_next_hop=exp.via_next_hop,
                    ref_agent=ref.agent if ref else None, ref_ifindex=ref.interface if ref else None,
                    ref_direction=ref.direction if ref else None)


class FlowSource(Protocol):
    def now(self) -> float: ...

    def query(self, selectors: list[Selector], since: float, until: float | None = None) -> tuple[list[Count], float]: ...


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
        return Verdict(exp, outcome, reason, window.samples, expected, p, elapsed, window)

    def absent(outcome: Outcome, reason: str) -> Verdict:
        """A verdict drawn from absence holds only if the collector kept every sample at the agent, and could
        tell the flow's samples apart (TCP flags, ICMP types: a receiver may not give them)."""
        if window.overflow:
            return verdict(Outcome.INCONCLUSIVE, f"{window.overflow} samples at {exp.point.agent} were not kept "
                                                 f"(collector history full): cannot conclude from absence; {reason}")
        if window.undecoded:
            return verdict(Outcome.INCONCLUSIVE, f"{window.undecoded} samples of the flow came without their TCP "
                                                 f"flags / ICMP type (the receiver does not decode them): cannot "
                                                 f"conclude from absence; {reason}")
        return verdict(outcome, reason)

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
            return absent(Outcome.PASS if ok else Outcome.FAIL,
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
        return absent(Outcome.FAIL, f"the flow no longer shows at the point (P(unseen | passing) = {p:.2g}; {source})")
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
    """Measures a baseline before a change and judges expectations after it, on a flow source."""

    POLL = 0.1

    def __init__(self, source: FlowSource):
        self.source = source

    def baseline(self, expectations: list[TrafficExpectation], seconds: float = 10.0, history: bool = True) -> "Baseline":
        """Counts each expectation's flow at its point over `seconds`: the last `seconds` of the source's
        history when it holds them (a standing collector), else from now on (waits)."""
        sels = [selector(e) for e in expectations]
        complete = getattr(self.source, "complete", self.source.now)
        now = complete()
        since = now - seconds
        span = getattr(self.source, "span", lambda: None)() if history else None
        if span is None or span[0] > since:
            since = self.source.now()
            while complete() < since + seconds:  # the source holds the whole stretch before it is counted
                if self.source.now() > since + seconds + MAX_LAG:
                    raise TelemetryError(f"the collector's history is not complete past {complete():.0f} "
                                         f"(its receiver lags more than {MAX_LAG:.0f} s)")
                time.sleep(self.POLL)
        counts, took = self.source.query(sels, since, since + seconds)
        return Baseline(list(expectations), dict(enumerate(counts)), took)

    def verify(self, expectations: list[TrafficExpectation], baseline: "Baseline | None" = None, timeout: float = 30.0,
               settle: float = SETTLE_SECONDS) -> list[Verdict]:
        """Judges every expectation on what arrives from `settle` seconds on, stopping as soon as all are
        decided or at `timeout` seconds."""
        base: dict[int, Count] = {}
        base_seconds = 0.0
        if baseline is not None:
            index = {e: i for i, e in enumerate(baseline.expectations)}
            base = {i: baseline.tallies[index[e]] for i, e in enumerate(expectations) if e in index}
            base_seconds = baseline.seconds
        sels = [selector(e) for e in expectations]
        start = self.source.now() + settle
        deadline = start + timeout
        verdicts: dict[int, Verdict] = {}
        complete = getattr(self.source, "complete", self.source.now)
        while len(verdicts) < len(expectations):
            now = complete()  # judge only what the source holds completely (behind the clock with sfacctd)
            lagging = self.source.now() > deadline + MAX_LAG
            if now < start and not lagging:
                time.sleep(self.POLL)
                continue
            final = now >= deadline or lagging
            counts, seconds = self.source.query(sels, start, max(now, start))
            for i, e in enumerate(expectations):
                if i not in verdicts:
                    v = judge(e, counts[i], seconds, base.get(i), base_seconds, final)
                    if v is not None:
                        verdicts[i] = v
            if final:
                break
            time.sleep(self.POLL)
        return [verdicts[i] for i in range(len(expectations))]


MAX_LAG = 10.0  # seconds the collector's history may stay incomplete behind its clock before we give up


@dataclass
class Baseline:
    expectations: list[TrafficExpectation]
    tallies: dict[int, Tally] = field(default_factory=dict)
    seconds: float = 0.0
