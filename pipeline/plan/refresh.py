"""Which neighbor x address family x direction must be soft-refreshed after the edits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.policy import DevicePolicy
from .ops import Bind, Op, Repoint, Unbind


@dataclass(frozen=True, order=True)
class RefreshTarget:
    neighbor: str
    afi: str
    direction: str
    # The peer-group / Junos group whose binding reaches this member (not part of its identity: a member
    # reached twice is refreshed once).
    group: str | None = field(default=None, compare=False)


def affected_route_maps(intended: DevicePolicy, ops: list[Op]) -> set[str]:
    """Route-maps whose behaviour may change: edited themselves, or referencing an edited object."""
    touched = {(op.kind, op.name) for op in ops if op.kind != "binding"}
    out = {name for kind, name in touched if kind == "route_map"}
    for rm in intended.route_maps.values():
        if any(ref in touched for ref in rm.references()):
            out.add(rm.name)
    return out


def refresh_set(running: DevicePolicy, intended: DevicePolicy, ops: list[Op]) -> list[RefreshTarget]:
    rms = affected_route_maps(intended, ops) | affected_route_maps(running, ops)
    keys: set[tuple[str, str, str]] = set()
    for key, b in intended.bindings.items():
        if b.route_map in rms:
            keys.add(key)
    for op in ops:
        if isinstance(op, (Bind, Unbind)):
            keys.add(op.binding.key)
        elif isinstance(op, Repoint) and op.use.kind == "route_map":
            keys.update(op.use.covers)  # a re-pointed binding line switches the sessions it decides
    out: set[RefreshTarget] = set()
    for neighbor, afi, direction in keys:
        group_policy = intended if neighbor in intended.peer_groups else running if neighbor in running.peer_groups else None
        if group_policy is None:
            out.add(RefreshTarget(neighbor, afi, direction))
        else:  # every member the group's binding reaches, once
            for member in group_policy.members(neighbor, afi, direction):
                if RefreshTarget(member, afi, direction) not in out:
                    out.add(RefreshTarget(member, afi, direction, neighbor))
    return sorted(out)
