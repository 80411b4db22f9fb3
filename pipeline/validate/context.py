"""Everything a check needs about one change request, and helpers to point findings at YAML nodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from collections.abc import Callable
from typing import Any

from .. import yamlio
from ..errors import Location
from ..inventory import Host, Inventory
from ..model.change import ChangeRequest
from ..model.objects import ObjectStore
from .boxes import WorkLimit
from .findings import Finding, is_error
from .guardrails import Guardrails

Path_ = tuple[Any, ...]


@dataclass
class Context:
    change: ChangeRequest
    node: Any  # the ruamel document, for positions (None: loaded by `document()` when first needed)
    file: str  # as shown in findings (relative to the project root when inside it)
    store: ObjectStore
    inventory: Inventory
    guardrails: Guardrails
    now: dt.datetime
    findings: list[Finding] = field(default_factory=list)
    # Every phase's heavy work spends from one limit; `at` says what was being checked when it ran out.
    work: WorkLimit = field(default_factory=WorkLimit)
    at: tuple[Path_, str] = ((), "the change")
    memo: dict = field(default_factory=dict)  # per-change caches of the checks (e.g. prefix-list boxes)
    node_loader: Callable[[], Any] | None = None
    warnings: bool = True  # False: warnings and infos are dropped unreported (the gate keeps errors only)

    def document(self) -> Any:
        """The ruamel document, for positions. The fast path (validate/rules/schema.py) reads a clean change
        without it; it is loaded on the first finding that needs a line."""
        if self.node is None and self.node_loader is not None:
            self.node, self.node_loader = self.node_loader(), None
        return self.node

    def working_on(self, path: Path_, what: str) -> None:
        self.at = (path, what)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def loc(self, path: Path_) -> Location:
        line, col = yamlio.position(self.document(), path)
        return Location(self.file, line, col, yamlio.field_path(path) or None)

    def report(self, rule: str, message: str, path: Path_ = (), related: tuple[str, ...] = ()) -> None:
        if not self.warnings and not is_error(rule):
            return
        self.findings.append(Finding.of(rule, message, self.loc(path), related))

    @cached_property
    def hosts(self) -> list[Host]:
        t = self.change.targets
        return self.inventory.select(t.hosts, t.groups, t.roles, t.sites)

    def binding_neighbors(self, b) -> list[tuple[Host, Any, str]]:
        """(host, inventory neighbor, afi) a change binding reaches: on each target it applies on (scope, and
        never the host it names), the neighbor it names there (address, or host / description name), in its
        family (a name without `afi`: every family that neighbor has; an address: ipv4 unless given)."""
        from ..model.resolve import binding_applies, named_neighbors

        out = []
        for h in self.hosts:
            if not binding_applies(b, h):
                continue
            if b.by_name:
                found = named_neighbors(h, str(b.neighbor), self.inventory.hosts)
                out += [(h, n, f) for n in found for f in (a.split("_")[0] for a in n.afis) if b.afi in (None, f)]
            elif h.data.bgp is not None and (n := h.data.bgp.neighbor(str(b.neighbor))) is not None:
                out.append((h, n, b.address_afi))
        return out

    # Routing objects visible to the change: its own (present ones) and the shared baseline.
    def routing_names(self, kind: str) -> set[str]:
        attr = {"prefix_list": "prefix_lists", "community_list": "community_lists",
                "as_path_list": "as_path_lists", "route_map": "route_maps"}[kind]
        own = {o.name for o in getattr(self.change.routing, attr) if o.state == "present"}
        shared = {o.name for o in getattr(self.store.routing, attr)}
        return own | shared

    def prefix_list(self, name: str):
        for pl in self.change.routing.prefix_lists:
            if pl.name == name and pl.state == "present":
                return pl
        return next((pl for pl in self.store.routing.prefix_lists if pl.name == name), None)

    def route_map(self, name: str):
        return next((rm for rm in self.change.routing.route_maps if rm.name == name and rm.state == "present"), None)
