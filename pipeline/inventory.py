"""The nornir SimpleInventory plus netchange's typed host data (driver, role, site, BGP, firewall).

nornir's `platform` stays the netmiko device type (`cisco_ios` drives FRR's vtysh); our own platform key
lives in host data as `driver` and selects the driver module.
"""

from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import yamlio
from .errors import InputError, Location
from .names import FreeText, Identifier
from .telemetry.hostdata import TelemetryHostData


class Platform(str, Enum):
    """Platform keys: explicit strings, equal to the driver module names."""

    FRR = "frr"
    CISCO_IOS = "cisco_ios"
    ARISTA_EOS = "arista_eos"
    ARUBA_AOSCX = "aruba_aoscx"
    JUNIPER_JUNOS = "juniper_junos"
    NFTABLES = "nftables"


NETMIKO_DEVICE_TYPE = {
    Platform.FRR: "cisco_ios",
    Platform.CISCO_IOS: "cisco_ios",
    Platform.ARISTA_EOS: "arista_eos",
    Platform.ARUBA_AOSCX: "aruba_aoscx",
    Platform.JUNIPER_JUNOS: "juniper_junos",
    Platform.NFTABLES: "linux",
}

AFI = Literal["ipv4_unicast", "ipv6_unicast"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Neighbor(Strict):
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    remote_as: int = Field(ge=1, le=4294967295)
    afis: tuple[AFI, ...] = ("ipv4_unicast",)
    description: FreeText | None = None
    external: bool | None = None  # default: remote_as != local ASN


class Bgp(Strict):
    asn: int = Field(ge=1, le=4294967295)
    router_id: ipaddress.IPv4Address | None = None
    neighbors: tuple[Neighbor, ...] = ()

    def neighbor(self, address: str) -> Neighbor | None:
        try:
            want = ipaddress.ip_address(address)
        except ValueError:
            return None
        return next((n for n in self.neighbors if n.address == want), None)

    def is_external(self, n: Neighbor) -> bool:
        return n.external if n.external is not None else n.remote_as != self.asn


class Attachment(Strict):
    """Where a filter is applied: an interface + direction, or an nftables hook chain."""

    interface: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")
    direction: Literal["in", "out"] | None = None
    hook: Literal["input", "forward", "output"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Attachment":
        if self.hook is None and (self.interface is None or self.direction is None):
            raise ValueError("an attachment needs interface + direction, or an nftables hook")
        return self


class Firewall(Strict):
    attachments: dict[Identifier, Attachment] = {}
    protected_filters: tuple[Identifier, ...] = ()


class HostData(BaseModel):
    """netchange's part of a host's (group-merged) data; other keys are left to the user."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: Platform
    role: Identifier = "router"
    site: Identifier = "default"
    bgp: Bgp | None = None
    firewall: Firewall = Firewall()
    telemetry: TelemetryHostData | None = None  # sFlow agent and observation points (telemetry/hostdata.py)


class Host(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    hostname: str | None
    port: int | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()
    data: HostData

    @property
    def platform(self) -> Platform:
        return self.data.driver


class Inventory:
    """Typed view over a nornir SimpleInventory folder (hosts.yaml, groups.yaml, defaults.yaml).

    nornir's own (C-accelerated) loader reads the files; the position-keeping YAML loader runs only
    when something is wrong, to say where: a 1,000-host inventory loads in about a second."""

    FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self.nornir = self._init_nornir()
        self.hosts: dict[str, Host] = self._typed_hosts()

    def _init_nornir(self):
        from nornir import InitNornir

        hosts_file = self.directory / "hosts.yaml"
        if not hosts_file.exists():
            raise InputError("inventory has no hosts.yaml", Location(str(hosts_file)))
        opts = {"host_file": str(hosts_file)}
        for key, f in (("group_file", "groups.yaml"), ("defaults_file", "defaults.yaml")):
            if (self.directory / f).exists():
                opts[key] = str(self.directory / f)
        try:
            return InitNornir(runner={"plugin": "threaded", "options": {"num_workers": 20}},
                              inventory={"plugin": "SimpleInventory", "options": opts}, logging={"enabled": False})
        except Exception as e:  # nornir raises plain exceptions: find the precise problem with positions
            nodes = self._nodes(max_bytes=64 * 1024 * 1024)  # raises InputError with file:line for bad YAML
            for f, node in nodes.items():
                if node is not None and not isinstance(node, dict):
                    raise InputError("expected a mapping at the top level", Location(str(self.directory / f), 1, 1)) from None
            raise InputError(f"inventory cannot be loaded: {type(e).__name__}: {e}", Location(str(self.directory))) from None

    def _nodes(self, max_bytes: int) -> dict[str, Any]:
        return {f: yamlio.load(self.directory / f, yamlio.read_text(self.directory / f, max_bytes))
                for f in self.FILES if (self.directory / f).exists()}

    def _typed_hosts(self) -> dict[str, Host]:
        out: dict[str, Host] = {}
        errors: list[tuple[str, ValidationError]] = []
        for name, h in self.nornir.inventory.hosts.items():
            try:
                data = HostData.model_validate(dict(h.extended_data()))
            except ValidationError as e:
                errors.append((name, e))
                continue
            out[name] = Host(name=name, hostname=h.hostname, port=h.port, username=h.username,
                             groups=tuple(g.name for g in h.groups), data=data)
        if errors:
            hosts_file = self.directory / "hosts.yaml"
            node = self._nodes(max_bytes=64 * 1024 * 1024).get("hosts.yaml")
            problems: list[tuple[Location, str]] = []
            for name, e in errors:
                for err in e.errors(include_url=False):
                    loc = ("data",) + tuple(err["loc"])
                    line, col = yamlio.position(node, (name,) + loc)
                    problems.append((Location(str(hosts_file), line, col, f"{name}.{yamlio.field_path(loc)}"), err["msg"]))
            raise InputError(f"{hosts_file}: bad host data", problems[0][0], problems)
        return out

    def select(self, names=(), groups=(), roles=(), sites=()) -> list[Host]:
        """Hosts matching any of the given selectors (an empty selection selects nothing)."""
        out = []
        for h in self.hosts.values():
            if (h.name in names or set(h.groups) & set(groups) or h.data.role in roles or h.data.site in sites):
                out.append(h)
        return out
