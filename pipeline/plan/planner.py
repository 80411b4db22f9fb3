"""Plan one device: running config text + change -> ordered commands, refresh set, diff, impact.

Pure: no I/O. The runner feeds it one device at a time (streaming), so memory stays bounded by one
device's config whatever the fleet size.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from pydantic import BaseModel

from ..drivers.base import Driver
from ..errors import NetchangeError
from ..inventory import Host
from ..model.change import ChangeRequest
from ..model.objects import ObjectStore
from ..model.policy import DevicePolicy, Kind
from ..model.routing import RouteMap
from ..model.resolve import Desired, resolve
from ..parsers.focus import Focus
from .diff import SEQUENCED, apply_desired, diff
from .expect import expectations
from .impact import Route, impact, unavailable
from .order import order
from .ops import Bind, Create, Delete, Op, Repoint, Unbind
from .references import lookup_context, refuse_dangling
from .groups import regroup, touched_groups
from .refresh import refresh_set
from .replay import replay
from .shadow import shadowed
from .versioned import Names, collectable, logical_view, split_version, versioned_plan


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class DevicePlan:
    host: str
    platform: str
    running_hash: str
    strategy: str
    ops: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    switch_commands: list[str] = field(default_factory=list)  # phase 2, right before the refresh
    # The device state the barrier expects after phase 1, and after the switches (touched keys only).
    expect_after_commit: list[dict[str, Any]] = field(default_factory=list)
    expect_after_switch: list[dict[str, Any]] = field(default_factory=list)
    gc_commands: list[str] = field(default_factory=list)
    rollback_commands: list[str] = field(default_factory=list)
    refresh: list[dict[str, Any]] = field(default_factory=list)
    diff: str = ""
    impact: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Lines the parser could not model inside objects this plan would rewrite: the plan is refused (no
    # commands) and lists them ({kind, name, line, note}). See UnmodelledConfig.
    refused: list[dict[str, Any]] = field(default_factory=list)
    # Peer-groups / Junos BGP groups whose binding this plan changes or whose members it refreshes: {group: members}.
    groups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.commands or self.switch_commands or self.gc_commands or self.refused)

    def as_dict(self) -> dict[str, Any]:
        # Shallow: the fields are already plain JSON values (asdict deep-copied a 20,000-entry expectation).
        return {f.name: getattr(self, f.name) for f in fields(self)}


class UnmodelledConfig(NetchangeError):
    """The change would rewrite objects holding configuration the parser could not model: the rewrite
    would drop or change those lines without the diff showing it. `plan` is the device's refused plan."""

    exit_code = 4

    def __init__(self, plan: DevicePlan):
        self.plan = plan
        lines = "\n".join(f"  {r['kind'].replace('_', '-')} {r['name']}: {r['note']}" for r in plan.refused)
        super().__init__(f"{plan.host}: refusing to plan: {len(plan.refused)} line(s) netchange cannot model sit in "
                         f"objects this change rewrites (edit them by hand first, or leave those objects out):\n{lines}")


def _name_of(x: object) -> Any:
    """x.name, or None where x has none. A model class without a `name` is known nameless once: a missing
    attribute on a pydantic instance raises (in its metaclass) per entry, 20,000 times for a large list."""
    cls = type(x)
    nameless = _NAMELESS.get(cls)
    if nameless is None:
        nameless = _NAMELESS[cls] = (issubclass(cls, BaseModel) and "name" not in cls.model_fields
                                     and cls.model_config.get("extra") != "allow" and not hasattr(cls, "name"))
    return None if nameless else getattr(x, "name", None)


_NAMELESS: dict[type, bool] = {}


def _rewritten(ops: list[Op], names: Names | None) -> set[tuple[str, str]]:
    """(kind, name) of every device object the ops write, delete or copy: under versioned names, the
    logical object and the version the device has now."""
    out: set[tuple[str, str]] = set()
    for op in ops:
        found = {op.name} | {_name_of(getattr(op, a, None)) for a in ("obj", "old", "new")}
        for n in filter(None, found):
            out.add((op.kind, n))
            if names is not None:
                base = split_version(n)[0]
                out |= {(op.kind, base), (op.kind, names.of(op.kind, base))}
    return out


def _describe(op: Op) -> str:
    detail = ""
    for attr in ("entry", "new"):
        e = getattr(op, attr, None)
        if e is not None and getattr(e, "seq", None) is not None:
            detail = f" seq {e.seq}"
    if isinstance(op, (Bind, Unbind)):  # op.kind == "binding"
        b = op.binding
        detail = f" -> {b.route_map}" if getattr(b, "route_map", None) and op.verb == "Bind" else ""
        if getattr(b, "is_group", False):
            detail += " (group: its members follow)"
    if isinstance(op, Repoint):
        return f"Repoint {op.use.who}: {op.use.name} -> {op.to}"
    return f"{op.verb} {op.kind} {op.name}{detail}"


def _keys(ops: list[Op]) -> list[tuple[Kind, object]]:
    seen: list[tuple[Kind, object]] = []
    for o in ops:
        k = (o.kind, o.binding.key if isinstance(o, (Bind, Unbind)) else o.name)
        if k not in seen:
            seen.append(k)
    return seen


def split_switches(driver: Driver, ops: list[Op]) -> tuple[list[Op], list[Op]]:
    """Where a binding switch applies at once, it (and the tear-down ordered after it) waits for phase 2."""
    if not driver.binding_switch_is_refresh:
        return ops, []
    idx = next((i for i, o in enumerate(ops) if isinstance(o, (Bind, Unbind, Repoint))), len(ops))
    return ops[:idx], ops[idx:]


def _undo_versioned(commit_ops: list[Op]) -> list[Op]:
    """Switch bindings back to the old versions, then drop the new ones (the old objects were never touched)."""
    undo: list[Op] = []
    for op in commit_ops:
        if isinstance(op, Bind):
            undo.append(Bind(op.kind, op.name, op.old, op.binding) if op.old is not None else Unbind(op.kind, op.name, op.binding))
        elif isinstance(op, Unbind):
            undo.append(Bind(op.kind, op.name, op.binding))
        elif isinstance(op, Repoint):
            undo.append(Repoint(op.kind, op.use.name, op.use.renamed(op.to), op.use.name))
        elif isinstance(op, Create):
            undo.append(Delete(op.kind, op.name, op.obj))
    return order(undo)


def _section_text(driver: Driver, policy: DevicePolicy, keys: list[tuple[Kind, object]], host: Host) -> str:
    """The touched objects as the device prints them, whole: a unified diff of two texts numbers its hunks by
    their lines (a diff of a large list drawn from its changed entries alone merged distant hunks into one and
    numbered them wrongly; printing a whole 20,000-entry list is one macro call, ~0.1 s)."""
    objs = [(k, key, policy.get(k, key)) for k, key in keys]
    desired = [Desired(k, key, obj) for k, key, obj in objs if obj is not None]
    return driver.render(desired, host, known=policy) if desired else ""


def focus_for(desired: list[Desired]) -> Focus:
    """Lists and filters the change touches; route-maps and BGP are always read."""
    lists: set[str] = set()
    for d in desired:
        if d.kind in ("prefix_list", "community_list", "as_path_list"):
            lists.add(str(d.key))
        elif isinstance(d.obj, RouteMap):  # d.kind == "route_map", present
            lists.update(name for _, name in d.obj.references())
    return Focus(lists=frozenset(lists), filters=frozenset(str(d.key) for d in desired if d.kind == "filter"))


def _no_routes_why(driver: Driver, host: Host, received: dict[tuple[str, str], list[Route]] | None) -> str:
    if not driver.impact_preview:
        return f"the preview follows FRR's route-map semantics; {host.platform.value} is not previewed"
    if received is None:
        return f"none were read (offline: no {host.name}.routes/<neighbor>_<afi>.json beside the snapshot)"
    return "the device showed neither received nor accepted routes of this neighbor in this address family"


def plan_device(host: Host, driver: Driver, running_text: str, change: ChangeRequest, store: ObjectStore,
                strategy: str | None = None, received: dict[tuple[str, str], list[Route]] | None = None,
                parsed: DevicePolicy | None = None, peers: Mapping[str, Host] | None = None) -> DevicePlan:
    """`parsed`: running_text already parsed in full (a focused parse reads the same touched objects);
    `peers`: the inventory's hosts (bindings that name a neighbor by its host)."""
    strategy = strategy or change.strategy
    # Lists and route-maps in the form the platform keeps them (bounds, sequence numbers): what the device will
    # print back, so that planning again after the deploy finds nothing to do.
    desired = [Desired(d.kind, d.key, driver.canonical(d.kind, d.obj)) if d.obj is not None and d.kind in SEQUENCED else d
               for d in resolve(change, store, host, peers)]
    running = parsed if parsed is not None else driver.parse(running_text, focus=focus_for(desired))
    desired = regroup(desired, running, host.name, change.id)
    view, names = logical_view(running) if strategy == "versioned" else (running, None)
    intended = apply_desired(view, desired)
    touched = {(d.kind, d.key) for d in desired}
    refuse_dangling(host, change, view, intended, touched, driver.canonical)  # nothing deleted that is still used
    driver.check_plan(view, intended, touched)
    ops = order(diff(view, intended, only=touched, canonical=driver.canonical))
    plan = DevicePlan(host=host.name, platform=host.platform.value, running_hash=config_hash(running_text),
                      strategy=strategy, skipped=list(running.skipped))
    if not ops:
        return plan
    if strategy == "versioned":
        assert names is not None  # logical_view() ran
        commit_ops, gc_ops = versioned_plan(view, intended, ops, names)
        commit_ops, gc_ops = order(commit_ops), order(gc_ops)
        gc_ops, kept = collectable(replay(running, commit_ops), gc_ops)
        rollback_ops = _undo_versioned(commit_ops)
    else:
        # where every line is live, a route-map edit that is not one safe step is made on a copy (plan/shadow.py)
        commit_ops, gc_ops, kept = shadowed(driver, host, view, intended, ops), [], []
        rollback_ops = shadowed(driver, host, intended, view, order(diff(intended, view, only=touched, canonical=driver.canonical)))
    plan.ops = [_describe(o) for o in commit_ops] + [f"(after verification) {_describe(o)}" for o in gc_ops]
    plan.ops += [f"(after verification) {k}" for k in kept]
    refused = running.unmodelled_in(_rewritten(commit_ops + gc_ops, names))
    if refused:
        plan.refused = [s.as_dict() for s in refused]
        raise UnmodelledConfig(plan)
    phase1, switch = split_switches(driver, commit_ops)
    # Versioned ops name objects (`X.ncN`) that only the device-side state knows: render in that context.
    context = replay(running, commit_ops) if strategy == "versioned" else lookup_context(intended, view)
    plan.commands = driver.render_ops(phase1, context, host) if phase1 else []
    plan.switch_commands = driver.render_ops(switch, context, host) if switch else []
    plan.gc_commands = driver.render_ops(gc_ops, replay(context, gc_ops), host) if gc_ops else []
    after_commit = replay(running, phase1)
    plan.expect_after_commit = expectations(after_commit, _keys(phase1))
    plan.expect_after_switch = expectations(replay(after_commit, switch), _keys(phase1 + switch))
    # in place, the undo prints `no match` clauses naming lists the change created: look them up too
    plan.rollback_commands = driver.rollback_commands(rollback_ops, lookup_context(view, intended) if strategy == "in_place"
                                                      else running, host)
    plan.groups = touched_groups(running, [d.key for d in desired if d.kind == "binding"])
    for t in refresh_set(view, intended, ops):
        plan.refresh.append({"neighbor": t.neighbor, "afi": t.afi, "direction": t.direction,
                             "commands": driver.refresh_commands(t.neighbor, t.afi, t.direction),
                             **({"group": t.group} if t.group else {})})
        if t.group:
            plan.groups.setdefault(t.group, list(running.peer_groups.get(t.group, ())))
        if t.direction != "in":
            continue
        routes = (received or {}).get((t.neighbor, t.afi))
        if routes is not None:
            plan.impact.append(impact(view, intended, t.neighbor, t.afi, "in", routes).as_dict())
        else:  # said in the plan, never an empty preview that reads as "no impact"
            plan.impact.append(unavailable(t.neighbor, t.afi, "in", _no_routes_why(driver, host, received)).as_dict())
    keys = sorted(touched, key=str)
    before = _section_text(driver, view, keys, host)
    after = _section_text(driver, intended, keys, host)
    plan.diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                             f"{host.name} running", f"{host.name} intended"))
    return plan
