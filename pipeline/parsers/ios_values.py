"""Values in IOS-style configs: names and free text checked as the model checks them, ASNs, addresses,
wildcard masks, communities; and `Unsupported`, what a construct the model cannot express raises."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import TypeAdapter, ValidationError

from ..names import FreeText, Identifier, Regex



_IDENTIFIER = TypeAdapter(Identifier)
_FREE_TEXT = TypeAdapter(FreeText)
_REGEX = TypeAdapter(Regex)


def name_problem(name: str) -> str | None:
    """Why *name* cannot be managed (not an Identifier), or None."""
    try:
        _IDENTIFIER.validate_python(name)
    except ValidationError as e:
        return _first_error(e)
    return None


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = err.get("msg", str(e)).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def free_text(text: str) -> tuple[str | None, str | None]:
    """(valid text, None) or (None, problem)."""
    try:
        return _FREE_TEXT.validate_python(text), None
    except ValidationError as e:
        return None, _first_error(e)


def unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def asn(token: str) -> int:
    """ASPLAIN or ASDOT (1.4 = 65540)."""
    if "." in token:
        hi, lo = token.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return int(token)


@lru_cache(maxsize=65536)
def _address(token: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address the model can hold; None for anything else, an IPv6 scope id (`fe80::1%eth0`) included."""
    try:
        a = ipaddress.ip_address(token)
    except ValueError:
        return None
    return None if isinstance(a, ipaddress.IPv6Address) and a.scope_id is not None else a


@lru_cache(maxsize=65536)
def _wildcard_network(addr: str, wildcard: str) -> ipaddress.IPv4Network | None:
    """IOS `A W` -> prefix; None when W is not contiguous (cannot be a prefix)."""
    w = int(ipaddress.IPv4Address(wildcard))
    if (w + 1) & w:
        return None
    length = 32 - w.bit_length()
    return ipaddress.IPv4Network((int(ipaddress.IPv4Address(addr)) & ~w & 0xFFFFFFFF, length))


@lru_cache(maxsize=65536)
def _slash_network(token: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A/len or (AOS-CX) A/255.255.0.0; an ACL masks host bits, so they are dropped, not refused."""
    try:
        return ipaddress.ip_network(token, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _host_network(addr: ipaddress.IPv4Address | ipaddress.IPv6Address):
    return ipaddress.ip_network(addr)


_WELL_KNOWN_COMMUNITIES = {
    "no-export": "no-export", "no-advertise": "no-advertise", "local-as": "local-as", "internet": "internet",
    "graceful-shutdown": "graceful-shutdown", "gshut": "graceful-shutdown", "blackhole": "blackhole",
    "no-peer": "no-peer", "accept-own": "accept-own",
}


def community(token: str) -> str:
    """Canonical standard community: well-known names lower-cased, 32-bit integers as ASN:VALUE."""
    low = token.lower()
    if low in _WELL_KNOWN_COMMUNITIES:
        return _WELL_KNOWN_COMMUNITIES[low]
    if token.isdigit() and int(token) <= 0xFFFFFFFF:
        v = int(token)
        return f"{v >> 16}:{v & 0xFFFF}"
    return token


class Unsupported(Exception):
    """A construct the model cannot express; the message is the reason recorded in `skipped`."""


def _reason(e: Exception) -> str:
    if isinstance(e, ValidationError):
        return _first_error(e)
    if isinstance(e, IndexError):
        return "line ends too early"
    return str(e)
