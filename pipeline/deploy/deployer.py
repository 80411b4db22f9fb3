"""The deploy orchestration: guard -> (per wave) commit -> barrier -> refresh -> post-checks -> confirm -> GC.

Every edit lands and is confirmed on every device of a wave before any BGP table is re-evaluated.
Where the platform can hold a commit (Junos `commit confirmed`, EOS `commit timer`, IOS revert timer, AOS-CX
auto checkpoint, NX-OS checkpoint), phase 1 is held and confirmed only after the wave's post-checks pass,
so a deploy killed half-way leaves those devices reverting by themselves. A failure before the refresh
restores the touched devices and refreshes nothing; a failure after it restores and refreshes again; a held
commit is undone by the platform's own mechanism first. Each step is journaled before the next begins.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import Counter
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import safefiles
from ..connect import connect
from ..drivers.base import get_driver
from ..drivers.commit import Held
from ..errors import DeviceError, InputError, Location, NetchangeError
from ..inventory import Host, Inventory
from ..liveness import SessionLost, lost
from ..model.change import ChangeRequest
from ..model.policy import DevicePolicy, policy_from_json, policy_to_json
from ..plan.expect import unmet
from ..plan.planner import DevicePlan, config_hash, plan_device
from ..plan.run import targets
from ..project import Project
from . import checks
from .device import READ_TIMEOUT, DeviceSession
from .journal import Journal
from .lock import DeployLock
from .restore import restore
from .runner import PooledRunner

Phase = str  # all | commit | refresh | rollback | gc | undo
NEEDS_A_PERSON = {"rollback_failed"}  # verdicts after which devices may be left half-changed
# What the derived revert timer adds to the deploy's own timeouts (a held commit must outlast its checks).
HOLD_MARGIN = 120.0
POSTCHECK_SETTLE = 5.0
# A held commit this close to its device-side deadline is left to the device (reverting it ourselves could
# race the device's own rollback: Junos' `rollback 1` after it would re-apply the change).
REVERT_RACE = 60.0


@dataclass
class Options:
    workers: int = 50
    canary: str | None = None
    batch: int | None = None
    ignore_window: bool = False
    strategy: str | None = None
    state_dir: Path | None = None
    journal_dir: Path | None = None
    shard: tuple[int, int] | None = None
    phase: Phase = "all"
    refresh_timeout: float = 15.0
    now: dt.datetime | None = None
    progress: Callable[[str], None] | None = None
    verifier: Callable[[ChangeRequest, list["Device"]], list[checks.CheckResult]] | None = None
    # Named points where tests inject faults and operators may hold: after_guard, before_commit, after_barrier.
    hooks: dict[str, Callable[[list["Device"]], None]] = field(default_factory=dict)
    pause_before_refresh: float = 0.0
    # Commit-confirm: seconds a held commit lives on the device unconfirmed (None: derived from the timeouts
    # above, see Deployer.hold_seconds).
    revert_after: float | None = None


@dataclass
class Device:
    host: Host
    session: DeviceSession | None = None
    original: DevicePolicy | None = None
    plan: DevicePlan | None = None
    reviewed: dict | None = None  # this device's entry of a reviewed plan file
    baseline: checks.Baseline | None = None
    events: list[dict] = field(default_factory=list)
    checks: list[checks.CheckResult] = field(default_factory=list)
    status: str = "pending"
    error: str | None = None
    post_policy: DevicePolicy | None = None  # as read at the barrier
    # The running configuration as read after the last configuration command netchange sent (the barrier,
    # or the re-read after phase 2's switches): what the post-check re-plans (refresh commands do not
    # configure anything, so reading it again would only cost a round trip and a parse).
    post_text: str | None = None
    held: Held | None = None  # phase 1 waits on the device for its confirmation
    held_until: dt.datetime | None = None  # when the device reverts it by itself (None: never)
    switched: bool = False  # phase 2's binding switch was pushed
    unreachable: str | None = None  # the step during which its SSH session was lost
    step_error: str | None = None  # the error of its last failed step alone (`error` holds them all)
    final_policy: DevicePolicy | None = None  # as read by the post-check (and after GC)
    _parsed: tuple[str, DevicePolicy] | None = None  # the last configuration text read and its parse
    _connection: Any = None  # the context manager behind `session`

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def commands(self) -> list[str]:
        return self.reviewed["commands"] if self.reviewed else (self.plan.commands if self.plan else [])

    @property
    def refresh(self) -> list[dict]:
        return self.reviewed["refresh"] if self.reviewed else (self.plan.refresh if self.plan else [])

    @property
    def switch_commands(self) -> list[str]:
        return self.reviewed.get("switch_commands", []) if self.reviewed else (self.plan.switch_commands if self.plan else [])

    @property
    def gc_commands(self) -> list[str]:
        return self.reviewed["gc_commands"] if self.reviewed else (self.plan.gc_commands if self.plan else [])

    def event(self, phase: str, **data) -> None:
        self.events.append({"phase": phase, **data})

    def as_dict(self) -> dict:
        return {"host": self.name, "platform": self.host.platform.value, "status": self.status, "error": self.error,
                "events": self.events, "checks": [c.as_dict() for c in self.checks]}


RECONNECT_TIMEOUT = 3.0  # seconds a rollback waits to reach a device whose session died
REVERT_GRACE = 30.0  # what a device may take, after its timer ran out, to put the old configuration back


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Refused(NetchangeError):
    exit_code = 3


class HookFailed(NetchangeError):
    """A hook refused to let the deploy go on."""


class Deployer:
    def __init__(self, change_file: Path, project: Project, opts: Options, plan_file: Path | None = None,
                 inventory: Inventory | None = None):
        from ..project import load_change

        self.change_file = change_file
        self.change: ChangeRequest = load_change(change_file)[0]
        self.project = project
        self.opts = opts
        self.inventory = inventory or project.inventory
        self.inventory_given = inventory is not None
        self.store = project.objects
        self.reviewed = self._load_plan(plan_file) if plan_file else None
        hosts = targets(self.change, self.inventory)
        if opts.shard:
            i, n = opts.shard
            hosts = [h for k, h in enumerate(hosts) if k % n == i - 1]
        self.devices = [Device(h) for h in hosts]
        state = opts.state_dir or (project.root / ".netchange")
        shard = f"{opts.shard[0]}/{opts.shard[1]}" if opts.shard else ""
        self.journal = Journal.open(opts.journal_dir or state / "journal", self.change.id, shard)
        self.lock = DeployLock(state / "locks", [d.name for d in self.devices], self.change.id)
        self.started = time.monotonic()
        self.runner: PooledRunner | None = None  # the worker threads of one run()
        self.timings: dict[str, float] = {}
        self.verdict = "pending"
        self.resuming = False
        self.run_checks: list[checks.CheckResult] = []  # checks of the whole change (traffic), not of one device
        self.summary = ""
        self.hold: float | None = None  # seconds each held commit lives unconfirmed (set after the guard)

    # ---- helpers -------------------------------------------------------------------------------
    def _load_plan(self, path: Path) -> dict:
        doc = safefiles.read_json(path, safefiles.JSON_MAX, expect=dict)
        if doc.get("format") != "netchange-plan/1" or doc.get("change") != self.change.id:
            raise InputError(f"not a plan of {self.change.id}", Location(str(path), field="change"))
        devices = doc.get("devices", [])
        if not isinstance(devices, list) or not all(isinstance(d, dict) and isinstance(d.get("host"), str) for d in devices):
            raise InputError("devices must be a list of objects, each with its host", Location(str(path), field="devices"))
        return {d["host"]: d for d in devices}

    def _say(self, msg: str) -> None:
        if self.opts.progress:
            self.opts.progress(msg)

    def _parallel(self, fn: Callable[[Device], Any], devices: list[Device], label: str) -> list[Device]:
        """Run fn per device concurrently through nornir (a PooledRunner: at most `workers` at once);
        return the devices whose step failed, with the error recorded on the device."""
        from nornir.core.task import Result, Task

        t0 = time.monotonic()
        by_name = {d.name: d for d in devices}
        failed: list[Device] = []

        def step(task: Task) -> Result:
            d = by_name[task.host.name]
            try:
                fn(d)
            except Exception as e:  # a failure of one device must not stop the others
                why = lost(d.session.conn) if d.session is not None else None
                if (why or isinstance(e, SessionLost)) and not d.unreachable:
                    d.unreachable = label
                    msg = f"{d.name} became unreachable during {label}: {why or str(e).split('unreachable: ')[-1]}"
                else:
                    msg = str(e) if isinstance(e, NetchangeError) else f"{type(e).__name__}: {e}"
                # the first failure is what the row is about; what failed after it (the rollback) is added
                d.error = f"{d.error}; {label}: {msg}" if d.error and d.error != msg else msg
                d.step_error = msg
            else:
                return Result(host=task.host)
            failed.append(d)  # errors are returned, not raised: nornir would log a traceback
            return Result(host=task.host, failed=True, result=d.error)

        if devices:
            nr = self.inventory.nornir.filter(filter_func=lambda h: h.name in by_name).with_runner(self.runner)
            nr.run(task=step, name=label, on_failed=True)
        self.timings[label] = self.timings.get(label, 0.0) + time.monotonic() - t0
        return failed

    def _hook(self, point: str, devices: list[Device]) -> None:
        fn = self.opts.hooks.get(point)
        if fn is None:
            return
        try:
            fn(devices)
        except NetchangeError as e:  # a hook (traffic baseline, operator check) may stop the deploy cleanly
            raise HookFailed(f"{point}: {e}") from None

    # ---- phases --------------------------------------------------------------------------------
    def _connect(self, d: Device, conn_timeout: float | None = None) -> None:
        cm = connect(d.host) if conn_timeout is None else connect(d.host, conn_timeout)
        d.session = DeviceSession(d.host, cm.__enter__())
        d._connection = cm

    def _connect_and_guard(self, d: Device) -> None:
        self._connect(d)
        self._guard(d)

    def _close(self, d: Device) -> None:
        if d._connection is not None:
            with contextlib.suppress(Exception):
                d._connection.__exit__(None, None, None)
            d._connection = None

    def _guard(self, d: Device) -> None:
        assert d.session is not None  # connected (_connect) before any step runs
        text = d.session.fetch()
        running_hash = config_hash(text)
        if self.reviewed is not None:
            rev = self.reviewed.get(d.name)
            if rev is None:
                raise Refused(f"{d.name}: not in the reviewed plan")
            if rev["running_hash"] != running_hash and self.opts.phase in ("all", "commit"):
                raise Refused(f"{d.name}: running config changed since the plan was made (drift); plan again")
            d.reviewed = rev
        running = d.session.driver.parse(text)  # in full: it is also the state a rollback restores
        d.plan = plan_device(d.host, d.session.driver, text, self.change, self.store, self.opts.strategy, parsed=running,
                             peers=self.inventory.hosts)
        if d.original is None:  # (a resumed run keeps the first attempt's pre-change state)
            d.original = running
            # (made durable once for every device when the guard phase ends, before anything is sent)
            self.journal.write("original", d.name, policy=policy_to_json(d.original), running_hash=running_hash, sync=False)
        d.event("guard", running_hash=running_hash, planned_commands=len(d.commands))
        driver = d.session.driver
        d.session.mode = driver.commit_mode_for(text)
        touched = [(e["kind"], tuple(e["key"]) if isinstance(e["key"], list) else e["key"])
                   for e in self._expect(d, "expect_after_commit")]
        why = driver.preflight(text, strategy=d.plan.strategy, edits=bool(d.commands), touched=touched)
        if why:
            raise Refused(f"{d.name}: {why}")
        for note in driver.preflight_notes(text, strategy=d.plan.strategy, edits=bool(d.commands), touched=touched):
            d.checks.append(checks.CheckResult("preflight", True, note))
        obs = driver.observer(d.session.conn, d.name)
        unseen = [str(e.prefix) for e in self.change.verify.routes if e.device == d.name
                  and (obs is None or "route" not in obs.answers or f"ipv{e.prefix.version}" not in obs.route_families)]
        if unseen:
            raise Refused(f"{d.name}: route expectations ({', '.join(unseen)}) cannot be checked on {d.host.platform.value}: "
                          "its BGP paths are not read there")
        if obs is not None and d.host.data.bgp:
            expected = [(str(n.address), afi.split("_")[0]) for n in d.host.data.bgp.neighbors for afi in n.afis]
            d.baseline, results = checks.precheck_sessions(obs, expected)
            d.checks += results
            down = [r for r in results if not r.ok]
            if down:
                raise Refused(f"{d.name}: {down[0].name} failed ({down[0].detail})")

    @staticmethod
    def _parse(d: Device, text: str) -> DevicePolicy:
        """*text* parsed, once: the barrier, the refresh and the post-check often judge the same read (the
        planner and the deploy only read a parsed policy, as the guard's plan and rollback state share one)."""
        assert d.session is not None
        if d._parsed is None or d._parsed[0] is not text:
            d._parsed = (text, d.session.driver.parse(text))
        return d._parsed[1]

    def _commit(self, d: Device) -> None:
        assert d.session is not None  # connected (_connect) before any step runs
        hold = self.hold if self.opts.phase == "all" else None  # a phased deploy commits for good (one job each)
        d.status = "committing"  # (a failure now leaves the device's state unknown until it is read again)
        res = d.session.push(d.commands, tag=f"{self.change.id}-{d.name}", hold=hold)
        if res.held is not None:
            d.held = res.held
            d.held_until = _utcnow() + dt.timedelta(seconds=res.held.seconds) if res.held.seconds else None
            self.journal.write("held", d.name, held=res.held.as_dict(),
                               until=d.held_until.isoformat() if d.held_until else None)
        d.event("commit", commands=res.sent, output=res.output[-2000:], seconds=round(res.seconds, 3),
                **({"held": res.held.as_dict()} if res.held else {}))
        self.journal.write("committed", d.name, refresh=d.refresh)
        d.status = "committed"

    def _confirm(self, d: Device) -> None:
        """The wave's checks passed: make the held commit permanent."""
        if d.held is None:
            return
        assert d.session is not None
        out = d.session.confirm(d.held)
        self.journal.write("confirmed", d.name)
        d.event("confirm", mode=d.held.mode, output=out[-500:])
        d.held = d.held_until = None

    def _commit_and_confirm(self, d: Device) -> None:
        if d.commands or d.switch_commands:
            try:
                self._commit(d)
            except NetchangeError as e:
                raise DeviceError(f"commit failed: {e}") from None
        self._barrier(d)

    def _expect(self, d: Device, which: str) -> list[dict]:
        """The planned device state (`expect_after_commit` / `expect_after_switch`), reviewed plan first."""
        if d.reviewed is not None:
            return d.reviewed.get(which, [])
        return getattr(d.plan, which, []) if d.plan is not None else []

    def _barrier(self, d: Device) -> None:
        """Re-read the device: every object phase 1 touched must now be exactly as planned."""
        assert d.session is not None  # connected (_connect) before any step runs
        text = d.session.fetch()
        current = self._parse(d, text)
        which = "expect_after_switch" if self.opts.phase == "refresh" and not d.switch_commands else "expect_after_commit"
        bad = unmet(current, self._expect(d, which), d.session.driver.canonical)
        if bad:
            raise DeviceError(f"{d.name}: barrier failed, the device does not hold the planned policy: {'; '.join(bad[:3])}")
        d.post_policy, d.post_text = current, text
        d.event("barrier", ok=True, checked=len(self._expect(d, which)))
        self.journal.write("barrier", d.name, sync=False)  # (for the record: nothing resumes from it)

    def _refresh(self, d: Device, direction: str = "") -> None:
        """Switch the bindings (once) and refresh the sessions of one direction ('': both)."""
        assert d.session is not None  # connected (_connect) before any step runs
        driver = d.session.driver
        obs = driver.observer(d.session.conn, d.name)
        targets = [r for r in d.refresh if r["direction"] == direction or not direction]
        if d.switch_commands and not d.switched and (targets or direction in ("", "in")):
            d.post_text = None  # configured again: read again
            res = d.session.push(d.switch_commands, tag=f"{self.change.id}-{d.name}-switch")
            d.event("switch", commands=res.sent, seconds=round(res.seconds, 3))
            self.journal.write("switched", d.name)
            d.switched = True
        if not targets and direction == "out":
            return
        if d.post_policy is not None and not d.switch_commands:
            policy = d.post_policy
        elif d.post_text is not None and d.switched:  # read after the switch already (the other direction)
            policy = self._parse(d, d.post_text)
        else:
            d.post_text = d.session.fetch()
            policy = self._parse(d, d.post_text)
        # What each confirmation compares with, read before any refresh command: outbound, the UPDATE counter;
        # inbound, the neighbor's counters (whether an Adj-RIB-In is kept and, where it is not, how the refresh
        # is confirmed: ROUTE-REFRESH sent, the peer's EoRR received).
        counted = obs is not None and driver.refresh_mode != "on_commit"
        before: list[Any] = [obs.updates_sent(r["neighbor"]) if obs is not None and counted and r["direction"] == "out" else
                             obs.counters(r["neighbor"]) if obs is not None and counted and "counters" in obs.answers else None
                             for r in targets]  # per target: an UPDATE count (out) or the neighbor's counters (in)
        inbound = Counter(r["neighbor"] for r in targets if r["direction"] == "in")
        t0 = time.monotonic()
        for r in targets:  # all sent first, then confirmed: the peers re-send in parallel
            for cmd in r["commands"]:
                d.session.run(cmd)
        if targets:
            self.journal.write("refreshed", d.name)  # the new policy may be live from here: a rollback refreshes again
        sent = time.monotonic() - t0
        for r, b in zip(targets, before):
            t1 = time.monotonic()
            name = f"refresh {r['neighbor']} {r['afi']} {r['direction']}"
            if driver.refresh_mode == "on_commit":  # Junos: the commit re-ran the policy, nothing to send
                d.checks.append(checks.CheckResult(name, True, f"applied by the commit itself on {d.host.platform.value}"))
            elif obs is None:
                d.checks.append(checks.CheckResult(name, True, f"sent; no observer for {d.host.platform.value}"))
            elif r["direction"] == "in":
                d.checks.append(checks.confirm_refresh_in(obs, policy, r["neighbor"], r["afi"], self.opts.refresh_timeout,
                                                          driver.missing_prefix_list_matches, b, inbound[r["neighbor"]]))
            else:
                d.checks.append(checks.confirm_refresh_out(obs, r["neighbor"], b, self.opts.refresh_timeout))
            d.event("refresh", target=f"{r['neighbor']} {r['afi']} {r['direction']}", commands=r["commands"],
                    seconds=round(sent + time.monotonic() - t1, 3))
        if direction in ("", "out"):
            self._await_own_resend(d)
        bad = [c for c in d.checks if c.name.startswith("refresh") and not c.ok]
        if direction == "out":
            if bad:
                raise DeviceError(f"{d.name}: {bad[0].name}: {bad[0].detail}")
            return
        if not d.refresh:
            self.journal.write("refreshed", d.name)
        d.status = "refreshed"
        if bad:
            raise DeviceError(f"{d.name}: {bad[0].name}: {bad[0].detail}")

    def _await_own_resend(self, d: Device) -> None:
        """Platforms that ignore `soft out` (AOS-CX) re-send by themselves some seconds after a policy
        change: wait for that instead of pretending the refresh happened when the command returned."""
        assert d.session is not None
        driver = d.session.driver
        outs = [r for r in d.refresh if r["direction"] == "out"]
        wait = driver.outbound_resend_seconds
        if outs and not driver.capabilities.soft_out and wait:
            time.sleep(wait)
            d.checks.append(checks.CheckResult(
                f"outbound refresh on {d.host.platform.value}", True,
                f"no soft out on this platform: waited {wait} s for its own re-send to {len(outs)} neighbor(s)"))

    def _postcheck(self, d: Device) -> None:
        assert d.session is not None  # connected (_connect) before any step runs
        text, when = (d.post_text, "read after the last configuration command") if d.post_text is not None \
            else (d.session.fetch(), "read now")
        d.final_policy = self._parse(d, text)
        final = plan_device(d.host, d.session.driver, text, self.change, self.store, d.plan.strategy if d.plan else None,
                            parsed=d.final_policy, peers=self.inventory.hosts)
        d.checks.append(checks.CheckResult("device holds the intended policy", final.empty,
                                           f"re-plan is empty ({when})" if final.empty else f"still differs: {final.ops[:3]}"))
        if not final.empty:
            raise DeviceError(f"{d.name}: after the refresh the device does not hold the intended policy: {final.ops[:3]}")
        obs = d.session.driver.observer(d.session.conn, d.name)
        if obs is None:
            return
        results = []
        if d.baseline:
            results += checks.postcheck_sessions(obs, d.baseline, self.change.verify.max_prefix_loss, POSTCHECK_SETTLE)
        results += checks.route_expectations(obs, self.change, d.name, self.opts.refresh_timeout)
        d.checks += results
        bad = [r for r in results if not r.ok]
        if bad:
            raise DeviceError(f"{d.name}: post-check failed: {bad[0].name}: {bad[0].detail}")

    def _rollback(self, d: Device, refresh: bool) -> None:
        """Undo a held commit with the platform's own mechanism, then restore the pre-change policy objects
        (dependency order: whatever the platform did not undo); refresh again if we had refreshed."""
        if d.session is not None and (d.unreachable or lost(d.session.conn)):
            self._close(d)  # a session that died: one quick new attempt (the device may be back, sshd restarted)
            d.session = None
            try:
                self._connect(d, RECONNECT_TIMEOUT)
            except NetchangeError as e:
                raise DeviceError(f"{d.name}: still unreachable for its rollback ({e})") from None
        if d.session is None:
            self._connect(d)
        assert d.session is not None
        reverted = self._revert_held(d)
        original = d.original or policy_from_json(self.journal.originals()[d.name])
        extra = {(r["neighbor"], r["afi"], r["direction"]) for r in d.refresh}
        res, refreshed = restore(d.session, original, refresh, extra)
        if d.held is not None and not reverted:  # no revert command (AOS-CX): keep what was restored, end the timer
            d.session.confirm(d.held)
        d.held = d.held_until = None
        d.event("rollback", commands=res.sent, output=res.output[-2000:], refreshed=[" ".join(t) for t in refreshed],
                **({"reverted_by": reverted} if reverted else {}))
        self.journal.write("restored", d.name)
        d.status = "rolled back"

    def _revert_held(self, d: Device) -> str | None:
        """Who undid the held commit of *d*: "platform" (its revert command), "device" (its own timer ran out,
        waited for when it was about to), or None (nothing held, or no revert command: restore by diff)."""
        if d.held is None:
            return None
        if d.held_until is not None:
            left = (d.held_until - _utcnow()).total_seconds()
            if left < REVERT_RACE:
                self._say(f"{d.name}: leaving the unconfirmed commit to the device's own revert ({max(left, 0):.0f} s)")
                time.sleep(max(left, 0) + REVERT_GRACE)
                self.journal.write("reverted", d.name, by="device")
                d.held = d.held_until = None
                return "device"
        assert d.session is not None
        try:
            done = d.session.revert(d.held)
        except NetchangeError as e:
            when = f"; the device reverts by itself at {d.held_until:%H:%M:%S} UTC" if d.held_until else ""
            raise DeviceError(f"{d.name}: the platform's revert failed: {e}{when}") from None
        if not done:
            return None
        self.journal.write("reverted", d.name, by="platform", mode=d.held.mode)
        d.held = d.held_until = None
        return "platform"

    def _gc(self, d: Device) -> None:
        assert d.session is not None  # connected (_connect) before any step runs
        res = d.session.push(d.gc_commands, tag=f"{self.change.id}-{d.name}-gc")
        d.event("gc", commands=res.sent)
        d.final_policy = d.session.driver.parse(d.session.fetch())

    # ---- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        change = self.change
        if not self.opts.ignore_window and change.window and not change.window.contains(self.opts.now or dt.datetime.now(dt.timezone.utc)):
            return self._finish("refused", f"outside the change window {change.window.not_before} – {change.window.not_after}")
        with self.lock:
            for platform in {d.host.platform for d in self.devices}:
                get_driver(platform).prepare()
            self.runner = PooledRunner(self.opts.workers)
            try:
                return self._run_locked()
            finally:
                # each close waits for the device's answer: overlap them as the phases do
                self._parallel(self._close, [d for d in self.devices if d._connection is not None], "disconnect")
                self.runner.close()

    def _run_locked(self) -> dict:
        resume = self.journal.unfinished
        pending_refresh = self.journal.refresh_targets() if resume else {}
        originals = self.journal.originals() if resume else {}
        if resume:
            self._say(f"resuming an interrupted deploy of {self.change.id} (journal {self.journal.path.name})")
        if self.opts.phase == "rollback":
            return self._rollback_from_journal()
        if self.opts.phase == "undo":
            if resume:
                return self._finish("refused", f"{self.change.id} has an unfinished deploy: finish it first "
                                    f"(`{self.finish_command()}`), there is nothing completed to undo")
            from .undo import Undo

            return Undo(self).run()
        holds = self._unconfirmed_holds() if resume else {}
        self.journal.write("start", change=self.change.id, devices=[d.name for d in self.devices], phase=self.opts.phase, resume=resume)
        self.resuming = resume
        for d in self.devices:  # carry the first attempt's pre-change state into this run's records
            if d.name in originals:
                d.original = policy_from_json(originals[d.name])
                self.journal.write("original", d.name, policy=originals[d.name], carried=True)
            if d.name in pending_refresh:
                self.journal.write("committed", d.name, refresh=pending_refresh[d.name], carried=True)
        self._await_self_reverts(holds)
        self._say(f"guard: connecting to {len(self.devices)} device(s)")
        # Each device is guarded as soon as its own session is up (no need to wait for the slowest connect).
        failed = self._parallel(self._connect_and_guard, self.devices, "connect+guard")
        self.journal.sync()  # every pre-change policy on disk before any device is changed
        if failed:
            return self._finish("refused", "; ".join(d.error or "" for d in failed))
        still = [d.name for d in self.devices if holds.get(d.name, {}).get("self_reverted") and d.plan is not None
                 and d.plan.empty]
        if still:
            return self._finish("refused", f"{', '.join(still)}: still hold(s) the unconfirmed commit of the interrupted "
                                "deploy after its revert timer ran out; check by hand, then run again")
        try:
            self.hold = self.hold_seconds() if self.opts.phase == "all" else None
        except ValueError as e:
            return self._finish("refused", str(e))
        try:
            self._hook("after_guard", self.devices)
        except HookFailed as e:
            return self._finish("refused", str(e))
        for d in self.devices:
            if d.name in pending_refresh and not d.refresh:
                d.reviewed = {"commands": [], "refresh": pending_refresh[d.name], "gc_commands": []}
        if self.opts.phase in ("refresh", "gc"):
            return self._continue_phase()
        work = [d for d in self.devices if d.commands or d.switch_commands or d.name in pending_refresh]
        if not work:
            return self._finish("no_op", f"already applied: {self.change.id} needs no edit on any target")
        # One barrier for the whole change: phase 1 lands and is re-read on every device of every wave before
        # any session is refreshed (both ends of a session may be in different waves); waves then stage the
        # refresh, post-checks and confirmation. A failure anywhere undoes every device the change committed.
        waves = self._waves(work)
        self._say(f"commit and re-read on {len(work)} device(s)")
        try:
            self._hook("before_commit", work)
        except HookFailed as e:
            return self._abort([], refreshed=[], why=str(e))
        failed = self._parallel(self._commit_and_confirm, work, "commit+barrier")
        if failed:
            return self._abort(work, refreshed=[], why=failed[0].error or "")
        self._say(f"barrier passed on all {len(work)} device(s)")
        try:
            self._hook("after_barrier", work)
        except HookFailed as e:
            return self._abort(work, refreshed=[], why=str(e))
        done: list[Device] = []
        if self.opts.phase == "commit":
            done = work
            waves = []
        for n, wave in enumerate(waves, 1):
            label = f"wave {n} ({', '.join(d.name for d in wave)})"
            if self.opts.pause_before_refresh:
                self._say(f"{label}: holding {self.opts.pause_before_refresh:.0f} s before the refresh")
                time.sleep(self.opts.pause_before_refresh)
            if self.opts.pause_before_refresh or "after_barrier" in self.opts.hooks:
                for d in wave:  # someone else had the devices since the barrier read: the post-check reads again
                    d.post_text = None
            self._say(f"{label}: refresh {sum(len(d.refresh) for d in wave)} session(s), export side first")
            # Outbound first on every device of the wave, then inbound: the side that judges routes re-reads
            # them once the side that sends them already sends the new set (plan: refresh_order).
            for direction in ("out", "in"):
                failed = self._parallel(functools.partial(self._refresh, direction=direction), wave, f"refresh {direction}")
                if failed:
                    return self._abort(work, refreshed=done + wave, why=failed[0].error or "")
            self._say(f"{label}: post-checks")
            failed = self._parallel(self._postcheck, wave, "postcheck")
            if not failed and self.opts.verifier:
                results = self.opts.verifier(self.change, wave)
                self.run_checks += results
                bad = [r for r in results if not r.ok]
                if bad:
                    failed = wave
                    wave[0].error = f"traffic verification failed: {bad[0].name}: {bad[0].detail}"
            if failed:
                return self._abort(work, refreshed=done + wave, why=failed[0].error or "")
            held = [d for d in wave if d.held is not None]
            if held:
                self._say(f"{label}: confirming the held commit on {len(held)} device(s)")
                failed = self._parallel(self._confirm, held, "confirm")
                if failed:
                    return self._abort(work, refreshed=done + wave, why=f"confirm failed: {failed[0].error}")
            done += wave
        if self.opts.phase == "commit":
            self.journal.write("phase_done", phase="commit")
            return self._finish("committed", f"{len(done)} device(s) committed; refresh phase pending", final=False)
        gc = [d for d in done if d.gc_commands]
        if gc:
            self._say("garbage-collecting the previous policy versions")
            self._parallel(self._gc, gc, "gc")
        for d in done:
            d.status = "deployed"
            if d.final_policy is not None:  # what `netchange undo` checks for drift and takes back
                self.journal.write("applied", d.name, policy=policy_to_json(d.final_policy), sync=False)
        return self._finish("deployed", f"{len(done)} device(s) changed, {sum(len(d.refresh) for d in done)} session(s) refreshed")

    def _continue_phase(self) -> dict:
        """Sharded pipelines: refresh (and GC) what a previous `--phase commit` job committed."""
        work = [d for d in self.devices if d.refresh or d.switch_commands or d.gc_commands]
        if self.opts.phase == "refresh":
            failed = self._parallel(self._barrier, work, "barrier")
            failed = failed or self._parallel(self._refresh, work, "refresh")
            failed = failed or self._parallel(self._postcheck, work, "postcheck")
            if failed:
                return self._abort(work, refreshed=work, why=failed[0].error or "")
        gc = [d for d in work if d.gc_commands]
        self._parallel(self._gc, gc, "gc")
        for d in work:
            d.status = "deployed"
        # A refreshed shard is not final: another shard may fail and `--phase rollback` must then find this
        # journal (with its "refreshed" records) to restore and refresh again, so it is not archived yet.
        return self._finish("deployed", f"{len(work)} device(s) refreshed", final=self.opts.phase != "refresh")

    def _rollback_from_journal(self) -> dict:
        originals = self.journal.originals()
        touched = [d for d in self.devices if d.name in originals]
        if not touched:  # (it used to say "rolled_back: restored 0 device(s)", exit 0, whatever had happened)
            last = self.journal.last_outcome()
            if last == "done":  # a completed deploy: rolling back is not what finishes anything, undo is
                return self._finish("refused", f"nothing to roll back: the last deploy of {self.change.id} completed; "
                                    f"to take it back run `netchange undo {self.change_file}`")
            # e.g. a shard that already rolled itself back, while the pipeline's rollback job runs on every shard
            return self._finish("no_op", f"nothing to roll back: no unfinished deploy of {self.change.id} in "
                                f"{self.journal.path.parent}" + (f" (its last run ended {last})" if last else ""))
        refreshed = self.journal.devices_with("refreshed")
        targets = self.journal.refresh_targets()
        holds = self._unconfirmed_holds()  # (all read from the interrupted run, before this run's own start)
        self.journal.write("start", change=self.change.id, devices=[d.name for d in touched], phase="rollback")
        for d in touched:
            d.original = policy_from_json(originals[d.name])
            d.reviewed = {"commands": [], "refresh": targets.get(d.name, []), "gc_commands": []}
            if d.name in holds:  # undone by the platform (or left to its timer when that is about to run out)
                d.held, d.held_until = holds[d.name]["held"], holds[d.name]["until"]
        failed = self._parallel(lambda d: self._rollback(d, refresh=d.name in refreshed), touched, "rollback")
        for d in failed:
            d.status = "rollback_failed"
        if failed:
            return self._finish("rollback_failed", "; ".join(d.error or "" for d in failed))
        return self._finish("rolled_back", f"restored {len(touched)} device(s) from the journal")

    def _abort(self, touched: list[Device], refreshed: list[Device], why: str) -> dict:
        self._say(f"rolling back: {why}")
        names = {d.name for d in refreshed}
        failed = self._parallel(lambda d: self._rollback(d, refresh=d.name in names), touched, "rollback")
        for d in failed:
            # lost mid-commit: nobody knows what it holds; else it holds the change (or part of the rollback)
            d.status = "unknown" if d.status == "committing" else "rollback_failed"
        touched_names = {d.name for d in touched}
        for d in self.devices:
            if d.name not in touched_names and d.status == "pending":
                d.status = "untouched"
        if failed:
            return self._finish("rollback_failed", f"{why}; rollback failed on " + "; ".join(str(d.step_error) for d in failed))
        return self._finish("rolled_back", why)

    def hold_seconds(self) -> float | None:
        """How long a held commit lives unconfirmed: `--revert-after`, else the longest the deploy may take
        from a device's commit to its confirmation (barrier and post-check reads, the pause, every refresh
        confirmation, an outbound re-send wait, the session settle, traffic verification) plus a margin.
        ValueError naming the devices whose platform cannot hold a commit that long (before any commit)."""
        o = self.opts
        if o.revert_after is not None:
            hold = float(o.revert_after)
        else:
            sessions = [d.session for d in self.devices if d.session is not None]
            refreshes = max((len(d.refresh) for d in self.devices), default=0)
            resend = max((s.driver.outbound_resend_seconds for s in sessions), default=0)
            verify = float(self.change.verify.window_seconds) + 15.0 if o.verifier else 0.0
            # one barrier for all waves: the last wave is confirmed after every earlier wave's refresh and checks
            try:
                waves = max(1, len(self._waves([d for d in self.devices if d.commands or d.switch_commands])))
            except InputError:  # an unknown canary: refused right after, with its own message
                waves = 1
            hold = (HOLD_MARGIN + 3 * READ_TIMEOUT + waves * (o.pause_before_refresh + (refreshes + 2) * o.refresh_timeout
                    + resend + POSTCHECK_SETTLE + verify))
        bad = []
        for d in self.devices:
            if d.session is None or not d.session.mode.holds() or d.session.mode.timer is None:
                continue
            try:
                d.session.mode.timer_value(hold)
            except ValueError as e:
                bad.append(f"{d.name}: {e}")
        if bad:
            raise ValueError("cannot hold the commits until the checks are done (--revert-after, --pause-before-refresh): "
                             + "; ".join(bad))
        return hold

    def _unconfirmed_holds(self) -> dict[str, dict]:
        """Devices whose last held commit was neither confirmed nor undone: {name: {held, until}}."""
        out: dict[str, dict] = {}
        for rec in self.journal.last_run():
            name: str = rec.get("device", "")
            if rec["step"] == "held":
                until = dt.datetime.fromisoformat(rec["until"]) if rec.get("until") else None
                out[name] = {"held": Held.from_dict(rec["held"]), "until": until}
            elif rec["step"] in ("confirmed", "reverted", "restored"):
                out.pop(name, None)
        return out

    def _await_self_reverts(self, holds: dict[str, dict]) -> None:
        """Resuming: an unconfirmed commit on a device with a revert timer is the device's to undo. Wait until
        every such timer ran out, so the re-plan sees what the device holds then; carry the others (NX-OS
        checkpoints) to be confirmed or reverted by this run."""
        by_name = {d.name: d for d in self.devices}
        timed = {n: h for n, h in holds.items() if h["until"] is not None}
        for name, h in holds.items():
            if name in timed:
                continue
            d = by_name.get(name)
            if d is not None:
                d.held = h["held"]
                self.journal.write("held", name, held=h["held"].as_dict(), until=None, carried=True)
        if not timed:
            return
        last = max(h["until"] for h in timed.values())
        left = (last - _utcnow()).total_seconds()
        if left > 0:
            self._say(f"waiting {left:.0f} s for the unconfirmed commit(s) of the interrupted deploy on "
                      f"{', '.join(sorted(timed))} to revert by themselves")
            time.sleep(left + REVERT_GRACE)
        for name in timed:
            self.journal.write("reverted", name, by="device")
            holds[name]["self_reverted"] = True

    def _waves(self, work: list[Device]) -> list[list[Device]]:
        waves: list[list[Device]] = []
        rest = list(work)
        if self.opts.canary:
            canary = [d for d in rest if d.name == self.opts.canary]
            if not canary:
                raise InputError(f"canary {self.opts.canary} is not a target that changes", Location("--canary"))
            waves.append(canary)
            rest = [d for d in rest if d.name != self.opts.canary]
        size = self.opts.batch or len(rest) or 1
        waves += [rest[i:i + size] for i in range(0, len(rest), size)]
        return [w for w in waves if w]

    def _finish(self, verdict: str, summary: str, final: bool = True) -> dict:
        self.verdict, self.summary = verdict, summary
        # ("committed" must not reuse the per-device "committed" step: Journal.refresh_targets reads those.)
        step = {"deployed": "done", "no_op": "no_op", "refused": "refused", "rolled_back": "rolled_back",
                "committed": "phase_committed", "undone": "undone"}.get(verdict, verdict)
        if step == "refused" and getattr(self, "resuming", False):
            step, final = "refused_attempt", False  # keep the interrupted deploy resumable
        self.journal.write(step, summary=summary)
        if final and step in ("done", "no_op", "refused", "rolled_back", "undone"):
            self.journal.archive()
        return self.report()

    def finish_command(self) -> str:
        """The command that finishes an interrupted job from the journal (the `--phase rollback` run)."""
        argv = ["netchange", "deploy", str(self.change_file), "--phase", "rollback"]
        if self.opts.journal_dir is not None:
            argv += ["--journal-dir", str(self.opts.journal_dir)]
        own = Path(self.inventory.directory).resolve()
        if self.inventory_given and own != (self.project.root / "inventory").resolve():
            argv += ["--inventory", str(own)]
        if self.opts.shard:
            argv += ["--shard", f"{self.opts.shard[0]}/{self.opts.shard[1]}"]
        return shlex.join(argv)

    def report(self) -> dict:
        action = None
        if self.verdict in NEEDS_A_PERSON:
            bad = [d.name for d in self.devices if d.status in ("rollback_failed", "unknown")]
            action = {"devices": bad, "command": self.finish_command(),
                      "why": f"{', '.join(bad) or 'some devices'} may still hold (part of) {self.change.id}: fix what "
                             "their rows say (unreachable, a daemon down), then run this command: it restores them "
                             "from the journal and refreshes"}
        return {"format": "netchange-deploy/1", "change": self.change.id, "verdict": self.verdict, "summary": self.summary,
                **({"action": action} if action else {}),
                "seconds": round(time.monotonic() - self.started, 3),
                "timings": {k: round(v, 3) for k, v in self.timings.items()},
                "checks": [c.as_dict() for c in self.run_checks],
                "devices": [d.as_dict() for d in self.devices]}
