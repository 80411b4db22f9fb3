"""policies/guardrails.yaml: rules no change request may break, whoever approves it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from .. import yamlio
from ..model.base import AFI, Prefix, Strict
from ..names import FreeText, Identifier

ObjectKind = Literal["filter", "prefix_list", "community_list", "as_path_list", "route_map"]


class ProtectedPrefix(Strict):
    prefix: Prefix
    reason: FreeText | None = None
    never: tuple[Literal["denied", "announced"], ...] = ("denied", "announced")


class ProtectedObject(Strict):
    kind: ObjectKind
    name: Identifier
    reason: FreeText | None = None


class Guardrails(Strict):
    forbid_accept_any_any: bool = Field(default=True, description="no term accepts any protocol from any source to any destination")
    max_prefix_length_from_external: dict[AFI, int] = Field(
        default_factory=lambda: dict[AFI, int]({"ipv4": 24, "ipv6": 48}),
        description="longest prefix a route-map bound `in` to an external neighbor may permit")
    protected_prefixes: tuple[ProtectedPrefix, ...] = ()
    protected_objects: tuple[ProtectedObject, ...] = ()

    @classmethod
    def load(cls, path: Path | str) -> "Guardrails":
        """Missing file: the defaults. Broken file: InputError with positions."""
        path = Path(path)
        if not path.exists():
            return cls()
        node = yamlio.load(path)
        if node is None:
            return cls()
        return yamlio.validate_model(cls, node, path)
