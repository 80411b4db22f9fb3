"""Verifier logic on synthetic sample streams: blocked / allowed / via / inconclusive, and early stop."""

from __future__ import annotations

import math
import random
import threading
import time

import pytest

from pipeline.telemetry import sflow_encode as enc
from pipeline.telemetry.collector import Collector
from pipeline.telemetry.errors import TelemetryError
from pipeline.telemetry.verify import BATCH_SECONDS, Outcome, Point, Tally, TrafficExpectation, Verifier, judge, p_unseen, selector

from .test_codec import datagram, udp4

FW = Point("fw1", 3, "egress")


def expectation(expect="blocked", **kw) -> TrafficExpectation:
    return TrafficExpectation(src="198.51.100.0/24", dst="203.0.113.0/24", protocol="udp", dst_port=53, expect=expect,
                              point=FW, **kw)


def sample(dport=53, ifindex=3, egress=True, rate=100, out_if=0, next_hop=None) -> bytes:
    """One flow sample of the UDP flow (or another port) at fw1's `ifindex`, leaving through `out_if` if ingress."""
    records = [enc.raw_header_record(udp4(dport=dport), 64)]
    if next_hop:
        records.append(enc.extended_router_record(next_hop))
    return enc.flow_sample(1, ifindex, rate, 0, 0, 0 if egress else ifindex, ifindex if egress else out_if, records)


def counts(exp: TrafficExpectation, *samples: bytes) -> Tally:
    c = Collector(agents={"fw1": "198.51.100.10"})
    c.ingest(datagram(list(samples)), "198.51.100.10", now=100.2)
    [t], seconds = c.query([selector(exp)], 100.0, 101.0)
    assert seconds == 1.0
    return t


def test_p_unseen_formula_and_cautious_baseline():
    assert p_unseen(10, 5, 100) == pytest.approx((1 - 1 / 100) ** 50)
    # few baseline samples: the conditional test is more cautious than the plug-in estimate
    assert p_unseen(100, 5, 100, baseline_samples=3, baseline_seconds=3) == pytest.approx((3 / 8) ** 3)
    assert p_unseen(0, 5, 100) == 1.0


def test_blocked_passes_only_once_confident_and_stops_early():
    e = expectation(confidence=0.99)
    base = Tally(samples=40, packets=4000, sampling_rate=100)   # 400 pps over 10 s
    window = Tally(sampling_rate=100)
    # 400 pps at 1-in-100: 4 samples/s expected; P(unseen) = 0.99**(400 t) <= 0.01 needs t >= 1.15 s of
    # window beyond the first batch interval (samples arrive in batches, BATCH_SECONDS apart at most)
    t_needed = math.log(0.01) / (400 * math.log(0.99))
    assert judge(e, window, 0.5 + BATCH_SECONDS, base, 10.0, final=False) is None
    v = judge(e, window, 1.3 + BATCH_SECONDS, base, 10.0, final=False)
    assert v.outcome is Outcome.PASS and v.p_unseen <= 0.01 and v.expected_packets == pytest.approx(520)
    assert judge(e, window, t_needed * 0.9 + BATCH_SECONDS, base, 10.0, final=False) is None


def test_absence_is_not_judged_within_one_batch_interval():
    # a busy flow (4,700 pps at 1-in-10) whose samples have not arrived yet, 0.15 s into the window:
    # the agent's next datagram may simply not have been sent; neither verdict may be drawn from silence
    base = Tally(samples=1410, packets=14100, sampling_rate=10)
    for expect in ("allowed", "blocked"):
        assert judge(expectation(expect), Tally(sampling_rate=10), min(0.15, BATCH_SECONDS), base, 3.0, final=False) is None


def test_blocked_fails_on_one_sample_and_allowed_passes_on_one():
    base = Tally(samples=40, packets=4000, sampling_rate=100)
    window = Tally(samples=1, packets=100, sampling_rate=100)
    assert judge(expectation("blocked"), window, 0.1, base, 10.0, final=False).outcome is Outcome.FAIL
    assert judge(expectation("allowed"), window, 0.1, base, 10.0, final=False).outcome is Outcome.PASS


def test_allowed_fails_when_the_flow_should_have_shown():
    base = Tally(samples=40, packets=4000, sampling_rate=100)
    v = judge(expectation("allowed"), Tally(sampling_rate=100), 3.0, base, 10.0, final=False)
    assert v.outcome is Outcome.FAIL


def test_no_traffic_is_inconclusive_never_pass():
    for expect in ("blocked", "allowed"):
        assert judge(expectation(expect), Tally(), 30.0, Tally(), 10.0, final=False) is None
        v = judge(expectation(expect), Tally(), 30.0, Tally(), 10.0, final=True)
        assert v.outcome is Outcome.INCONCLUSIVE and "no traffic" in v.reason
    # too little time for the asked confidence: inconclusive at the deadline
    base = Tally(samples=2, packets=200, sampling_rate=100)
    assert judge(expectation("blocked"), Tally(sampling_rate=100), 0.5, base, 10.0, final=True).outcome is Outcome.INCONCLUSIVE


def test_reference_point_rate_replaces_the_baseline():
    e = expectation(reference=Point("fw1", 2, "ingress"))
    quiet = Tally(sampling_rate=100)
    assert judge(e, quiet, 5.0, None, 0.0, final=True).outcome is Outcome.INCONCLUSIVE
    upstream = Tally(reference_samples=20, reference_packets=2000, sampling_rate=100)
    assert judge(e, upstream, 2.0, None, 0.0, final=False).outcome is Outcome.PASS


def test_selector_counts_the_flow_at_its_point_and_via_the_hop():
    t = counts(expectation("via", via_interface=7), sample(dport=80), sample(ifindex=4), sample(egress=False))
    assert (t.samples, t.sampling_rate) == (0, 100), "other flow, other interface, other direction"
    e2 = TrafficExpectation("198.51.100.0/24", "203.0.113.0/24", "via", Point("fw1", 3, "ingress"), protocol="udp",
                            via_interface=7)
    t2 = counts(e2, sample(egress=False, out_if=7), sample(egress=False, out_if=8))
    assert (t2.samples, t2.via, t2.other, t2.packets) == (2, 1, 1, 200)
    # One sample of two on the hop proves nothing either way: undecided, inconclusive at the deadline.
    assert judge(e2, t2, 1.0, None, 0.0, final=False) is None
    assert judge(e2, t2, 1.0, None, 0.0, final=True).outcome is Outcome.INCONCLUSIVE
    # All of 7 on the hop: P(>= 7 of 7 | share 0.5) = 0.008 <= 0.01, so it passes; 1 of 12 fails.
    assert judge(e2, Tally(samples=7, via=7, sampling_rate=100), 1.0, None, 0.0, final=False).outcome is Outcome.PASS
    assert judge(e2, Tally(samples=6, via=6, sampling_rate=100), 1.0, None, 0.0, final=False) is None
    assert judge(e2, Tally(samples=12, via=1, other=11, sampling_rate=100), 1.0, None, 0.0, final=False).outcome is Outcome.FAIL
    nh = TrafficExpectation("198.51.100.0/24", "203.0.113.0/24", "via", Point("fw1"), via_next_hop="198.51.100.254")
    assert counts(nh, sample(next_hop="198.51.100.254"), sample(next_hop="198.51.100.253")).via == 1
    assert judge(nh, Tally(samples=7, other=7, sampling_rate=100), 1.0, None, 0.0, final=False).outcome is Outcome.FAIL


def test_absence_is_inconclusive_when_the_collector_could_not_keep_every_sample():
    base = Tally(samples=40, packets=4000, sampling_rate=100)
    full = Tally(sampling_rate=100, overflow=3)
    v = judge(expectation("blocked"), full, 5.0, base, 10.0, final=False)
    assert v.outcome is Outcome.INCONCLUSIVE and "were not kept" in v.reason
    assert judge(expectation("blocked"), Tally(sampling_rate=100), 5.0, base, 10.0, final=False).outcome is Outcome.PASS


def test_bad_expectations_are_refused():
    with pytest.raises(TelemetryError):
        expectation("via")
    with pytest.raises(TelemetryError):
        TrafficExpectation("not-a-prefix", "203.0.113.0/24", "allowed", FW)
    with pytest.raises(TelemetryError):
        expectation(confidence=1.0)


def test_verifier_on_a_live_collector_stops_early():
    """A synthetic agent: the flow at 1-in-10, ~300 pps before the change, nothing after."""
    c = Collector(bind=("127.0.0.1", 0), agents={"fw1": "198.51.100.10"}).start()
    stop = threading.Event()
    passing = threading.Event()
    passing.set()
    rng = random.Random(7)

    def agent():
        seq = 0
        while not stop.is_set():
            seq += 1
            samples = []
            if passing.is_set():
                # 300 pps for 20 ms, each packet sampled with probability 1/10
                n = sum(rng.random() < 0.1 for _ in range(6))
                samples = [enc.flow_sample(seq, 3, 10, seq * 6, 0, 0, 3, [enc.raw_header_record(udp4(), 64)])] * n
            c.ingest(datagram(samples, seq=seq), "198.51.100.10")
            time.sleep(0.02)

    th = threading.Thread(target=agent, daemon=True)
    th.start()
    try:
        v = Verifier(c)
        exps = [expectation("blocked", confidence=0.999), expectation("allowed")]
        base = v.baseline(exps, seconds=2.0)
        assert base.tallies[0].samples > 20
        before = v.verify([exps[1]], base, timeout=5, settle=0)
        assert before[0].outcome is Outcome.PASS and before[0].elapsed < 1
        passing.clear()
        t0 = time.time()
        blocked, allowed = v.verify(exps, base, timeout=10, settle=0.2)
        took = time.time() - t0
        assert blocked.outcome is Outcome.PASS, blocked.reason
        assert allowed.outcome is Outcome.FAIL, allowed.reason
        assert took < 5, "should stop as soon as the confidence is reached"
    finally:
        stop.set()
        th.join()
        c.stop()
