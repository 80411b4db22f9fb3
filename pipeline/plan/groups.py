"""Bindings on peer-groups (FRR, IOS, EOS) and Junos BGP groups.

A neighbor that takes its binding from its group is never split off it: a change binding for such a neighbor
is planned on the group (every member without a binding of its own follows, and is refreshed). A member with
a binding of its own, or in a group without one, is bound itself (on Junos inside the group that holds it).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InputError, Location
from ..model.policy import DevicePolicy
from ..model.resolve import Desired
from ..model.routing import NeighborBinding

BindingKey = tuple[str, str, str]


def regroup(desired: list[Desired], running: DevicePolicy, host: str, change_id: str) -> list[Desired]:
    out: list[Desired] = []
    on_group: dict[BindingKey, tuple[str, NeighborBinding | None]] = {}
    for d in desired:
        if d.kind != "binding" or d.key in running.bindings or not isinstance(d.key, tuple):
            out.append(d)
            continue
        neighbor, afi, direction = (str(k) for k in d.key)
        group = running.group_of(neighbor)
        if group is None or (group, afi, direction) not in running.bindings:
            out.append(d)
            continue
        key = (group, afi, direction)
        obj = d.obj.model_copy(update={"neighbor": group}) if isinstance(d.obj, NeighborBinding) else None
        moved = Desired("binding", key, obj)
        if key in on_group:
            other, first = on_group[key]
            if (first.route_map if first else None) != (obj.route_map if obj else None):
                raise InputError(f"{host}: neighbors {other} and {neighbor} take their {afi} {direction} binding from "
                                 f"peer-group {group}, but this change binds them differently: bind the group's "
                                 "members alike, or give one its own binding on the device first",
                                 Location(f"policies/changes/{change_id}.yaml", field="routing.bindings"))
            continue
        on_group[key] = (neighbor, obj)
        out.append(moved)
    return out


def touched_groups(policy: DevicePolicy, keys: Iterable[object]) -> dict[str, list[str]]:
    """Groups among binding keys, with their members (what the plan shows)."""
    names = [str(k[0]) for k in keys if isinstance(k, tuple) and k]
    return {g: list(policy.peer_groups[g]) for g in names if g in policy.peer_groups}
