"""Shared building blocks of the policy model: strict frozen models, addresses, states."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

# Address and Network refuse IPv6 scope IDs (see pipeline/addresses.py for why).
from ..addresses import Address, Network, refuse_scope, strict_network
from ..names import shown

__all__ = ["AFI", "Address", "Network", "Permit", "Prefix", "PrefixOrHost", "State", "Strict", "afi_of"]

State = Literal["present", "absent"]
Permit = Literal["permit", "deny"]
AFI = Literal["ipv4", "ipv6"]


class Strict(BaseModel):
    """Frozen, typo-proof: an unknown key in YAML is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _network(v: Any) -> Any:
    if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return v  # the Network type refuses a scope on objects too
    if not isinstance(v, str):
        raise ValueError("expected a prefix such as 198.51.100.0/24 or 2001:db8::/32")
    refuse_scope(v)
    try:
        return strict_network(v)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(v, strict=False)
    except ValueError:
        raise ValueError(f"{shown(v)} is not an IPv4 or IPv6 prefix") from None
    raise ValueError(f"host bits set in '{v}' (did you mean {loose}?)")


def _host_or_network(v: Any) -> Any:
    if isinstance(v, str) and "/" not in v and "%" not in v:
        try:
            a = ipaddress.ip_address(v)
            return ipaddress.ip_network(a)
        except ValueError:
            pass
    return _network(v)


Prefix = Annotated[Network, BeforeValidator(_network)]
PrefixOrHost = Annotated[Network, BeforeValidator(_host_or_network)]


def afi_of(net: Network | Address) -> AFI:
    return "ipv4" if net.version == 4 else "ipv6"
