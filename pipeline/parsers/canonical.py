"""One spelling per meaning for routing lists, shared by the parsers (what a device prints) and the drivers'
`canonical` (what a change asks for), so that a plan compares like with like and converges.

- prefix-list bounds: `/24 ge 24` == `/24 le 32`, `/32 ge 32 le 32` == `/32` (`canonical_bounds`);
- sequence numbers a device does not keep (IOS/EOS community and AS-path lists): none;
- lists that are sets on the device (Junos prefix-lists, route-filter-lists, as-path-groups): sorted, numbered
  5, 10, ... by position, as the parser numbers what it reads.

Each function returns its argument itself when it is already canonical (no copies of a 20,000-entry list).
"""

from __future__ import annotations

from typing import Any

from ..model.base import AFI
from ..model.routing import PrefixList

_MAX_LEN = {"ipv4": 32, "ipv6": 128}


def canonical_bounds(prefixlen: int, family: AFI, ge: int | None, le: int | None, eq: int | None) -> tuple[int | None, int | None]:
    """One spelling per matched length range: `/24 ge 24` == `/24 le 32`, `/32 ge 32 le 32` == `/32`.

    Canonical form: no bounds for an exact match; otherwise `ge` only when the range starts above the
    prefix length, `le` only when needed (a lone `ge` already extends to the family maximum).
    """
    top = _MAX_LEN[family]
    if eq is not None:
        lo, hi = eq, eq
    else:
        lo = ge if ge is not None else prefixlen
        hi = le if le is not None else (top if ge is not None else prefixlen)
    if lo == prefixlen and hi == prefixlen:
        return None, None
    if lo == prefixlen:
        return None, hi
    return lo, (None if hi == top else hi)


def prefix_list(pl: PrefixList | None) -> PrefixList | None:
    """Entries with canonical bounds."""
    if pl is None:
        return None
    entries = None
    for i, e in enumerate(pl.entries):
        fam: AFI = "ipv4" if e.prefix.version == 4 else "ipv6"
        ge, le = canonical_bounds(e.prefix.prefixlen, fam, e.ge, e.le, None)
        if (ge, le) != (e.ge, e.le):
            if entries is None:
                entries = list(pl.entries)
            entries[i] = e.model_copy(update={"ge": ge, "le": le})
    return pl if entries is None else pl.model_copy(update={"entries": tuple(entries)})


def unnumbered(obj: Any) -> Any:
    """Entries without sequence numbers (the device keeps none: IOS/EOS community and AS-path lists)."""
    if obj is None or all(e.seq is None for e in obj.entries):
        return obj
    return obj.model_copy(update={"entries": tuple(e.model_copy(update={"seq": None}) for e in obj.entries)})


def as_set(obj: Any, key) -> Any:
    """A list the device keeps as a set: entries sorted by `key`, duplicates merged, numbered 5, 10, ..."""
    if obj is None:
        return None
    ordered = sorted({key(e): e for e in obj.entries}.items(), key=lambda kv: kv[0])
    entries = tuple(e if e.seq == 5 * (i + 1) else e.model_copy(update={"seq": 5 * (i + 1)})
                    for i, (_, e) in enumerate(ordered))
    return obj if entries == obj.entries else obj.model_copy(update={"entries": entries})


def prefix_key(e: Any) -> tuple:
    return (e.prefix.version, int(e.prefix.network_address), e.prefix.prefixlen, e.ge or -1, e.le or -1, e.action)
