"""Guards before, confirmations during and checks after a deploy (per device, FRR observer)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..model.change import ChangeRequest
from ..model.policy import DevicePolicy
from ..plan.impact import evaluate
from .observe import FrrObserver


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Baseline:
    sessions: dict[tuple[str, str], dict] = field(default_factory=dict)


def precheck_sessions(obs: FrrObserver, expected: list[tuple[str, str]]) -> tuple[Baseline, list[CheckResult]]:
    """Every inventory neighbor x afi must be Established before anything is sent."""
    sessions = obs.sessions()
    results = []
    for key in expected:
        s = sessions.get(key)
        ok = bool(s) and s["state"] == "Established"
        results.append(CheckResult(f"session {key[0]} {key[1]} established", ok,
                                   f"state {s['state'] if s else 'missing'}, {s['pfxRcd'] if s else 0} prefixes accepted"))
    return Baseline(sessions), results


def postcheck_sessions(obs: FrrObserver, baseline: Baseline, max_loss: float, settle: float = 5.0) -> list[CheckResult]:
    """Sessions still Established; no session lost more than `max_loss` of its accepted prefixes."""
    deadline = time.monotonic() + settle
    while True:
        now = obs.sessions()
        results = []
        for key, before in baseline.sessions.items():
            if before["state"] != "Established":
                continue
            after = now.get(key, {"state": "missing", "pfxRcd": 0})
            results.append(CheckResult(f"session {key[0]} {key[1]} still established", after["state"] == "Established",
                                       f"state {after['state']}"))
            b, a = before["pfxRcd"] or 0, after["pfxRcd"] or 0
            loss = (b - a) / b if b else 0.0
            results.append(CheckResult(f"prefixes from {key[0]} {key[1]}", loss <= max_loss,
                                       f"{b} -> {a} accepted ({loss:.0%} lost, limit {max_loss:.0%})"))
        if all(r.ok for r in results) or time.monotonic() > deadline:
            return results
        time.sleep(0.5)


def route_expectations(obs: FrrObserver, change: ChangeRequest, device: str) -> list[CheckResult]:
    out = []
    for exp in change.verify.routes:
        if exp.device != device:
            continue
        r = obs.route(str(exp.prefix))
        name = f"route {exp.prefix} {exp.expect} on {device}"
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


def predicted_accepted(policy: DevicePolicy, neighbor: str, afi: str, received) -> dict[str, int | None]:
    b = policy.bindings.get((neighbor, afi, "in"))
    out = {}
    for r in received:
        after = evaluate(policy, b.route_map if b else None, r)
        if after is not None:
            out[after.prefix] = after.local_pref
    return out


def confirm_refresh_in(obs: FrrObserver, policy: DevicePolicy, neighbor: str, afi: str, timeout: float) -> CheckResult:
    """The Adj-RIB-In run through the policy now on the device must equal what BGP accepted."""
    received = obs.received(neighbor, afi)
    if received is None:
        return CheckResult(f"refresh {neighbor} {afi} in", True, "sent; not confirmable (no soft-reconfiguration inbound)")
    want = predicted_accepted(policy, neighbor, afi, received)
    deadline = time.monotonic() + timeout
    while True:
        got = {r.prefix: r.local_pref for r in obs.accepted(neighbor, afi)}
        if got == want:
            return CheckResult(f"refresh {neighbor} {afi} in", True, f"{len(got)} routes accepted as the policy predicts")
        if time.monotonic() > deadline:
            diff = sorted(set(want.items()) ^ set(got.items()))[:5]
            return CheckResult(f"refresh {neighbor} {afi} in", False, f"table differs from the policy's prediction: {diff}")
        time.sleep(0.3)


def confirm_refresh_out(obs: FrrObserver, neighbor: str, before: dict, timeout: float) -> CheckResult:
    deadline = time.monotonic() + timeout
    while True:
        after = obs.message_stats(neighbor)
        if after.get("updatesSent", 0) > before.get("updatesSent", 0):
            return CheckResult(f"refresh {neighbor} out", True, f"updates sent {before.get('updatesSent')} -> {after.get('updatesSent')}")
        if time.monotonic() > deadline:
            return CheckResult(f"refresh {neighbor} out", False, "no UPDATE was re-sent after soft out")
        time.sleep(0.3)
