"""Shared policy objects: named networks and services, and routing objects known to exist on devices."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Union

from pydantic import PrivateAttr, RootModel

from .. import yamlio
from ..errors import InputError, Location
from ..names import Identifier
from .base import Network, PrefixOrHost, Strict
from .change import RoutingSection
from .firewall import ServiceSpec

NetworkMember = Union[PrefixOrHost, Identifier]
NETWORKS_FILE = "policies/objects/networks.yaml"
# Real object trees nest a handful of levels; deeper is a mistake (or an attack on the planner).
MAX_NESTING = 64


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
    _expanded: dict[str, tuple[Network, ...]] = PrivateAttr(default_factory=dict)  # object name -> its prefixes (the models are frozen)
    _where: dict[str, tuple[str, int | None]] = PrivateAttr(default_factory=dict)  # network object name -> (file, line) of its definition

    @classmethod
    def load(cls, directory: Path | str) -> "ObjectStore":
        d = Path(directory)
        parts: dict[str, Any] = {}
        where: dict[str, tuple[str, int | None]] = {}
        for fname, model, key in (("networks.yaml", NetworkObjects, "networks"), ("services.yaml", ServiceObjects, "services"),
                                  ("routing.yaml", SharedRouting, "routing")):
            f = d / fname
            if f.exists():
                node = yamlio.load(f, within=d)
                if node is None:
                    continue
                parts[key] = yamlio.validate_model(model, node, f)
                if key == "networks":
                    where = {name: (str(f), yamlio.position(node, (name,))[0]) for name in parts[key].root}
        store = cls(networks=parts["networks"].root if "networks" in parts else {},
                    services=parts["services"].root if "services" in parts else {},
                    routing=parts.get("routing", SharedRouting()))
        store._where.update(where)
        return store

    def _loc(self, name: str) -> Location:
        file, line = self._where.get(name, (NETWORKS_FILE, None))
        return Location(file, line, field=name)

    def addresses(self, ref: NetworkMember) -> list[Network]:
        """Expand a prefix or (nested) network object name into prefixes (each once, first-seen order)."""
        if isinstance(ref, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            return [ref]
        return list(self._expand(ref))

    def _expand(self, root: str) -> tuple[Network, ...]:
        """Iterative depth-first expansion with memoisation: no recursion limit to hit, and a diamond of
        objects referring to each other twice per level costs linear, not exponential, time."""
        memo = self._expanded
        if root in memo:
            return memo[root]
        if root not in self.networks:
            raise InputError(f"network object '{root}' is not defined", Location(NETWORKS_FILE, field=root))
        stack: list[list[Any]] = [[root, 0]]  # (object, index of the next member to look at)
        on_path = {root}
        while stack:
            frame = stack[-1]
            name, members = frame[0], self.networks[frame[0]]
            while frame[1] < len(members) and not _pending(members[frame[1]], memo):
                frame[1] += 1
            if frame[1] < len(members):
                child = members[frame[1]]
                assert isinstance(child, str)  # _pending() stops at object names only
                chain = [f[0] for f in stack] + [child]
                if child in on_path:
                    raise InputError(f"network object '{child}' refers to itself: {_chain(chain)}", self._loc(child))
                if child not in self.networks:
                    raise InputError(f"network object '{child}' is not defined (used by {_chain(chain)})", self._loc(name))
                if len(stack) >= MAX_NESTING:
                    raise InputError(f"network objects nest more than {MAX_NESTING} levels deep: {_chain(chain)}",
                                     self._loc(root))
                stack.append([child, 0])
                on_path.add(child)
                continue
            out: dict[Network, None] = {}
            for m in members:
                out.update(dict.fromkeys(memo[m] if isinstance(m, str) else (m,)))
            memo[name] = tuple(out)
            stack.pop()
            on_path.discard(name)
        return memo[root]

    def service(self, name: str) -> tuple[ServiceSpec, ...]:
        if name not in self.services:
            raise InputError(f"service object '{name}' is not defined", Location("policies/objects/services.yaml", field=name))
        return self.services[name]


def _pending(member: NetworkMember, memo: dict[str, tuple[Network, ...]]) -> bool:
    """A member that is an object name not expanded yet."""
    return isinstance(member, str) and member not in memo


def _chain(names: list[str]) -> str:
    """'a -> b -> ... -> z' (the middle of a very long chain elided)."""
    if len(names) > 12:
        names = names[:5] + [f"... ({len(names) - 10} more)"] + names[-5:]
    return " -> ".join(names)
