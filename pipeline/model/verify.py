"""What a change must achieve, checked after deploy: traffic and route expectations."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, model_validator

from ..names import Identifier
from .base import Address, Prefix, PrefixOrHost, Strict
from .firewall import Port, Protocol
from .matches import ICMP_PROTOCOLS, IcmpType, TcpFlags, icmp_type_number
from .routing import Community, LargeCommunity

# A traffic endpoint: a prefix, an address, or a lab/inventory host name.
Endpoint = Union[PrefixOrHost, Identifier]


class Point(Strict):
    """Where to look: an agent (host) and optionally its interface and direction."""

    host: Identifier
    interface: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")
    direction: Literal["ingress", "egress"] | None = None


class Via(Strict):
    next_hop: Address | None = None
    interface: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")
    host: Identifier | None = None

    @model_validator(mode="after")
    def _something(self) -> "Via":
        if not (self.next_hop or self.interface or self.host):
            raise ValueError("via needs a next_hop, an interface or a host")
        return self


class TrafficExpectation(Strict):
    name: Identifier
    source: Endpoint
    destination: Endpoint
    protocol: Protocol = "tcp"
    port: Port | None = None
    source_port: Port | None = None
    icmp_type: IcmpType | None = None
    icmp_code: int | None = Field(default=None, ge=0, le=255)
    tcp_flags: TcpFlags | None = None
    expect: Literal["allowed", "blocked", "via"]
    via: Via | None = None
    at: Point | None = None
    confidence: float = Field(default=0.99, gt=0.5, lt=1.0)
    # with a standing collector: judge the live traffic that matches (passive) or send test traffic from the
    # source's probe host (active); in the lab (no collector) test traffic is always sent
    mode: Literal["passive", "active"] | None = None

    @model_validator(mode="after")
    def _via_given(self) -> "TrafficExpectation":
        if self.expect == "via" and self.via is None:
            raise ValueError("expect: via needs a via: {next_hop|interface|host}")
        if self.expect != "via" and self.via is not None:
            raise ValueError("via: is only used with expect: via")
        if (self.icmp_type is not None or self.icmp_code is not None) and self.protocol not in ICMP_PROTOCOLS:
            raise ValueError("icmp_type and icmp_code need protocol icmp or icmpv6")
        if self.icmp_code is not None and self.icmp_type is None:
            raise ValueError("icmp_code needs an icmp_type")
        if self.icmp_type is not None and icmp_type_number(self.protocol, self.icmp_type) is None:
            raise ValueError(f"'{self.icmp_type}' is not an {self.protocol} message type")
        if self.tcp_flags is not None and self.protocol != "tcp":
            raise ValueError("tcp_flags need protocol tcp")
        if self.source_port is not None and self.protocol not in ("tcp", "udp", "sctp"):
            raise ValueError("source_port needs protocol tcp, udp or sctp")
        return self

    @property
    def icmp_type_number(self) -> int | None:
        return None if self.icmp_type is None else icmp_type_number(self.protocol, self.icmp_type)

    @property
    def is_reply(self) -> bool:
        """An answer to a connection or a ping the destination starts (TCP with ACK set, an echo-reply): test
        traffic for it is sent from the destination towards the source."""
        if self.protocol == "tcp":
            return self.tcp_flags is not None and self.tcp_flags.ack is True
        return self.icmp_type_number == (0 if self.protocol == "icmp" else 129 if self.protocol == "icmpv6" else -1)


class RouteAttributes(Strict):
    local_preference: int | None = None
    med: int | None = None
    next_hop: Address | None = None
    communities: tuple[Community, ...] = ()
    large_communities: tuple[LargeCommunity, ...] = ()
    as_path_contains: tuple[int, ...] = ()


class RouteExpectation(Strict):
    device: Identifier
    prefix: Prefix
    expect: Literal["present", "absent"] = "present"
    attributes: RouteAttributes | None = None

    @model_validator(mode="after")
    def _attrs_need_present(self) -> "RouteExpectation":
        if self.expect == "absent" and self.attributes is not None:
            raise ValueError("attributes only make sense for expect: present")
        return self


class Verify(Strict):
    traffic: tuple[TrafficExpectation, ...] = ()
    routes: tuple[RouteExpectation, ...] = ()
    max_prefix_loss: float = Field(default=0.2, ge=0.0, le=1.0, description="share of a session's accepted prefixes it may lose")
    window_seconds: int = Field(default=60, ge=1, le=3600)
    inconclusive: Literal["fail", "pass"] = Field(
        default="fail", description="what a traffic check with no traffic to judge counts as")
