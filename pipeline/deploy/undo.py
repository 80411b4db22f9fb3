"""Take back a completed deploy from its journal (`netchange undo CHANGE`, or `deploy CHANGE --phase undo`).

The journal of a deploy that finished holds every device's policy before the change ("original") and after
it ("applied"). Undo is the deploy's two phases run backwards: guard (each device must still hold exactly
what the change left on the objects it touched, else it is refused with the drift named and nothing is
sent), restore the touched objects on every device and re-read them (barrier), then refresh every session
the change refreshed, confirmed as a deploy's are, once all devices are restored. Objects the change did not
touch are never edited, so later unrelated work on the same device survives. A failed undo puts back what it
had restored (the post-change state), as a failed deploy would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DeviceError
from ..model.policy import DevicePolicy, Kind, policy_from_json, policy_to_json
from ..plan.diff import binding_name, diff, diff_object
from ..plan.order import order
from ..plan.planner import config_hash
from ..plan.refresh import refresh_set
from . import checks
from .journal import completed_deploy

if TYPE_CHECKING:
    from .deployer import Deployer, Device


def touched_keys(before: DevicePolicy, after: DevicePolicy, canonical=None) -> set[tuple[Kind, object]]:
    """(kind, key) of every object that differs between two states of one device."""
    keys = dict.fromkeys((k, key) for k, key, _ in before.items())
    keys.update(dict.fromkeys((k, key) for k, key, _ in after.items()))
    return {(k, key) for k, key in keys
            if diff_object(k, key if k != "binding" else None, before.get(k, key), after.get(k, key), canonical)}


def describe(kind: str, key: Any) -> str:  # key: a binding's (neighbor, afi, direction), else a name
    return f"binding {binding_name(key)}" if kind == "binding" else f"{kind.replace('_', '-')} {key}"


class Undo:
    def __init__(self, dep: "Deployer"):
        self.dep = dep
        self.source, records = completed_deploy(dep.journal.path.parent, dep.change.id)
        self.before: dict[str, DevicePolicy] = {}
        self.applied: dict[str, DevicePolicy] = {}
        self.refresh: dict[str, list[dict]] = {}
        for r in records:
            if r["step"] == "original":
                self.before[r["device"]] = policy_from_json(r["policy"])
            elif r["step"] == "applied":
                self.applied[r["device"]] = policy_from_json(r["policy"])
            elif r["step"] == "committed":
                self.refresh[r["device"]] = r["refresh"]
        self.keys: dict[str, set[tuple[Kind, object]]] = {}

    def run(self) -> dict:
        dep = self.dep
        if self.source is None:
            return dep._finish("refused", f"nothing to undo: no completed deploy of {dep.change.id} in "
                               f"{dep.journal.path.parent} (or it was undone already)")
        devices = [d for d in dep.devices if d.name in self.applied]
        missing = sorted(set(self.applied) - {d.name for d in devices})
        if missing:
            return dep._finish("refused", f"{', '.join(missing)}: deployed by {dep.change.id} but no longer its targets")
        if not devices:
            return dep._finish("refused", f"the deploy journal {self.source.name} records no device's applied policy "
                               "(deployed by a netchange without undo): restore by hand")
        for d in dep.devices:
            if d not in devices:
                d.status = "untouched"
        dep.journal.write("start", change=dep.change.id, devices=[d.name for d in devices], phase="undo",
                          undoes=self.source.name)
        dep._say(f"undo {dep.change.id} (deployed as {self.source.name}): checking {len(devices)} device(s) for drift")
        def connect_and_guard(d: "Device") -> None:
            dep._connect(d)
            self._guard(d)

        failed = dep._parallel(connect_and_guard, devices, "connect+guard")
        if failed:
            return dep._finish("refused", "; ".join(str(d.error) for d in failed))  # set on every failed device
        work = [d for d in devices if d.commands]
        if not work:
            return dep._finish("no_op", f"{dep.change.id} is not on any device any more: nothing to undo")
        dep._say(f"undo: restoring {len(work)} device(s)")
        failed = dep._parallel(self._restore, work, "commit+barrier")
        if failed:
            return dep._abort(work, refreshed=[], why=f"undo failed: {failed[0].error}")
        dep._say(f"undo: refresh {sum(len(d.refresh) for d in work)} session(s) now that every device is restored")
        failed = dep._parallel(dep._refresh, work, "refresh")
        failed = failed or dep._parallel(self._postcheck, work, "postcheck")
        if failed:
            return dep._abort(work, refreshed=work, why=f"undo failed: {failed[0].error}")
        for d in work:
            d.status = "undone"
        return dep._finish("undone", f"{dep.change.id} taken back on {len(work)} device(s) "
                           f"({sum(len(d.refresh) for d in work)} session(s) refreshed)")

    def _guard(self, d: "Device") -> None:
        dep = self.dep
        assert d.session is not None  # connected (_connect) before any step runs
        assert self.source is not None  # run() refuses without a deploy to undo
        text = d.session.fetch()
        driver = d.session.driver
        current = driver.parse(text)
        keys = touched_keys(self.before[d.name], self.applied[d.name], driver.canonical)
        drift = touched_keys(self.applied[d.name], current, driver.canonical) & keys
        if drift:
            def how(k, key) -> str:
                was, now = self.applied[d.name].get(k, key), current.get(k, key)
                return "removed" if now is None else "added" if was is None else "edited"
            names = ", ".join(sorted(f"{describe(k, key)} ({how(k, key)})" for k, key in drift))
            raise DeviceError(f"{d.name}: changed since {dep.change.id} was deployed (drift): {names}; "
                              "undo refused, nothing was sent")
        self.keys[d.name] = keys
        # what a failed undo restores: the device as the change left it
        d.original = current
        dep.journal.write("original", d.name, policy=policy_to_json(current), running_hash=config_hash(text))
        ops = order(diff(current, self.before[d.name], only=keys, canonical=driver.canonical))
        target = self.before[d.name].copy()
        target.device = current.device
        commands = driver.render_ops(ops, target, d.host) if ops else []
        targets = {(r["neighbor"], r["afi"], r["direction"]) for r in self.refresh.get(d.name, [])}
        targets |= {(t.neighbor, t.afi, t.direction) for t in refresh_set(current, self.before[d.name], ops)}
        refresh = [{"neighbor": n, "afi": a, "direction": dr, "commands": driver.refresh_commands(n, a, dr)}
                   for n, a, dr in sorted(targets)]
        d.reviewed = {"commands": commands, "refresh": refresh if commands else [], "gc_commands": []}
        d.event("guard", running_hash=config_hash(text), planned_commands=len(commands), undoes=self.source.name)
        obs = driver.observer(d.session.conn, d.name)
        if obs is not None and d.host.data.bgp:
            expected = [(str(n.address), afi.split("_")[0]) for n in d.host.data.bgp.neighbors for afi in n.afis]
            d.baseline, results = checks.precheck_sessions(obs, expected)
            d.checks += results

    def _restore(self, d: "Device") -> None:
        dep = self.dep
        d.status = "committing"
        assert d.session is not None  # connected (_connect) before any step runs
        res = d.session.push(d.commands, tag=f"{dep.change.id}-{d.name}-undo")
        d.event("commit", commands=res.sent, output=res.output[-2000:], seconds=round(res.seconds, 3))
        dep.journal.write("committed", d.name, refresh=d.refresh)
        d.status = "committed"
        self._check_restored(d, "barrier")

    def _check_restored(self, d: "Device", step: str) -> None:
        assert d.session is not None  # connected (_connect) before any step runs
        current = d.session.driver.parse(d.session.fetch())
        left = touched_keys(current, self.before[d.name], d.session.driver.canonical) & self.keys[d.name]
        if left:
            raise DeviceError(f"{d.name}: {step} failed, not restored: "
                              + ", ".join(sorted(describe(k, key) for k, key in left)))
        d.post_policy = current
        d.event(step, ok=True, checked=len(self.keys[d.name]))
        self.dep.journal.write(step, d.name)

    def _postcheck(self, d: "Device") -> None:
        self._check_restored(d, "postcheck")
        assert d.session is not None  # connected (_connect) before any step runs
        obs = d.session.driver.observer(d.session.conn, d.name)
        if obs is not None and d.baseline:
            results = checks.postcheck_sessions(obs, d.baseline, self.dep.change.verify.max_prefix_loss)
            d.checks += results
            bad = [r for r in results if not r.ok]
            if bad:
                raise DeviceError(f"{d.name}: post-check failed: {bad[0].name}: {bad[0].detail}")
