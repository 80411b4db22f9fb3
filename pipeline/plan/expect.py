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
                    "obj": obj.model_dump(mode="json", by_alias=True) if obj is not None else None})
    return out


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
