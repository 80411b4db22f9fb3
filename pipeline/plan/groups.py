"""Bindings on peer-groups (FRR, IOS, EOS) and Junos BGP groups.

A neighbor that takes its binding from its group is never split off it: a change binding for such a neighbor
is planned on the group (every member without a binding of its own follows, and is refreshed). A member with
a binding of its own, or in a group without one, is bound itself (on Junos inside the group that holds it).
"""

from __future__ import annotations

from ..errors import InputError, Location
from ..model.policy import DevicePolicy
from ..model.resolve import Desired


def regroup(desired: list[Desired], running: DevicePolicy, host: str, change_id: str) -> list[Desired]:
    out: list[Desired] = []
    on_group: dict[tuple, tuple[str, Desired]] = {}
    for d in desired:
        if d.kind != "binding" or d.key in running.bindings:
            out.append(d)
            continue
        neighbor, afi, direction = d.key
        group = running.group_of(neighbor)
        if group is None or (group, afi, direction) not in running.bindings:
            out.append(d)
            continue
        key = (group, afi, direction)
        moved = Desired("binding", key, d.obj.model_copy(update={"neighbor": group}) if d.obj is not None else None)
        if key in on_group:
            other, first = on_group[key]
            if (first.obj and first.obj.route_map) != (moved.obj and moved.obj.route_map):
                raise InputError(f"{host}: neighbors {other} and {neighbor} take their {afi} {direction} binding from "
                                 f"peer-group {group}, but this change binds them differently: bind the group's "
                                 "members alike, or give one its own binding on the device first",
                                 Location(f"policies/changes/{change_id}.yaml", field="routing.bindings"))
            continue
        on_group[key] = (neighbor, moved)
        out.append(moved)
    return out


def touched_groups(policy: DevicePolicy, keys) -> dict[str, list[str]]:
    """Groups among binding keys, with their members (what the plan shows)."""
    return {k[0]: list(policy.peer_groups[k[0]]) for k in keys if k[0] in policy.peer_groups}
