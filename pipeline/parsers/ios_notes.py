"""Notes of IOS-style parsing: each `Skipped` names the object it sits in (the planner refuses to rewrite it)."""

from __future__ import annotations



from ..model.policy import Kind, Skipped



# The model kind each note label stands for: a note under one of these labels sits inside that object.
_LABEL_KIND: dict[str, Kind] = {"prefix-list": "prefix_list", "community-list": "community_list",
                               "large-community-list": "community_list", "as-path-list": "as_path_list",
                               "route-map": "route_map", "filter": "filter"}


class _Notes:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, kind: str, name: str, reason: str, line: str | None = None, owner: str | None = None,
            harmless: bool = False) -> None:
        """`owner`: the object's name when `name` says more (`RM seq 10`); `harmless`: a rewrite of the
        object loses nothing (the device itself keeps only what the model read)."""
        text = f"{kind} {name}: {reason}" + (f": '{line}'" if line is not None else "")
        model_kind = None if harmless else _LABEL_KIND.get(kind)
        self.items.append(Skipped(text, model_kind, (owner or name) if model_kind else None, line))
