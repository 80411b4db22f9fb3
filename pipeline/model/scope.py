"""Where part of a change applies: host, group, role and site selectors, as `targets` has them.

A scope narrows the change's targets for one binding or one object; it never widens them (a scoped host
that is not a target is a validation error, NC153)."""

from __future__ import annotations

from typing import Any

from ..names import Identifier
from .base import Strict


class Scope(Strict):
    hosts: tuple[Identifier, ...] = ()
    groups: tuple[Identifier, ...] = ()
    roles: tuple[Identifier, ...] = ()
    sites: tuple[Identifier, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.hosts or self.groups or self.roles or self.sites)

    def selects(self, host: Any) -> bool:
        """Any selector matching selects the host (as `targets` does). `host` is an inventory Host."""
        return (host.name in self.hosts or bool(set(host.groups) & set(self.groups))
                or host.data.role in self.roles or host.data.site in self.sites)

    def describe(self) -> str:
        parts = [f"{k} {', '.join(v)}" for k in ("hosts", "groups", "roles", "sites") if (v := getattr(self, k))]
        return "; ".join(parts) or "everywhere"
