"""Firewall term matches beyond addresses, protocols and ports: connection state, TCP flags, ICMP types and
codes, fragments, DSCP, hop limit/TTL, and a log rate. Names as a change request writes them, numbers as
the model keeps them (what every platform's printer and parser meet on).

What each match means on each platform, and what a platform refuses, is in docs/FIREWALL.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import Strict

# Connection tracking states (nftables `ct state`), in the one order the model keeps them in.
CONN_STATES = ("new", "established", "related", "invalid", "untracked")
ConnState = Literal["new", "established", "related", "invalid", "untracked"]

TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg")
TCP_FLAG_BITS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20}

# ICMP and ICMPv6 message names (IANA; Aerleon's names, with the aliases devices print) -> type numbers.
ICMP_TYPES: dict[str, dict[str, int]] = {
    "icmp": {
        "echo-reply": 0, "destination-unreachable": 3, "unreachable": 3, "source-quench": 4, "redirect": 5,
        "alternate-address": 6, "echo-request": 8, "echo": 8, "router-advertisement": 9, "router-solicitation": 10,
        "time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
        "information-request": 15, "information-reply": 16, "mask-request": 17, "mask-reply": 18,
        "traceroute": 30, "conversion-error": 31, "mobile-redirect": 32,
    },
    "icmpv6": {
        "destination-unreachable": 1, "unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
        "parameter-problem": 4, "echo-request": 128, "echo-reply": 129, "multicast-listener-query": 130,
        "mld-listener-query": 130, "multicast-listener-report": 131, "mld-listener-report": 131,
        "multicast-listener-done": 132, "mld-listener-done": 132, "router-solicitation": 133, "router-solicit": 133,
        "router-advertisement": 134, "neighbor-solicitation": 135, "neighbor-solicit": 135,
        "neighbor-advertisement": 136, "redirect": 137, "router-renumbering": 138,
        "node-information-query": 139, "node-information-response": 140,
        "inverse-neighbor-discovery-solicitation": 141, "inverse-neighbor-discovery-advertisement": 142,
        "mld2-listener-report": 143, "version-2-multicast-listener-report": 143,
    },
}
ICMP_PROTOCOLS = tuple(ICMP_TYPES)
# The name a report prints for a type number (the first name listed for it).
ICMP_TYPE_NAMES: dict[str, dict[int, str]] = {p: {} for p in ICMP_TYPES}
for _p, _names in ICMP_TYPES.items():
    for _n, _t in _names.items():
        ICMP_TYPE_NAMES[_p].setdefault(_t, _n)

DSCP_NAMES = {"default": 0, "cs0": 0, "cs1": 8, "af11": 10, "af12": 12, "af13": 14, "cs2": 16, "af21": 18,
              "af22": 20, "af23": 22, "cs3": 24, "af31": 26, "af32": 28, "af33": 30, "cs4": 32, "af41": 34,
              "af42": 36, "af43": 38, "cs5": 40, "ef": 46, "cs6": 48, "cs7": 56}
DSCP_NUMBER_NAMES = {v: k for k, v in reversed(DSCP_NAMES.items()) if k != "default"}

IcmpTypeRef = int | str  # a number 0-255 or a message name (which name table: the protocol decides)


def icmp_type_number(protocol: str, ref: IcmpTypeRef) -> int | None:
    """The type number `ref` names for an ICMP protocol (icmp, icmpv6); None if it names none there."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return ref if 0 <= ref <= 255 else None
    text = str(ref).strip().lower()
    if text.isdigit():
        return int(text) if int(text) <= 255 else None
    return ICMP_TYPES.get(protocol, {}).get(text)


def _icmp_ref(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("an ICMP type is a number 0-255 or a message name such as echo-request")
    if isinstance(v, int):
        if not 0 <= v <= 255:
            raise ValueError(f"ICMP type {v} is not 0-255")
        return v
    if isinstance(v, str):
        text = v.strip().lower()
        if text.isdigit():
            return _icmp_ref(int(text))
        if any(text in names for names in ICMP_TYPES.values()):
            return text
        known = sorted({n for names in ICMP_TYPES.values() for n in names})
        raise ValueError(f"unknown ICMP message '{v}' (a number 0-255, or one of {', '.join(known)})")
    raise ValueError("an ICMP type is a number 0-255 or a message name such as echo-request")


IcmpType = Annotated[IcmpTypeRef, BeforeValidator(_icmp_ref)]


def _byte(v: Any, what: str, hi: int = 255) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)) or (isinstance(v, str) and not v.strip().isdigit()):
        raise ValueError(f"{what} is a number 0-{hi}")
    n = int(v)
    if not 0 <= n <= hi:
        raise ValueError(f"{what} {n} is not 0-{hi}")
    return n


def _dscp(v: Any) -> Any:
    if isinstance(v, str) and v.strip().lower() in DSCP_NAMES:
        return DSCP_NAMES[v.strip().lower()]
    try:
        return _byte(v, "a DSCP value", 63)
    except ValueError:
        raise ValueError(f"'{v}' is not a DSCP value (0-63, or a name: {', '.join(DSCP_NAMES)})") from None


Dscp = Annotated[int, BeforeValidator(_dscp)]


class ByteRange(Strict):
    """An inclusive range of 0-255 (hop limit / TTL): written `64` or `1-5`."""

    lo: int = Field(ge=0, le=255)
    hi: int = Field(ge=0, le=255)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, (int, str)) and not isinstance(v, bool):
            m = re.fullmatch(r"\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?", str(v))
            if not m:
                raise ValueError(f"'{v}' is not a hop limit or range (e.g. 1 or 1-5)")
            lo = _byte(m.group(1), "a hop limit")
            return {"lo": lo, "hi": _byte(m.group(2), "a hop limit") if m.group(2) else lo}
        return v

    @model_validator(mode="after")
    def _ordered(self) -> "ByteRange":
        if self.lo > self.hi:
            raise ValueError(f"range {self.lo}-{self.hi} is reversed")
        return self

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


class TcpFlags(Strict):
    """TCP flags a segment must have set (true) or clear (false); flags not named may be either.
    `{syn: true, ack: false}` is a connection's first segment."""

    fin: bool | None = None
    syn: bool | None = None
    rst: bool | None = None
    psh: bool | None = None
    ack: bool | None = None
    urg: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> "TcpFlags":
        if all(getattr(self, f) is None for f in TCP_FLAGS):
            raise ValueError(f"name at least one TCP flag ({', '.join(TCP_FLAGS)}) as true (set) or false (clear)")
        return self

    @property
    def set(self) -> tuple[str, ...]:
        return tuple(f for f in TCP_FLAGS if getattr(self, f) is True)

    @property
    def clear(self) -> tuple[str, ...]:
        return tuple(f for f in TCP_FLAGS if getattr(self, f) is False)

    @property
    def mask(self) -> int:
        return sum(TCP_FLAG_BITS[f] for f in self.set + self.clear)

    @property
    def value(self) -> int:
        return sum(TCP_FLAG_BITS[f] for f in self.set)

    def matches(self, flags: int) -> bool:
        return flags & self.mask == self.value

    def __str__(self) -> str:
        return " ".join([f"+{f}" for f in self.set] + [f"-{f}" for f in self.clear])


_RATE_UNITS = ("second", "minute", "hour", "day")


class LogRate(Strict):
    """At most `count` log messages per `per` (written `10/minute`)."""

    count: int = Field(ge=1, le=1_000_000)
    per: Literal["second", "minute", "hour", "day"]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d{1,7})\s*/\s*(second|minute|hour|day)\s*", v)
            if not m:
                raise ValueError(f"'{v}' is not a log rate (e.g. 10/minute; units: {', '.join(_RATE_UNITS)})")
            return {"count": int(m.group(1)), "per": m.group(2)}
        return v

    def __str__(self) -> str:
        return f"{self.count}/{self.per}"


def ordered_states(states: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in CONN_STATES if s in set(states))
