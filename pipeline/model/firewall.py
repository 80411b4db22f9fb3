"""Firewall filters: named, ordered terms; IPv4 and IPv6 terms may share one filter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from ..names import FreeText, Identifier
from .scope import Scope
from .base import PrefixOrHost, State, Strict

FwAction = Literal["accept", "deny", "reject"]
PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "ospf": 89, "sctp": 132}
PORTED = {"tcp", "udp", "sctp"}


class PortRange(Strict):
    lo: int = Field(ge=0, le=65535)
    hi: int = Field(ge=0, le=65535)

    @model_validator(mode="after")
    def _ordered(self) -> "PortRange":
        if self.lo > self.hi:
            raise ValueError(f"port range {self.lo}-{self.hi} is reversed")
        return self

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


def _port(v: Any) -> Any:
    if isinstance(v, PortRange) or isinstance(v, dict):
        return v
    if isinstance(v, bool):
        raise ValueError("a port is a number or a range like 1024-65535")
    if isinstance(v, int):
        return {"lo": v, "hi": v}
    if isinstance(v, str):
        m = re.fullmatch(r"\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?", v)
        if m:
            lo = int(m.group(1))
            return {"lo": lo, "hi": int(m.group(2)) if m.group(2) else lo}
    raise ValueError(f"'{v}' is not a port or port range (e.g. 443 or 1024-65535)")


Port = Annotated[PortRange, BeforeValidator(_port)]


def _protocol(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        if 0 <= v <= 255:
            for name, num in PROTOCOL_NUMBERS.items():
                if num == v:
                    return name
            return str(v)
        raise ValueError("protocol number must be 0-255")
    if isinstance(v, str) and (v.lower() in PROTOCOL_NUMBERS or (v.isdigit() and int(v) <= 255)):
        return v.lower()
    raise ValueError(f"unknown protocol '{v}' (use one of {', '.join(PROTOCOL_NUMBERS)} or a number)")


Protocol = Annotated[str, BeforeValidator(_protocol)]

# A source/destination is a prefix, a host address, or the name of a network object.
AddrRef = Union[PrefixOrHost, Identifier]


class ServiceSpec(Strict):
    """One protocol with optional ports: the unit services resolve into."""

    protocol: Protocol
    source_ports: tuple[Port, ...] = ()
    destination_ports: tuple[Port, ...] = ()

    @model_validator(mode="after")
    def _ports_need_l4(self) -> "ServiceSpec":
        if (self.source_ports or self.destination_ports) and self.protocol not in PORTED:
            raise ValueError(f"ports are only valid with tcp, udp or sctp, not {self.protocol}")
        return self


class Term(Strict):
    name: Identifier
    description: FreeText | None = None
    sources: tuple[AddrRef, ...] = ()
    destinations: tuple[AddrRef, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    source_ports: tuple[Port, ...] = ()
    destination_ports: tuple[Port, ...] = ()
    services: tuple[Identifier, ...] = ()
    action: FwAction
    log: bool = False
    counter: bool = False
    expires: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Term":
        if self.services and (self.protocols or self.source_ports or self.destination_ports):
            raise ValueError("use either services or protocols/ports in one term, not both")
        if (self.source_ports or self.destination_ports):
            if not self.protocols:
                raise ValueError("ports need a protocol (tcp, udp or sctp)")
            bad = [p for p in self.protocols if p not in PORTED]
            if bad:
                raise ValueError(f"ports are only valid with tcp, udp or sctp, not {', '.join(bad)}")
        return self


class Filter(Strict):
    name: Identifier
    description: FreeText | None = None
    state: State = "present"
    attach: tuple[Identifier, ...] = Field(default=(), description="attachment point names from the host's inventory data")
    terms: tuple[Term, ...] = ()
    scope: Scope | None = Field(default=None, description="the targets this filter goes to (default: every target "
                                "with one of its attachment points)")
