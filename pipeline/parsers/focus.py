"""What a plan needs a parser to read (parsers that support it skip the rest)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Focus:
    """What a plan needs from a config. Route-maps and `router bgp` are always read (references,
    bindings and the refresh set depend on all of them); lists and filters only when named here,
    when a route-map references them, or when they are a version of such a name (`X.ncN`, `X-vN`).
    Interfaces only when filters are wanted. Everything else is skipped unparsed, which is what makes
    planning a large fleet fast."""

    lists: frozenset[str] = frozenset()
    filters: frozenset[str] = frozenset()
