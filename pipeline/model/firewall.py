"""Firewall filters: named, ordered terms; IPv4 and IPv6 terms may share one filter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Union, cast

from pydantic import BeforeValidator, Field, model_validator

from ..names import FreeText, Identifier
from .scope import Scope
from .base import PrefixOrHost, State, Strict
from .matches import (ICMP_PROTOCOLS, ByteRange, ConnState, Dscp, IcmpType, LogRate, TcpFlags, icmp_type_number,
                      ordered_states)

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


Fragment = Literal["first", "non-first"]


class ServiceSpec(Strict):
    """One protocol with optional ports, or ICMP types and a code: the unit services resolve into. ICMP types
    are kept as numbers of this spec's protocol (names are looked up in its table: icmp or icmpv6)."""

    protocol: Protocol
    source_ports: tuple[Port, ...] = ()
    destination_ports: tuple[Port, ...] = ()
    icmp_types: tuple[IcmpType, ...] = ()
    icmp_code: int | None = Field(default=None, ge=0, le=255)

    @model_validator(mode="after")
    def _ports_need_l4(self) -> "ServiceSpec":
        if (self.source_ports or self.destination_ports) and self.protocol not in PORTED:
            raise ValueError(f"ports are only valid with tcp, udp or sctp, not {self.protocol}")
        if (self.icmp_types or self.icmp_code is not None) and self.protocol not in ICMP_PROTOCOLS:
            raise ValueError(f"ICMP types and codes are only valid with icmp or icmpv6, not {self.protocol}")
        if self.icmp_code is not None and len(self.icmp_types) != 1:
            raise ValueError("an ICMP code needs exactly one ICMP type")
        if self.icmp_types:
            numbers = []
            for t in self.icmp_types:
                n = icmp_type_number(self.protocol, t)
                if n is None:
                    raise ValueError(f"'{t}' is not an {self.protocol} message type")
                numbers.append(n)
            canonical = tuple(sorted(set(numbers)))
            if canonical != self.icmp_types:  # frozen: set once, while validating
                object.__setattr__(self, "icmp_types", canonical)
        return self

    @property
    def icmp_numbers(self) -> tuple[int, ...]:
        """`icmp_types` as validation leaves them: numbers (a message name is looked up once, above)."""
        return cast("tuple[int, ...]", self.icmp_types)


class Term(Strict):
    name: Identifier
    description: FreeText | None = None
    sources: tuple[AddrRef, ...] = ()
    destinations: tuple[AddrRef, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    source_ports: tuple[Port, ...] = ()
    destination_ports: tuple[Port, ...] = ()
    services: tuple[Identifier, ...] = ()
    icmp_types: tuple[IcmpType, ...] = ()
    icmp_code: int | None = Field(default=None, ge=0, le=255)
    source_exclude: tuple[AddrRef, ...] = ()
    destination_exclude: tuple[AddrRef, ...] = ()
    connection_state: tuple[ConnState, ...] = ()
    tcp_flags: TcpFlags | None = None
    fragment: Fragment | None = None
    dscp: tuple[Dscp, ...] = ()
    hop_limit: ByteRange | None = None
    action: FwAction
    log: bool = False
    log_rate: LogRate | None = None
    counter: bool = False
    expires: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Term":
        if self.services and (self.protocols or self.source_ports or self.destination_ports or self.icmp_types
                              or self.icmp_code is not None):
            raise ValueError("use either services or protocols/ports/ICMP types in one term, not both")
        if (self.source_ports or self.destination_ports):
            if not self.protocols:
                raise ValueError("ports need a protocol (tcp, udp or sctp)")
            bad = [p for p in self.protocols if p not in PORTED]
            if bad:
                raise ValueError(f"ports are only valid with tcp, udp or sctp, not {', '.join(bad)}")
        if self.icmp_types or self.icmp_code is not None:
            icmp = [p for p in self.protocols if p in ICMP_PROTOCOLS]
            if not icmp or len(icmp) != len(self.protocols):
                raise ValueError("ICMP types need protocols icmp and/or icmpv6 only")
            if self.icmp_code is not None and len(self.icmp_types) != 1:
                raise ValueError("an ICMP code needs exactly one ICMP type")
            for t in self.icmp_types:
                if isinstance(t, int) and len(icmp) > 1:
                    raise ValueError(f"ICMP type {t} is a number: with both icmp and icmpv6 it is ambiguous; "
                                     "name the message (e.g. echo-request) or split the term per protocol")
                if not any(icmp_type_number(p, t) is not None for p in icmp):
                    raise ValueError(f"'{t}' is not a message type of {' or '.join(icmp)}")
        if self.tcp_flags is not None and self.protocols and self.protocols != ("tcp",):
            raise ValueError("tcp_flags need protocols: [tcp]")
        if len(set(self.connection_state)) != len(self.connection_state):
            raise ValueError("connection_state lists a state twice")
        if self.fragment == "non-first" and (self.source_ports or self.destination_ports or self.tcp_flags
                                             or self.icmp_types or self.services):
            raise ValueError("non-first fragments carry no transport header: ports, TCP flags, ICMP types and "
                             "services cannot match them")
        if self.hop_limit is not None and (self.hop_limit.lo, self.hop_limit.hi) == (0, 255):
            raise ValueError("hop_limit 0-255 matches every packet: leave it out")
        if self.log_rate is not None and not self.log:
            raise ValueError("log_rate needs log: true")
        return self

    @property
    def states(self) -> tuple[str, ...]:
        """connection_state in the model's order."""
        return ordered_states(self.connection_state)


class Filter(Strict):
    name: Identifier
    description: FreeText | None = None
    state: State = "present"
    attach: tuple[Identifier, ...] = Field(default=(), description="attachment point names from the host's inventory data")
    terms: tuple[Term, ...] = ()
    scope: Scope | None = Field(default=None, description="the targets this filter goes to (default: every target "
                                "with one of its attachment points)")
