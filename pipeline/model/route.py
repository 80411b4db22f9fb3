"""One BGP path as a device reports it: what route-maps are evaluated on (plan impact preview) and what
post-checks compare with a change's route expectations (observers read it from each platform's output)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    prefix: str
    as_path: tuple[int, ...] = ()
    next_hop: str | None = None
    local_pref: int | None = None
    med: int | None = None
    weight: int | None = None
    communities: frozenset[str] = field(default_factory=frozenset)
    large_communities: frozenset[str] = field(default_factory=frozenset)
