"""IP addresses and prefixes as netchange accepts them: what `ipaddress` parses, minus IPv6 scope IDs.

Python's `ipaddress` takes `fe80::1%<anything>` as a scoped address, spaces and newlines included, and
prints the scope back: `fe80::1%x\\nno router bgp 65001` would carry a command of its own into a config.
No field modelled here needs a scope on any platform netchange drives (route-map next hops, neighbor
bindings, prefixes and verify expectations are global addresses; FRR and Junos configure link-local
peers through an interface setting, and IOS's `addr%interface` neighbors are not modelled), so every
scope is refused. A link-local peer would get an interface field of its own, validated as an identifier.

This module sits outside `pipeline.model` so that the inventory can use the same types.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BeforeValidator

from .names import shown

AnyAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
AnyNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

_SCOPE = ("IPv6 scope IDs ('%...') are refused: no platform needs one here, and a scope is free text that "
          "would be printed into device commands")


@functools.lru_cache(maxsize=1 << 17)
def strict_network(text: str) -> AnyNetwork:
    """`ipaddress.ip_network(text)` (strict: host bits set is a ValueError), remembered: a large list is parsed
    from the running config and again from the change request, ~20 us a prefix each time. Networks are
    immutable, so sharing one is safe."""
    return ipaddress.ip_network(text)


def refuse_scope(text: str) -> None:
    if "%" in text:
        raise ValueError(f"{shown(text)}: {_SCOPE}")


def _scope_of(v: AnyAddress | AnyNetwork) -> str | None:
    addr = v.network_address if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else v
    return getattr(addr, "scope_id", None)


def parse_address(v: Any) -> AnyAddress:
    """A global IPv4/IPv6 address from a string (or an address object); ValueError says what is wrong."""
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        if _scope_of(v) is not None:
            raise ValueError(f"{shown(v)}: {_SCOPE}")
        return v
    if not isinstance(v, str):
        raise ValueError("expected an address such as 198.51.100.1 or 2001:db8::1")
    refuse_scope(v)
    try:
        return ipaddress.ip_address(v)
    except ValueError:
        raise ValueError(f"{shown(v)} is not an IPv4 or IPv6 address") from None


def _no_scope_network(v: AnyNetwork) -> AnyNetwork:
    if type(v) is ipaddress.IPv4Network:  # the commonest case, and never scoped: every prefix of a list passes here
        return v
    if _scope_of(v) is not None:
        raise ValueError(f"{shown(v)}: {_SCOPE}")
    return v


def _address(v: Any) -> Any:
    return parse_address(v)


# Model field types. `Network` also guards prefixes built in Python (parsers, the resolver): pydantic's
# own IPv6Network validation keeps a scope.
Address = Annotated[AnyAddress, BeforeValidator(_address)]
Network = Annotated[AnyNetwork, AfterValidator(_no_scope_network)]
