"""Edit operations on policy objects: what the planner orders and a driver prints as commands.

Ops are platform-neutral and carry whole objects, so a driver can print the `no` form its CLI needs
(some platforms must repeat an entry's full text to delete it). The planner never prints text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .policy import Kind


@dataclass(frozen=True)
class Op:
    kind: Kind
    name: str  # object name; for bindings "neighbor/afi/direction"

    @property
    def verb(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class Create(Op):
    """Define a whole object that does not exist yet."""

    obj: Any


@dataclass(frozen=True)
class Delete(Op):
    """Remove a whole object (obj: what it looked like)."""

    obj: Any


@dataclass(frozen=True)
class AddEntry(Op):
    """Add one seq entry to an existing list/route-map (obj: the object after the edit)."""

    obj: Any
    entry: Any


@dataclass(frozen=True)
class RemoveEntry(Op):
    """Remove one seq entry (obj: the object before the edit)."""

    obj: Any
    entry: Any


@dataclass(frozen=True)
class ModifyEntry(Op):
    """Change one seq entry in place (same seq, different content)."""

    obj: Any
    old: Any
    new: Any


@dataclass(frozen=True)
class ReplaceFilter(Op):
    """Make a filter equal `new` (old None: it did not exist). Drivers choose seq edits or a versioned swap."""

    old: Any
    new: Any


@dataclass(frozen=True)
class Rewrite(Op):
    """Make a list whose entries have no sequence numbers the device keeps (IOS/EOS community and AS-path
    lists) equal `new`; the driver chooses appends and removals, or a rewrite where commits are atomic."""

    old: Any
    new: Any


@dataclass(frozen=True)
class Bind(Op):
    """Point a neighbor/afi/direction at a route-map in one command (switch, never unbind+rebind)."""

    binding: Any
    old: Any = None


@dataclass(frozen=True)
class Unbind(Op):
    binding: Any


@dataclass(frozen=True)
class Repoint(Op):
    """Make one device line that names an object (`use`: a `model.policy.Use`, e.g. a peer group's or a
    router-level binding, `redistribute ... route-map`, a Junos firewall term's prefix-list) name `to`
    instead, in one command where it sits. `name` is `to`; the model bindings the line decides follow it."""

    use: Any
    to: str = ""
