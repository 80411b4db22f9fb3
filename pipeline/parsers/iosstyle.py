"""Shared machinery for IOS-style running configs (IOS, EOS, AOS-CX, FRR, NX-OS): text -> DevicePolicy.

Two stages, so the cheap part can be swapped:

1. *Sectioning* (ios_sections.py) turns the text into `Node` trees, one per top-level policy section
   (prefix-list, community-list, as-path, route-map, access-list, router bgp, interface); everything else
   is skipped. `engine="fast"` is a single-pass line scanner; `engine="ciscoconfparse2"` builds the same
   trees from ciscoconfparse2's parse and exists to cross-check the scanner (12-14x slower).
2. *Interpretation* (ios_builder.py) walks the trees with one `Dialect` (ios_dialect.py: per-platform
   keywords and quirks as data) and builds canonical model objects: what the device would print collapsed
   is expanded (implicit sequence numbers, wildcard masks, named ports, ge/le bounds), so plan never diffs
   text.

Nothing raises on device input: whatever cannot be modelled (names that are not Identifiers, syntax the
model has no field for) becomes one `DevicePolicy.skipped` note "<kind> <name>: <reason>: '<line>'", a
`Skipped` that names the object it sits in (the planner refuses to rewrite such an object) and the line.

Modules of stage 2: ios_values.py (names, free text, ASNs, addresses, communities), ios_ports.py (ports and
protocols), ios_notes.py (notes owned by their object), ios_aces.py (ACL entries), ios_route_maps.py
(match / set clauses), ios_bgp.py (`router bgp` bindings and uses); this module is the entry point.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator, Literal


from .focus import Focus
from .ios_sections import SECTIONERS, Node, nest, sections_focused, wanted_header
from ..model.policy import DevicePolicy, Kind, Skipped
from .ios_builder import _Builder
from .ios_dialect import Dialect


Engine = Literal["fast", "ciscoconfparse2"]


def parse_config(text: str, dialect: Dialect, engine: Engine = "fast", focus: Focus | None = None) -> DevicePolicy:
    """Running-config text of one device -> its DevicePolicy (never raises on device input).

    `focus` (fast engine only) reads just what a plan needs; see Focus."""
    with _gc_paused():
        builder = _Builder(dialect)
        deferred: list[list[tuple[int, str]]]
        if focus is None or engine != "fast":
            nodes, deferred, skipped = SECTIONERS[engine](text, dialect, notes=builder.notes.items), [], 0
        else:
            nodes, deferred, skipped = sections_focused(text, dialect, focus, builder.notes.items)
        for node in nodes:
            _build(builder, node)
        if deferred and focus is not None:  # (only a focused read defers)
            wanted = focus.lists | builder.referenced_lists()
            for lines in deferred:
                if wanted_header(lines[0][1], wanted):
                    for node in nest(lines):
                        _build(builder, node)
                else:
                    skipped += 1
        policy = builder.finish()
        if skipped:
            policy.skipped.append(f"focused parse: {skipped} section(s) the change does not touch were not read")
        return policy


def _build(builder: "_Builder", node: Node) -> None:
    try:
        builder.section(node)
    except Exception as e:  # a parser bug must cost one section, never the device's whole policy
        builder.notes.add("section", repr(node.text), f"internal parser error ({type(e).__name__}: {e})")
        owner = _section_owner(node.text, builder.d)
        if owner:  # the section's object may be touched: a plan must not rewrite what was not read
            builder.notes.items[-1] = Skipped(builder.notes.items[-1], *owner, node.text)


def _section_owner(header: str, d: Dialect) -> tuple[Kind, str] | None:
    """The object a section header opens, where the header says it plainly."""
    t = header.split()
    if t[:2] in (["ip", "prefix-list"], ["ipv6", "prefix-list"]) and len(t) > 2:
        return "prefix_list", t[2]
    if t[:1] == ["route-map"] and len(t) > 1:
        return "route_map", t[1]
    for pattern, _, _ in d.acl_headers:
        if m := pattern.match(header):
            return "filter", m.group("name")
    return None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing allocates many small objects that all stay alive (no cycles to find), so the cyclic
    collector's passes are pure overhead: ~25% of a large config's parse time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
