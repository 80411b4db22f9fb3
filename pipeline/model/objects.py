"""Shared policy objects: named networks and services, and routing objects known to exist on devices."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Union

from pydantic import RootModel

from .. import yamlio
from ..errors import InputError, Location
from ..names import Identifier
from .base import Network, PrefixOrHost, Strict
from .change import RoutingSection
from .firewall import ServiceSpec

NetworkMember = Union[PrefixOrHost, Identifier]


class NetworkObjects(RootModel[dict[Identifier, tuple[NetworkMember, ...]]]):
    pass


class ServiceObjects(RootModel[dict[Identifier, tuple[ServiceSpec, ...]]]):
    pass


class SharedRouting(RoutingSection):
    """Routing objects every device is known to carry (a baseline), referenceable by changes."""


class ObjectStore(Strict):
    networks: dict[str, tuple[NetworkMember, ...]] = {}
    services: dict[str, tuple[ServiceSpec, ...]] = {}
    routing: SharedRouting = SharedRouting()

    @classmethod
    def load(cls, directory: Path | str) -> "ObjectStore":
        d = Path(directory)
        parts: dict = {}
        for fname, model, key in (("networks.yaml", NetworkObjects, "networks"), ("services.yaml", ServiceObjects, "services"),
                                  ("routing.yaml", SharedRouting, "routing")):
            f = d / fname
            if f.exists():
                node = yamlio.load(f)
                if node is None:
                    continue
                parts[key] = yamlio.validate_model(model, node, f)
        return cls(networks=parts["networks"].root if "networks" in parts else {},
                   services=parts["services"].root if "services" in parts else {},
                   routing=parts.get("routing", SharedRouting()))

    def addresses(self, ref: NetworkMember, _seen: tuple[str, ...] = ()) -> list[Network]:
        """Expand a prefix or (nested) network object name into prefixes."""
        if isinstance(ref, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            return [ref]
        if ref in _seen:
            raise InputError(f"network object '{ref}' refers to itself through {' -> '.join(_seen)}", Location("policies/objects/networks.yaml", field=ref))
        if ref not in self.networks:
            raise KeyError(ref)
        out: list[Network] = []
        for m in self.networks[ref]:
            out.extend(self.addresses(m, _seen + (ref,)))
        return out

    def service(self, name: str) -> tuple[ServiceSpec, ...]:
        return self.services[name]
