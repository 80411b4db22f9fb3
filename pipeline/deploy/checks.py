"""Guards before, confirmations during and checks after a deploy, per device, through its driver's observer
(drivers/observers/). A question the platform's output cannot answer is reported as not observable there,
never passed silently."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..drivers.observers.base import Counters, Observer, Session
from ..model.change import ChangeRequest
from ..model.policy import DevicePolicy
from ..plan.impact import evaluate


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Baseline:
    sessions: dict[tuple[str, str], Session] = field(default_factory=dict)


def precheck_sessions(obs: Observer, expected: list[tuple[str, str]]) -> tuple[Baseline, list[CheckResult]]:
    """Every inventory neighbor x afi must be Established before anything is sent."""
    sessions = obs.sessions()
    results = []
    for key in expected:
        if key[1] not in obs.families:
            results.append(CheckResult(f"session {key[0]} {key[1]} established", True,
                                       f"not observable on {obs.platform} ({key[1]} sessions are not read there)"))
            continue
        s = sessions.get(key)
        results.append(CheckResult(f"session {key[0]} {key[1]} established", s is not None and s.up,
                                   f"state {s.state if s else 'missing'}, {s.accepted if s else 0} prefixes accepted"))
    return Baseline(sessions), results


def postcheck_sessions(obs: Observer, baseline: Baseline, max_loss: float, settle: float = 5.0) -> list[CheckResult]:
    """Sessions still Established; no session lost more than `max_loss` of its accepted prefixes."""
    deadline = time.monotonic() + settle
    while True:
        now = obs.sessions()
        results = []
        for key, before in baseline.sessions.items():
            if not before.up:
                continue
            after = now.get(key, Session("missing"))
            results.append(CheckResult(f"session {key[0]} {key[1]} still established", after.up, f"state {after.state}"))
            b, a = before.accepted, after.accepted
            loss = (b - a) / b if b else 0.0
            results.append(CheckResult(f"prefixes from {key[0]} {key[1]}", loss <= max_loss,
                                       f"{b} -> {a} accepted ({loss:.0%} lost, limit {max_loss:.0%})"))
        if all(r.ok for r in results) or time.monotonic() > deadline:
            return results
        time.sleep(0.5)


def route_expectations(obs: Observer, change: ChangeRequest, device: str, deadline: float = 0.0,
                       poll: float = 0.1) -> list[CheckResult]:
    """Each expectation judged against a converged table: read until every expectation holds or `deadline`
    seconds passed (bgpd applies a refreshed policy some 0.1-0.7 s after the command returns: one read
    right after it can see the old attributes). The detail says how long it took."""
    wanted = [e for e in change.verify.routes if e.device == device]
    if not wanted:
        return []
    t0 = time.monotonic()
    while True:
        out = [_judge_route(obs, exp, device) for exp in wanted]
        waited = time.monotonic() - t0
        if all(r.ok for r in out) or waited > deadline or any(r.detail.startswith("not observable") for r in out):
            when = f"held after {waited:.2f} s" if all(r.ok for r in out) else f"still failing after {waited:.2f} s"
            return [CheckResult(r.name, r.ok, f"{r.detail} ({when})") for r in out]
        time.sleep(poll)


def _judge_route(obs: Observer, exp, device: str) -> CheckResult:
    name = f"route {exp.prefix} {exp.expect} on {device}"
    if "route" not in obs.answers or f"ipv{exp.prefix.version}" not in obs.route_families:
        # an expectation nobody can check fails: it was asked for (the guard refuses it before any commit)
        return CheckResult(name, False, f"not observable on {obs.platform}: its BGP paths are not read")
    r = obs.route(str(exp.prefix))
    if exp.expect == "absent":
        return CheckResult(name, r is None, "absent" if r is None else f"present via {r.next_hop}")
    if r is None:
        return CheckResult(name, False, "not in the BGP table")
    bad = []
    a = exp.attributes
    if a:
        if a.local_preference is not None and r.local_pref != a.local_preference:
            bad.append(f"local-preference {r.local_pref} != {a.local_preference}")
        if a.med is not None and r.med != a.med:
            bad.append(f"MED {r.med} != {a.med}")
        if a.next_hop is not None and r.next_hop != str(a.next_hop):
            bad.append(f"next hop {r.next_hop} != {a.next_hop}")
        missing = set(a.communities) - set(r.communities)
        if missing:
            bad.append(f"communities missing {sorted(missing)}")
        for asn in a.as_path_contains:
            if asn not in r.as_path:
                bad.append(f"AS path {r.as_path} lacks {asn}")
    return CheckResult(name, not bad, "; ".join(bad) or f"via {r.next_hop}, local-preference {r.local_pref}")


def predicted_accepted(policy: DevicePolicy, neighbor: str, afi: str, received,
                       missing_prefix_list_matches: bool = False) -> dict[str, int | None]:
    b = policy.binding_for(neighbor, afi, "in")  # its own, or its peer-group's
    out = {}
    for r in received:
        after = evaluate(policy, b.route_map if b else None, r, missing_prefix_list_matches)
        if after is not None:
            out[after.prefix] = after.local_pref
    return out


def confirm_refresh_in(obs: Observer, policy: DevicePolicy, neighbor: str, afi: str, timeout: float,
                       missing_prefix_list_matches: bool = False, before: Counters | None = None,
                       refreshes: int = 1) -> CheckResult:
    """With an Adj-RIB-In: the received routes run through the policy now on the device must equal what BGP
    accepted. Without one (no soft-reconfiguration inbound, as most production routers): the neighbor's
    counters (`before`, read before the refresh command) must show the ROUTE-REFRESH sent and the peer's
    re-send finished (its EoRR counted, with Enhanced Route Refresh; else the accepted routes stable).
    `refreshes`: inbound refreshes sent to this neighbor together (one per address family)."""
    t0 = time.monotonic()
    name = f"refresh {neighbor} {afi} in"
    if before is not None and afi not in before.adj_rib_in:
        return _confirm_by_counters(obs, neighbor, afi, timeout, before, t0, refreshes)
    if not {"received", "accepted"} <= obs.answers:
        return CheckResult(name, True, f"sent; not confirmable on {obs.platform} "
                           "(received and accepted routes are not read there)")
    received = obs.received(neighbor, afi)
    if received is None:
        return CheckResult(name, True, "sent; not confirmable (no soft-reconfiguration inbound, "
                           f"or {afi} tables not read on {obs.platform})")
    want = predicted_accepted(policy, neighbor, afi, received, missing_prefix_list_matches)
    deadline = t0 + timeout
    while True:
        got = {r.prefix: r.local_pref for r in obs.accepted(neighbor, afi) or ()}
        if got == want:
            return CheckResult(name, True, f"{len(got)} routes accepted as the policy predicts "
                               f"(Adj-RIB-In; {time.monotonic() - t0:.2f} s)")
        if time.monotonic() > deadline:
            diff = sorted(set(want.items()) ^ set(got.items()))[:5]
            return CheckResult(name, False, f"table differs from the policy's prediction: {diff}")
        time.sleep(0.1)


STABLE_READS = 3  # identical reads of the accepted routes, POLL apart, that make a table "stable"
POLL = 0.1


def _confirm_by_counters(obs: Observer, neighbor: str, afi: str, timeout: float, before: Counters,
                         t0: float, refreshes: int = 1) -> CheckResult:
    name = f"refresh {neighbor} {afi} in"
    deadline = t0 + timeout
    now = obs.counters(neighbor)
    while now is None or now.refresh_sent < before.refresh_sent + refreshes:
        if time.monotonic() > deadline:
            return CheckResult(name, False, f"no ROUTE-REFRESH was sent to {neighbor} within {timeout:.0f} s "
                               "(no soft-reconfiguration inbound: the refresh needs one)")
        time.sleep(POLL)
        now = obs.counters(neighbor)
    how = "route-refresh sent"
    if before.enhanced:  # the peer frames its re-send with BoRR ... EoRR, both counted as ROUTE-REFRESH
        while now is None or now.refresh_received < before.refresh_received + 2 * refreshes:
            if time.monotonic() > deadline:
                return CheckResult(name, False, f"route-refresh sent, but {neighbor} did not finish re-sending its "
                                   f"routes (no End-of-RIB marker within {timeout:.0f} s)")
            time.sleep(POLL)
            now = obs.counters(neighbor)
        # bgpd runs each UPDATE through the inbound policy as it reads it, in order: when the EoRR is
        # counted, every re-sent route carries the new policy's result (best-path selection may still run:
        # route expectations wait for it)
        return CheckResult(name, True, f"{how}, {neighbor}'s re-send complete (EoRR) after "
                           f"{time.monotonic() - t0:.2f} s (no Adj-RIB-In)")
    if now is not None and now.updates_received > before.updates_received:
        how += f", {now.updates_received - before.updates_received} UPDATE(s) re-received"
    # The re-sent routes are in; bgpd re-runs best-path selection asynchronously: wait for a stable table.
    seen: list = []
    while True:
        table = sorted((r.prefix, r.local_pref, r.med, r.next_hop, tuple(sorted(r.communities)), r.as_path)
                       for r in obs.accepted(neighbor, afi) or ())
        count = obs.counters(neighbor)
        seen = (seen + [(table, count.updates_received if count else None)])[-STABLE_READS:]
        if len(seen) == STABLE_READS and all(s == seen[0] for s in seen):
            return CheckResult(name, True, f"{how}; table stable at {len(table)} accepted route(s) "
                               f"({time.monotonic() - t0:.2f} s, no Adj-RIB-In)")
        if time.monotonic() > deadline:
            return CheckResult(name, False, f"{how}, but the accepted routes kept changing for {timeout:.0f} s")
        time.sleep(POLL)


def confirm_refresh_out(obs: Observer, neighbor: str, before: int | None, timeout: float) -> CheckResult:
    """`before`: the neighbor's UPDATE counter read before the refresh command."""
    if before is None:
        return CheckResult(f"refresh {neighbor} out", True, f"sent; not confirmable on {obs.platform} "
                           "(no UPDATE counter read for this neighbor)")
    deadline = time.monotonic() + timeout
    while True:
        after = obs.updates_sent(neighbor) or 0
        if after > before:
            return CheckResult(f"refresh {neighbor} out", True, f"updates sent {before} -> {after} "
                               f"({time.monotonic() - deadline + timeout:.2f} s)")
        if time.monotonic() > deadline:
            return CheckResult(f"refresh {neighbor} out", False, "no UPDATE was re-sent after soft out")
        time.sleep(POLL)
