"""Put a device's policy objects back to a recorded state, in dependency order, and refresh.

Only objects a plan could have rewritten are put back: one holding configuration the parser could not model
is left as the device has it."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from ..model.policy import DevicePolicy
from ..plan.diff import diff
from ..plan.order import order
from ..plan.refresh import refresh_set
from .device import DeviceSession, PushResult


def restore(session: DeviceSession, original: DevicePolicy, refresh: bool,
            extra_refresh: AbstractSet[tuple[str, str, str]] = frozenset()) -> tuple[PushResult, list[tuple[str, str, str]]]:
    """Diff the device's current policy against `original`, push the ordered edits, refresh if asked.

    Returns what was pushed and which (neighbor, afi, direction) were refreshed.
    """
    current = session.driver.parse(session.fetch())
    # An object that held lines the parser could not model was never rewritten by a plan (the planner
    # refuses that), so a difference there is someone else's: putting the parsed model back would drop them.
    ops = [op for op in order(diff(current, original, canonical=session.driver.canonical))
           if not original.unmodelled_in({(op.kind, op.name)})]
    # The recorded objects, placed by where things sit on the device now: drivers that edit by the device's
    # own handles (nftables) address the rules the change added, and touch nothing else.
    target = original.copy()
    target.device = current.device
    commands = session.driver.render_ops(ops, target, session.host) if ops else []
    res = session.push(commands, tag="rollback")
    done: list[tuple[str, str, str]] = []
    if refresh:
        targets = {(t.neighbor, t.afi, t.direction) for t in refresh_set(current, original, ops)} | set(extra_refresh)
        for nbr, afi, direction in sorted(targets):
            for cmd in session.driver.refresh_commands(nbr, afi, direction):
                session.run(cmd)
            done.append((nbr, afi, direction))
    return res, done
