"""`telemetry:` host data in the inventory: the host's sFlow agent and what its interfaces observe.

    r1:
      data:
        telemetry:
          agent_address: 198.19.0.10          # written in the agent's datagrams (default: the host's address)
          sources: [198.19.0.10, 198.18.9.1]  # UDP sources it may send from (multi-homed; default: agent_address)
          points:                             # observation points: one per sampled interface that matters
            - interface: to-r3                # the agent's interface (sFlow data source)
              ifindex: 7                      # optional: else learned from the agent's port-name counters
              sees: r3                        # the host at the other end of the link / attachment
              prefixes: [198.18.1.2/31]       # what is reached through it (0.0.0.0/0 for an upstream)
              probe:                          # optional: `sees` can send test traffic (active expectations)
                addresses: [203.0.113.10]
                ssh: probe@203.0.113.10       # production: a shell over SSH (key from the SSH agent)

A change's `verify.traffic` resolves against these points (`telemetry.points.resolve`), with no topology.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..names import Identifier

IfName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")]


def _plain_address(v: Any) -> Any:
    """An address without an IPv6 scope id (`%anything` would travel into commands)."""
    if isinstance(v, str) and "%" in v:
        raise ValueError(f"{v!r}: scope ids are not allowed here")
    return v


def _plain_network(v: Any) -> Any:
    if isinstance(v, str):
        _plain_address(v)
        try:
            return ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise ValueError(f"{v!r} is not an IPv4 or IPv6 prefix") from None
    return v


Address = Annotated[Union[ipaddress.IPv4Address, ipaddress.IPv6Address], BeforeValidator(_plain_address)]
Network = Annotated[Union[ipaddress.IPv4Network, ipaddress.IPv6Network], BeforeValidator(_plain_network)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Probe(_Strict):
    """How the host behind a point sends test traffic: over SSH, or (lab only) in a local network namespace."""

    addresses: tuple[Address, ...] = Field(min_length=1)
    ssh: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}@[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")
    netns: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

    @model_validator(mode="after")
    def _one_transport(self) -> "Probe":
        if (self.ssh is None) == (self.netns is None):
            raise ValueError("a probe needs exactly one of ssh: user@host or netns: NAME")
        return self


class ObservationPoint(_Strict):
    interface: IfName
    ifindex: int | None = Field(default=None, ge=1, le=0xFFFFFF)
    sees: Identifier | None = None
    prefixes: tuple[Network, ...] = ()
    probe: Probe | None = None

    @model_validator(mode="after")
    def _probe_needs_host(self) -> "ObservationPoint":
        if self.probe is not None and self.sees is None:
            raise ValueError("probe: needs sees: (the host that sends)")
        return self


class TelemetryHostData(_Strict):
    agent_address: Address | None = None
    sources: tuple[Address, ...] = ()
    points: tuple[ObservationPoint, ...] = ()

    @model_validator(mode="after")
    def _unique_interfaces(self) -> "TelemetryHostData":
        seen = set()
        for p in self.points:
            if p.interface in seen:
                raise ValueError(f"interface {p.interface} has two observation points")
            seen.add(p.interface)
        return self
