"""Make-before-break: build changed route-maps and lists under new versioned names, switch the
bindings in one command each, and garbage-collect the old objects only after the change is verified.

Versioned names are `<NAME>.nc<N>`; the logical name (what change requests use) is `<NAME>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..drivers.render import UnsupportedConstruct
from ..model.policy import DevicePolicy, Kind, PolicyObject
from ..model.routing import NeighborBinding, RouteMap
from .ops import Bind, Create, Delete, Op, Repoint, Unbind
from .refresh import affected_route_maps

_VERSIONED = re.compile(r"^(?P<base>.+)\.nc(?P<n>\d+)$")
LISTS: tuple[Kind, ...] = ("prefix_list", "community_list", "as_path_list")
_MATCH_KIND = {"prefix_list": "prefix_list", "next_hop_prefix_list": "prefix_list", "community_list": "community_list",
               "large_community_list": "community_list", "as_path": "as_path_list"}


def split_version(name: str) -> tuple[str, int]:
    m = _VERSIONED.fullmatch(name)
    return (m.group("base"), int(m.group("n"))) if m else (name, 0)


@dataclass
class Names:
    """Logical name -> the name the device actually uses (and its version)."""

    actual: dict[tuple[str, str], str] = field(default_factory=dict)
    version: dict[tuple[str, str], int] = field(default_factory=dict)

    def of(self, kind: str, logical: str) -> str:
        return self.actual.get((kind, logical), logical)

    def next(self, kind: str, logical: str) -> str:
        return f"{logical}.nc{self.version.get((kind, logical), 0) + 1}"


def _map_of(b: NeighborBinding) -> str:
    """The route-map of a binding in a policy (present: the model requires one)."""
    assert b.route_map is not None
    return b.route_map


def rename_refs(rm: RouteMap, names: dict[tuple[str, str], str], new_name: str | None = None) -> RouteMap:
    entries = []
    for e in rm.entries:
        m = {f: names.get((k, getattr(e.match, f)), getattr(e.match, f)) for f, k in _MATCH_KIND.items() if getattr(e.match, f)}
        s = {}
        if e.set.community_delete:
            s["community_delete"] = names.get(("community_list", e.set.community_delete), e.set.community_delete)
        entries.append(e.model_copy(update={"match": e.match.model_copy(update=m), "set": e.set.model_copy(update=s)}))
    return rm.model_copy(update={"entries": tuple(entries), **({"name": new_name} if new_name else {})})


def logical_view(running: DevicePolicy) -> tuple[DevicePolicy, Names]:
    """Running policy with versioned objects under their logical names (highest version wins)."""
    names = Names()
    view = running.copy()
    for kind in (*LISTS, "route_map"):
        table = view.table(kind)
        for name in sorted(list(table), key=lambda n: split_version(n)[1]):
            base, n = split_version(name)
            if n:
                obj = table.pop(name)
                table[base] = obj.model_copy(update={"name": base})
                names.actual[(kind, base)] = name
                names.version[(kind, base)] = n
    to_logical = {(k, actual): base for (k, base), actual in names.actual.items()}
    view.route_maps = {n: rename_refs(rm, to_logical) for n, rm in view.route_maps.items()}
    view.bindings = {k: b.model_copy(update={"route_map": to_logical.get(("route_map", _map_of(b)), b.route_map)})
                     for k, b in view.bindings.items()}
    return view, names


class NotVersionable(UnsupportedConstruct):
    """Something on the device names an object the change would version, in a way netchange cannot re-point."""


def versioned_plan(running_logical: DevicePolicy, intended: DevicePolicy, ops: list[Op], names: Names) -> tuple[list[Op], list[Op]]:
    """(commit ops, garbage-collection ops) for the versioned strategy.

    Every list and route-map the change edits, and every route-map that references one, is created whole
    under its next version. Every device line that names the current version (`DevicePolicy.uses`: where a
    binding is written - the neighbor's, a peer group's, router level -, `redistribute ... route-map`, a
    neighbor's prefix-list, a Junos group's import, a firewall term's prefix-list) is re-pointed at the new
    one where it stands, in one command; bindings that no such line decides switch as before. Old versions
    go in the GC phase.
    """
    touched = {(op.kind, op.name) for op in ops if op.kind in LISTS or op.kind == "route_map"}
    rms = {n for n in affected_route_maps(intended, ops) if n in intended.route_maps}
    new_names: dict[tuple[Kind, str], str] = {}
    for kind, name in touched:
        if intended.get(kind, name) is not None and kind in LISTS:
            new_names[(kind, name)] = names.next(kind, name)
    for name in rms:
        new_names[("route_map", name)] = names.next("route_map", name)
    # References to lists this change does not touch keep the device's actual names.
    ref_names: dict[tuple[str, str], str] = {(k, n): names.of(k, n) for k in LISTS for n in intended.table(k)}
    ref_names.update(new_names.items())
    commit: list[Op] = []
    gc: list[Op] = []
    repointed: set[tuple[str, str, str]] = set()
    for (kind, name), new in sorted(new_names.items()):
        obj: PolicyObject
        if kind == "route_map":
            obj = rename_refs(intended.route_maps[name], ref_names, new)
        else:
            obj = intended.table(kind)[name].model_copy(update={"name": new})
        commit.append(Create(kind, new, obj))
        actual = names.of(kind, name)
        for use in running_logical.uses_of(kind, actual):
            if not use.repointable:
                raise NotVersionable(f"{use.who} names {kind.replace('_', '-')} {actual} in a way netchange cannot "
                                     f"re-point to {new}: change it with strategy: in_place")
            commit.append(Repoint(kind, new, use, new))
            repointed.update(use.covers)
        if (cur := running_logical.get(kind, name)) is not None:
            gc.append(Delete(kind, actual, cur.model_copy(update={"name": actual})))
    for key, b in intended.bindings.items():
        old = running_logical.bindings.get(key)
        target = new_names.get(("route_map", _map_of(b)), names.of("route_map", _map_of(b)))
        if old is not None and old.route_map == b.route_map and key in repointed:
            continue  # the line that decides this binding names the new version already
        if old is None or old.route_map != b.route_map or ("route_map", b.route_map) in new_names:
            old_actual = old.model_copy(update={"route_map": names.of("route_map", _map_of(old))}) if old else None
            commit.append(Bind("binding", "/".join(key), b.model_copy(update={"route_map": target}), old_actual))
    for op in ops:
        if isinstance(op, Unbind):
            commit.append(Unbind("binding", op.name, op.binding.model_copy(update={"route_map": names.of("route_map", op.binding.route_map)})))
        elif isinstance(op, Delete) and (op.kind in LISTS or op.kind == "route_map"):
            gc.append(Delete(op.kind, names.of(op.kind, op.name), op.obj.model_copy(update={"name": names.of(op.kind, op.name)})))
        elif op.kind == "filter":
            commit.append(op)
    return commit, gc


def users(state: DevicePolicy, kind: Kind, name: str) -> list[str]:
    """Who in `state` still names object (kind, name), for a person (empty: nothing does)."""
    out = [f"route-map {rm.name}" for rm in state.route_maps.values() if rm.name != name and (kind, name) in rm.references()]
    if kind == "route_map":
        out += [f"neighbor {b.neighbor} {b.afi} {b.direction}" for b in state.bindings.values() if b.route_map == name]
    out += [u.who for u in state.uses_of(kind, name)]
    return out


def collectable(after_commit: DevicePolicy, gc: list[Op]) -> tuple[list[Op], list[str]]:
    """The GC deletes nothing still in use once the commit ops are done (reference safety, as references.py
    holds it for in-place plans): (the deletes that are safe, why the others are kept)."""
    state = after_commit.copy()
    keep: list[str] = []
    out: list[Op] = []
    for op in gc:  # in dependency order: route-maps go before the lists they match
        if isinstance(op, Delete):
            who = users(state, op.kind, op.name)
            if who:
                keep.append(f"kept {op.kind.replace('_', '-')} {op.name}: still used by {', '.join(sorted(set(who)))}")
                continue
            state.remove(op.kind, op.name)
        out.append(op)
    return out, keep
