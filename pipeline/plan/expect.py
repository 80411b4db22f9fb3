"""The planned device state a plan file carries (`expect_after_commit`, `expect_after_switch`) and the check
the deploy barrier runs against it: which objects must hold exactly what, after each phase."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..model.policy import DevicePolicy, Kind, object_from_json
from .diff import diff_object


def expectations(policy: DevicePolicy, keys: Iterable[tuple[Kind, object]]) -> list[dict[str, Any]]:
    """What `policy` holds for each (kind, key): the JSON the deploy barrier compares a device against."""
    out = []
    for kind, key in keys:
        obj = policy.get(kind, key)
        out.append({"kind": kind, "key": list(key) if isinstance(key, tuple) else key,
                    "obj": _dumped(obj) if obj is not None else None})
    return out


# Each object's JSON, once: a plan asks for it after the commit and again after the switch (mostly the same
# instance, models are frozen), and a fleet's plans share the change's objects; a 20,000-entry list takes
# ~0.1 s to dump. The dumps are read, never modified. Kept alive while cached, so an id is never reused.
_DUMPED: dict[int, tuple[Any, dict[str, Any]]] = {}


def _dumped(obj: Any) -> dict[str, Any]:
    hit = _DUMPED.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    dump: dict[str, Any] = obj.model_dump(mode="json", by_alias=True)
    if len(_DUMPED) >= 64:
        _DUMPED.clear()
    _DUMPED[id(obj)] = (obj, dump)
    return dump


def unmet(policy: DevicePolicy, expected: list[dict[str, Any]], canonical: Callable[[str, Any], Any] | None = None) -> list[str]:
    """The expectations `policy` does not meet, described for a person (`canonical`: see plan.diff). An object
    meets one when the planner would change nothing in it: compared as `diff` compares (a prefix-list whose
    family the change left to be inferred equals the device's, which prints it)."""
    bad = []
    for e in expected:
        key = tuple(e["key"]) if isinstance(e["key"], list) else e["key"]
        want = object_from_json(e["kind"], e["obj"]) if e["obj"] is not None else None
        have = policy.get(e["kind"], key)
        name = "/".join(key) if isinstance(key, tuple) else key
        if have is None or want is None:
            ok = have is want
        else:
            ok = not diff_object(e["kind"], name, have, want, canonical)
        if not ok:
            bad.append(f"{e['kind']} {name} " + ("missing" if have is None else "should be absent" if want is None else "differs"))
    return bad
