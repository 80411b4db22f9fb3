"""Traffic verification of a deploy against a standing collector (production path).

    verifier, hooks, cleanup = standing_verifier(change, inventory, "http://127.0.0.1:9996")
    Deployer(..., Options(verifier=verifier, hooks=hooks)).run(); cleanup()

The collector runs all the time (`netchange collect --api ...`, see docs/collector.md) and the agents
(ours or switches) send to it; nothing here starts or stops them.  Expectations resolve against the
inventory's observation points (`telemetry.points`).  Before the first commit (`after_guard`), passive
expectations take their baseline from the collector's recent history (no waiting when it holds it),
active ones from their probe's test traffic; after the refresh every expectation is judged on what
arrives from then on, and the verdicts are reported back to the collector, which exports them.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..deploy.checks import CheckResult
from .errors import TelemetryError
from .lab_agents import MAX_PPS, MAX_SECONDS, _SENDER, _terminate
from .points import ProbePlan, Resolved, resolve
from .verify import SETTLE_SECONDS, Baseline, Outcome, Verdict, Verifier


class Probes:
    """Bounded test traffic from probe hosts: over SSH, or in a local network namespace (lab)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    @staticmethod
    def command(plan: ProbePlan, pps: float, seconds: float) -> list[str]:
        if not (0 < pps <= MAX_PPS and 0 < seconds <= MAX_SECONDS):
            raise TelemetryError(f"test traffic is bounded: at most {MAX_PPS} packets/s for {MAX_SECONDS:.0f} s")
        if plan.protocol in ("icmp", "icmpv6"):
            v = 6 if plan.protocol == "icmpv6" else 4
            argv = ["ping", f"-{v}", "-q", "-n", "-i", f"{1.0 / pps:.4f}", "-c", str(int(pps * seconds)),
                    "-w", str(int(seconds) + 1), "-I", plan.src, plan.dst]
        else:
            argv = ["python3", "-c", _SENDER, plan.protocol, plan.src, plan.dst, str(plan.port), str(pps), str(seconds)]
        if plan.probe.netns:
            return ["ip", "netns", "exec", plan.probe.netns, *([sys.executable] + argv[1:] if argv[0] == "python3" else argv)]
        assert plan.probe.ssh is not None  # Probe has exactly one of netns and ssh
        return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", plan.probe.ssh, shlex.join(argv)]

    def start(self, plan: ProbePlan, pps: float, seconds: float) -> None:
        self.procs.append(subprocess.Popen(self.command(plan, pps, seconds), stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for p in self.procs:
            _terminate(p, grace=2.0)
        self.procs = []


@dataclass
class StandingVerification:
    change: Any
    inventory: Any
    source: Any                                  # a FlowSource: RemoteCollector or an in-process Collector
    baseline_seconds: float = 5.0
    max_seconds: float = 60.0
    pps: float = 100.0
    allow_inconclusive: bool = False
    progress: Callable[[str], None] | None = None
    resolved: list[Resolved] = field(default_factory=list)
    baseline: Baseline | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolved = resolve(self.change, self.inventory)
        self.probes = Probes()
        if self.resolved:
            self._preflight(self.source.status())  # the collector answers before anything is deployed

    def _preflight(self, status: dict) -> None:
        """Every interface an expectation names is known to the collector (inventory ifindex or learned)."""
        known = status.get("interfaces") or {}
        for r in self.resolved:
            e = r.expectation
            for agent, itf in ((e.point.agent, e.point.interface), (e.point.agent, e.via_interface),
                               (e.reference.agent if e.reference else None, e.reference.interface if e.reference else None)):
                if isinstance(itf, str) and itf not in known.get(agent, {}):
                    raise TelemetryError(f"verify.traffic {r.wanted.name}: the collector does not know {agent}'s interface "
                                         f"{itf} (give its ifindex in the inventory, or wait for the agent's counters)")

    def _say(self, msg: str) -> None:
        if self.progress:
            self.progress(msg)

    def _active(self) -> list[Resolved]:
        return [r for r in self.resolved if r.probe is not None]

    def before_change(self, devices: list[Any]) -> None:
        """`after_guard`: the baseline of every expectation, before anything is committed."""
        if not self.resolved:
            return
        t0 = time.monotonic()
        v = Verifier(self.source)
        passive = [r.expectation for r in self.resolved if r.probe is None]
        active = [r.expectation for r in self._active()]
        tallies: dict = {}
        if passive:
            self._say(f"traffic baseline: {len(passive)} passive check(s) from the collector's last {self.baseline_seconds:.0f} s")
            b = v.baseline(passive, self.baseline_seconds, history=True)
            tallies.update({e: b.tallies[i] for i, e in enumerate(passive)})
        if active:
            self._say(f"traffic baseline: {len(active)} probe(s) for {self.baseline_seconds:.0f} s")
            try:
                for r in self._active():
                    assert r.probe is not None  # _active() keeps those with a probe
                    self.probes.start(r.probe, self.pps, self.baseline_seconds + 1.5)
                time.sleep(0.5)  # first probe packets reach the points and the agents flush
                b = v.baseline(active, self.baseline_seconds, history=False)
            finally:
                self.probes.stop()
            tallies.update({e: b.tallies[i] for i, e in enumerate(active)})
        exps = [r.expectation for r in self.resolved]
        self.baseline = Baseline(exps, {i: tallies[e] for i, e in enumerate(exps)}, self.baseline_seconds)
        self.timings["baseline"] = round(time.monotonic() - t0, 2)

    def verify(self, change: Any, devices: list[Any]) -> list[CheckResult]:
        """The deployer's verifier: every expectation judged on what arrives after the refresh."""
        if not self.resolved:
            return []
        timeout = min(float(change.verify.window_seconds), self.max_seconds)
        self._say(f"traffic verification: {len(self.resolved)} check(s), at most {timeout:.0f} s")
        t0 = time.monotonic()
        try:
            for r in self._active():
                assert r.probe is not None  # _active() keeps those with a probe
                self.probes.start(r.probe, self.pps, min(MAX_SECONDS, timeout + SETTLE_SECONDS + 1.5))
            self.verdicts = Verifier(self.source).verify([r.expectation for r in self.resolved], self.baseline, timeout)
        finally:
            self.probes.stop()
        self.timings["verify"] = round(time.monotonic() - t0, 2)
        self._report()
        return [self._result(r, v, devices) for r, v in zip(self.resolved, self.verdicts)]

    def _report(self) -> None:
        def point(r: Resolved) -> str:
            p = r.expectation.point
            return f"{p.agent}:{p.interface}" if p.interface is not None else p.agent

        checks = [{"name": r.wanted.name, "point": point(r), "outcome": v.outcome.value, "samples": v.samples,
                   "packets": v.counts.packets if v.counts else 0, "bytes": v.counts.bytes if v.counts else 0}
                  for r, v in zip(self.resolved, self.verdicts)]
        try:
            self.source.report({"change": self.change.id, "checks": checks})
        except TelemetryError as e:  # metrics are a view; the verdicts stand without them
            self._say(f"could not report verdicts to the collector: {e}")

    def _result(self, r: Resolved, v: Verdict, devices: list[Any]) -> CheckResult:
        e = r.expectation
        what = f"via {e.via_interface or e.via_next_hop}" if e.expect == "via" else e.expect
        name = f"traffic {r.wanted.name}: {what} at {r.where} ({r.mode}; after {', '.join(d.name for d in devices)})"
        ok = v.outcome is Outcome.PASS or (v.outcome is Outcome.INCONCLUSIVE and self.allow_inconclusive)
        outcome = v.outcome.value + (" (counted as failed)" if v.outcome is Outcome.INCONCLUSIVE and not ok else "")
        c = v.counts
        seen = f"{v.samples} samples" + (f" (~{c.packets:.0f} packets, {c.bytes:.0f} bytes)" if c and c.samples else "")
        parts = [f"{outcome}: {v.reason} after {v.elapsed:.1f} s", f"window: {seen}"]
        if self.baseline is not None:
            b = self.baseline.tallies.get(self.resolved.index(r))
            if b is not None:
                ref = f", {b.reference_samples} at the reference" if b.reference_samples else ""
                parts.append(f"before the change: {b.samples} samples in {self.baseline.seconds:.0f} s{ref}")
        return CheckResult(name, ok, " | ".join(parts))

    def close(self) -> None:
        self.probes.stop()


def standing_verifier(change, inventory, source, *, allow_inconclusive: bool = False,
                      progress: Callable[[str], None] | None = None, **session: Any):
    """(Options.verifier, Options.hooks, cleanup) for a deploy verified by a standing collector: `source` is
    its API URL (or a flow source object).  Raises TelemetryError before anything is deployed when an
    expectation cannot be resolved or the collector does not answer."""
    if isinstance(source, str):
        from .api import RemoteCollector

        source = RemoteCollector(source)
    sv = StandingVerification(change, inventory, source, allow_inconclusive=allow_inconclusive, progress=progress, **session)
    return sv.verify, {"after_guard": sv.before_change}, sv.close
