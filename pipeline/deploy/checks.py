"""Guards before, confirmations during and checks after a deploy, per device, through its driver's observer
(drivers/observers/). A question the platform's output cannot answer is reported as not observable there,
never passed silently."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..drivers.observers.base import Observer, Session
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
        results.append(CheckResult(f"session {key[0]} {key[1]} established", bool(s) and s.up,
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


def route_expectations(obs: Observer, change: ChangeRequest, device: str) -> list[CheckResult]:
    out = []
    for exp in change.verify.routes:
        if exp.device != device:
            continue
        name = f"route {exp.prefix} {exp.expect} on {device}"
        if "route" not in obs.answers or f"ipv{exp.prefix.version}" not in obs.route_families:
            # an expectation nobody can check fails: it was asked for (the guard refuses it before any commit)
            out.append(CheckResult(name, False, f"not observable on {obs.platform}: its BGP paths are not read"))
            continue
        r = obs.route(str(exp.prefix))
        if exp.expect == "absent":
            out.append(CheckResult(name, r is None, "absent" if r is None else f"present via {r.next_hop}"))
            continue
        if r is None:
            out.append(CheckResult(name, False, "not in the BGP table"))
            continue
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
        out.append(CheckResult(name, not bad, "; ".join(bad) or f"via {r.next_hop}, local-preference {r.local_pref}"))
    return out


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
                       missing_prefix_list_matches: bool = False) -> CheckResult:
    """The Adj-RIB-In run through the policy now on the device must equal what BGP accepted."""
    if not {"received", "accepted"} <= obs.answers:
        return CheckResult(f"refresh {neighbor} {afi} in", True, f"sent; not confirmable on {obs.platform} "
                           "(received and accepted routes are not read there)")
    received = obs.received(neighbor, afi)
    if received is None:
        return CheckResult(f"refresh {neighbor} {afi} in", True, "sent; not confirmable (no soft-reconfiguration inbound, "
                           f"or {afi} tables not read on {obs.platform})")
    want = predicted_accepted(policy, neighbor, afi, received, missing_prefix_list_matches)
    deadline = time.monotonic() + timeout
    while True:
        got = {r.prefix: r.local_pref for r in obs.accepted(neighbor, afi) or ()}
        if got == want:
            return CheckResult(f"refresh {neighbor} {afi} in", True, f"{len(got)} routes accepted as the policy predicts")
        if time.monotonic() > deadline:
            diff = sorted(set(want.items()) ^ set(got.items()))[:5]
            return CheckResult(f"refresh {neighbor} {afi} in", False, f"table differs from the policy's prediction: {diff}")
        time.sleep(0.3)


def confirm_refresh_out(obs: Observer, neighbor: str, before: int | None, timeout: float) -> CheckResult:
    """`before`: the neighbor's UPDATE counter read before the refresh command."""
    if before is None:
        return CheckResult(f"refresh {neighbor} out", True, f"sent; not confirmable on {obs.platform} "
                           "(no UPDATE counter read for this neighbor)")
    deadline = time.monotonic() + timeout
    while True:
        after = obs.updates_sent(neighbor) or 0
        if after > before:
            return CheckResult(f"refresh {neighbor} out", True, f"updates sent {before} -> {after}")
        if time.monotonic() > deadline:
            return CheckResult(f"refresh {neighbor} out", False, "no UPDATE was re-sent after soft out")
        time.sleep(0.3)
