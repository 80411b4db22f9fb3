"""What templates may look up: the host and the objects known around the one being printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


from ...inventory import Host
from ...model.base import AFI
from ...model.policy import ConcreteFilter, DevicePolicy
from ...model.routing import NeighborBinding, PrefixList
from . import UnsupportedConstruct
from .aces import AclLine, acl_lines


@dataclass
class Context:
    """The host and the objects known around the one being printed (for families, kinds, neighbor groups)."""

    host: Host
    known: DevicePolicy = field(default_factory=DevicePolicy)
    platform: str = ""
    numbering: Callable[[ConcreteFilter, AFI], list["AclLine"]] | None = None
    # Objects already checked in this render (by id; entry ops of one list share its object).
    checked: dict[Any, Any] = field(default_factory=dict)

    def acl_lines(self, f: ConcreteFilter, family: AFI) -> list["AclLine"]:
        return (self.numbering or acl_lines)(f, family)

    @property
    def asn(self) -> int:
        if self.host.data.bgp is None:
            raise UnsupportedConstruct(f"host {self.host.name} has no bgp section in the inventory: cannot bind route-maps")
        return self.host.data.bgp.asn

    def prefix_list(self, name: str) -> PrefixList:
        pl = self.known.prefix_lists.get(name)
        if pl is None:
            raise UnsupportedConstruct(f"prefix-list {name} is referenced but neither in the change nor in the shared objects: "
                                       "its address family is unknown")
        return pl

    def pl_family(self, name: str) -> AFI:
        return self.prefix_list(name).family

    def community_kind(self, name: str) -> str:
        cl = self.known.community_lists.get(name)
        return cl.kind if cl else "standard"

    def neighbor(self, b: NeighborBinding):
        bgp = self.host.data.bgp
        n = bgp.neighbor(str(b.neighbor)) if bgp else None
        if n is None:
            raise UnsupportedConstruct(f"{b.neighbor} is not a BGP neighbor of {self.host.name} in the inventory")
        return n

    def extra(self, key: str, default: Any = None) -> Any:
        """Host data the user added for one platform (HostData allows extra keys)."""
        return (self.host.data.model_extra or {}).get(key, default)
