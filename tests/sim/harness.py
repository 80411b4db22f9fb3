"""Plan with netchange, deliver into a simulator, check every step (test support, imports pipeline).

`run_change` is the property the tests assert over corpus and generated configs:
1. netchange plans the change against the running text (`plan_device` with the platform's driver); a visible
   refusal (the platform cannot express it, or it would rewrite lines netchange cannot model) sends nothing;
2. the simulator takes phase 1 (held, where the platform can), then the held-back switch commands, the
   confirmation, then the GC commands, each batch sent by the driver's own commit mode (`SimCli`: line by
   line, IOS revert timer, AOS-CX auto checkpoint; EOS and NX-OS configure sessions; Junos candidate +
   `commit check` + `commit confirmed`, whose commit check refuses dangling references);
3. after every command: no reference dangles that did not dangle before, and every live attachment point
   (BGP binding, interface ACL, redistribution) behaves on sample routes/packets as it did before or as it
   does at the end - never a third way (a window);
4. planning again from what the simulator prints is empty (after the switches and after GC); planned again
   between phase 1 and the switches (a phased deploy's refresh job), it sends nothing more in phase 1 and its
   barrier holds.
"""

from __future__ import annotations

import ipaddress
import textwrap
from dataclasses import dataclass, field
from typing import Any

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.inventory import Host, HostData
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.expect import unmet
from pipeline.plan.planner import DevicePlan, UnmodelledConfig, plan_device

from . import simulator
from .errors import Rejected, Unmodelled
from .policy import WindowCheck


@dataclass
class Problem:
    kind: str  # rejected | unmodelled | dangling | window | not_converged | phased | plan_error
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.detail}"


@dataclass
class Run:
    platform: str
    running: str
    change: ChangeRequest
    plan: DevicePlan | None = None
    problems: list[Problem] = field(default_factory=list)
    final: str = ""
    replan_ops: list[str] = field(default_factory=list)
    refused: str | None = None  # netchange refused the change (UnsupportedConstruct, UnmodelledConfig): nothing sent

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}

    def report(self, limit: int = 40) -> str:
        """A minimal reproduction for a person: the change, the commands, what went wrong."""
        routing = self.change.routing.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        firewall = self.change.firewall.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        lines = [f"platform {self.platform}, strategy {self.plan.strategy if self.plan else '?'}",
                 f"change: {routing or ''} {firewall or ''}"]
        if self.plan:
            lines.append("phase 1: " + " | ".join(self.plan.commands[:limit]))
            if self.plan.switch_commands:
                lines.append("switch: " + " | ".join(self.plan.switch_commands[:limit]))
            if self.plan.gc_commands:
                lines.append("gc: " + " | ".join(self.plan.gc_commands[:limit]))
        lines += [str(p) for p in self.problems[:12]]
        if len(self.problems) > 12:
            lines.append(f"... {len(self.problems) - 12} more")
        return "\n".join(textwrap.shorten(x, 600) if len(x) > 600 else x for x in lines)


def host_for(platform: str, sim: Any, name: str = "dut", attachments: dict | None = None, extra: dict | None = None) -> Host:
    """An inventory host matching what the running config declares (ASN, neighbors, interfaces)."""
    facts = sim.bgp_facts()
    data: dict[str, Any] = {"driver": platform, **(extra or {})}
    if facts is not None and facts[0] > 0:
        asn, nbrs = facts
        data["bgp"] = {"asn": asn, "neighbors": [
            {"address": a, "remote_as": ras, "afis": [f"{'ipv4' if ipaddress.ip_address(a).version == 4 else 'ipv6'}_unicast"]}
            for a, ras in sorted(nbrs.items())]}
    if attachments:
        data["firewall"] = {"attachments": attachments}
    return Host(name=name, hostname=None, data=HostData.model_validate(data))


HOLD = 600.0  # seconds the deployer holds phase 1 (commit-confirm) where the platform can


class SimCli:
    """The deployer's `Cli` (pipeline/drivers/commit.py) over a simulator: the driver's own commit mode decides
    every command sent (how configuration mode is entered, sessions, commit, timers, confirm), so the
    simulators take exactly the sequences a deploy sends. `after(command)` runs after each one."""

    name = "dut"

    def __init__(self, sim: Any, checks: "Checks | None"):
        self.sim = sim
        self.checks = checks
        self.sent: list[str] = []

    def _after(self, command: str) -> None:
        self.sent.append(command)
        if self.checks is not None:
            self.checks.after(command)

    def configure(self, lines, *, enter: str | None = None, leave: bool = True) -> str:
        self.sim.enter_config(enter)
        if enter is not None:
            self.sent.append(enter)
        for line in lines:
            self.sim.apply(line)
            self._after(line)
        if leave:
            self.sim.leave_config()
        return ""

    def execute(self, command: str, *, checked: bool = True) -> str:
        self.sim.execute(command)
        self._after(command)
        return ""

    def abandon(self, commands) -> None:
        raise AssertionError("a commit mode abandons only after a device error; the simulator raises Rejected instead")

    def upload(self, path: str, text: str) -> None:
        raise AssertionError("no simulated platform uploads files")


def deliver(sim: Any, mode: Any, commands: list[str], tag: str, checks: "Checks | None", hold: float | None = None) -> Any:
    """Push one batch through the driver's commit mode (held when *hold*); check the live state after each
    command. Returns the held commit (or None) for `confirm`."""
    if not commands:
        return None
    _, held = mode.push(SimCli(sim, checks), commands, tag, hold if mode.holds() else None)
    return held


def phased_replan(run: Run, driver: Any, host: Host, after_phase1: str, change: ChangeRequest, store: ObjectStore,
                  strategy: str | None) -> None:
    """A phased deploy (`--phase commit`, then `--phase refresh` in another job, as the sharded pipeline runs
    it) plans again from the device between the phases: that plan must send nothing more in phase 1, and
    the device must already hold what it expects after phase 1 (its barrier)."""
    again = plan_device(host, driver, after_phase1, change, store, strategy=strategy)
    missing = unmet(driver.parse(after_phase1), again.expect_after_commit, driver.canonical)
    if again.commands or missing:
        run.problems.append(Problem("phased", "planning again after phase 1: " + " | ".join(again.commands[:12])
                                    + (f" | barrier: {'; '.join(missing[:3])}" if missing else "")))


def confirm(sim: Any, mode: Any, held: Any, checks: "Checks | None") -> None:
    if held is not None:
        mode.confirm(SimCli(sim, checks), held)


class Checks:
    def __init__(self, sim: Any, old_view: Any, new_view: Any):
        self.sim = sim
        self.before = old_view.dangling()
        self.windows = WindowCheck(old_view, new_view)
        self.problems: list[Problem] = []
        self._seen_dangling: set = set()
        self._seen_points: set = set()

    def after(self, command: str) -> None:
        v = self.sim.live_view()
        for ref in sorted(v.dangling() - self.before - self._seen_dangling, key=str):
            self._seen_dangling.add(ref)
            self.problems.append(Problem("dangling", f"after {command!r}: {ref.source} needs {ref.kind.replace('_', '-')} "
                                                     f"{ref.name}, which does not exist"))
        for w in self.windows.check(v, command):
            if w.point not in self._seen_points:
                self._seen_points.add(w.point)
                self.problems.append(Problem("window", str(w)))


def run_change(platform: str, running: str, change: ChangeRequest, host: Host, store: ObjectStore | None = None,
               strategy: str | None = None, check_steps: bool = True) -> Run:
    store = store or ObjectStore()
    run = Run(platform, running, change)
    driver = get_driver(platform)
    try:
        run.plan = plan_device(host, driver, running, change, store, strategy=strategy)
    except (UnsupportedConstruct, UnmodelledConfig) as e:
        # refused visibly, before anything is sent: what netchange promises (the platform cannot express the
        # change; or the change would rewrite lines netchange cannot model, which it never does)
        run.refused = str(e)
        return run
    except Exception as e:  # noqa: BLE001 - the report says what went wrong instead of a plan
        run.problems.append(Problem("plan_error", f"{type(e).__name__}: {e}"))
        return run
    plan = run.plan
    # the deployer: phase 1 held (commit-confirm) where the platform can, the switches, then the confirmation
    mode = driver.commit_mode_for(running)
    batches = [("phase1", plan.commands, HOLD), ("switch", plan.switch_commands, None)]
    # 1st pass: where the plan ends up (the "new" side of every window)
    base = simulator(platform, running)
    final = base.fork()
    old_view = base.view()
    try:
        helds = [deliver(final, mode, plan.commands, "phase1", None, HOLD)]
        if plan.switch_commands:
            phased_replan(run, driver, host, final.show(), change, store, strategy)
        helds.append(deliver(final, mode, plan.switch_commands, "switch", None))
        for held in helds:
            confirm(final, mode, held, None)
    except Rejected as e:
        run.problems.append(Problem("unmodelled" if isinstance(e, Unmodelled) else "rejected",
                                    f"{e.command!r} refused: {e.message}"))
        return run
    new_view = final.view()
    # 2nd pass: every step checked against the old and the final behaviour
    if check_steps:
        sim = base.fork()
        checks = Checks(sim, old_view, new_view)
        helds = [deliver(sim, mode, cmds, tag, checks, hold) for tag, cmds, hold in batches]
        for held in helds:
            confirm(sim, mode, held, checks)
        run.problems += checks.problems
    run.final = final.show()
    again = plan_device(host, driver, run.final, change, store, strategy=strategy)
    if not again.empty:
        run.replan_ops = list(again.ops)
        run.problems.append(Problem("not_converged", "planning again after the switches: " + "; ".join(again.ops)
                                    + " | commands: " + " | ".join((again.commands + again.switch_commands)[:12])))
    if plan.gc_commands:
        try:
            deliver(final, mode, plan.gc_commands, "gc", None)
        except Rejected as e:
            run.problems.append(Problem("rejected", f"gc: {e.command!r} refused: {e.message}"))
            return run
        dangling = final.view().dangling() - old_view.dangling()
        for ref in sorted(dangling, key=str):
            run.problems.append(Problem("dangling", f"after gc: {ref.source} needs {ref.kind} {ref.name}"))
        run.final = final.show()
        again = plan_device(host, driver, run.final, change, store, strategy=strategy)
        if not again.empty:
            run.problems.append(Problem("not_converged", "planning again after gc: " + "; ".join(again.ops)))
    return run
