"""`router bgp` blocks: route-map bindings of neighbors and peer-groups, and every line naming an object (`Use`)."""

from __future__ import annotations

import ipaddress
from typing import cast


from ..model.base import AFI
from .ios_sections import Node
from ..model.policy import Kind, Use
from ..model.routing import NeighborBinding
from .ios_dialect import Dialect
from .ios_notes import _Notes
from .ios_values import _address, name_problem


_DIRECTIONS = ("in", "out")


# Words after which a line in `router bgp` names a route-map (redistribute/network/neighbor ... route-map,
# table-map, aggregate-address attribute-map/suppress-map, conditional advertisement).
_ROUTE_MAP_WORDS = frozenset({"route-map", "table-map", "attribute-map", "suppress-map", "unsuppress-map", "advertise-map",
                              "exist-map", "non-exist-map"})


class _BgpState:
    """Neighbor/peer-group route-map statements of every `router bgp` block; resolved in `bindings`. Every
    line naming a route-map (or a neighbor's prefix-list / filter-list) is also kept as a `Use`, with the
    lines that open its mode, so a plan can re-point it where it stands."""

    def __init__(self) -> None:
        # (who, afi or None for top level, direction) -> (route-map, line, mode path); who = address or group name
        self.direct: dict[tuple[str, AFI | None, str], tuple[str, str, tuple[str, ...]]] = {}
        self.groups: set[str] = set()
        self.members: dict[str, str] = {}  # neighbor -> peer-group
        self.uses: list[Use] = []  # lines naming objects, other than the direct bindings (see bindings())

    def router(self, node: Node, d: Dialect, notes: _Notes) -> None:
        tokens = node.text.split()
        path = (node.text.strip(),)
        if "vrf" in tokens:  # FRR `router bgp ASN vrf NAME`
            self._walk(node.children, d, notes, afi=None, context=" ".join(tokens[tokens.index("vrf"):]), path=path)
        else:
            self._walk(node.children, d, notes, afi=None, context=None, path=path)

    def _walk(self, nodes: list[Node], d: Dialect, notes: _Notes, afi: AFI | None, context: str | None,
              neighbor: str | None = None, path: tuple[str, ...] = ()) -> None:
        for n in nodes:
            t = n.text.split()
            head = t[0]
            here = path + (n.text.strip(),)
            if head == "address-family":
                sub_afi, sub_context = _address_family(t[1:])
                self._walk(n.children, d, notes, sub_afi, context or sub_context, neighbor, here)
            elif head == "vrf" and len(t) > 1:
                self._walk(n.children, d, notes, afi, f"vrf {t[1]}", neighbor, here)
            elif head in ("template", "neighbor-group", "session-template"):
                self._walk(n.children, d, notes, afi, " ".join(t[:3]), neighbor, here)
            elif head == "neighbor" and len(t) >= 2:
                if d.nxos_neighbor_blocks and (len(t) == 2 or n.children):
                    # NX-OS: a `neighbor X [remote-as N]` block (both forms open one; its lines are the neighbor's)
                    if len(t) > 2:
                        self._neighbor_line(t[1], t[2:], n.text, afi, context, notes, path, offset=2)
                    self._walk(n.children, d, notes, afi, context, t[1], here)
                else:
                    self._neighbor_line(t[1], t[2:], n.text, afi, context, notes, path, offset=2)
            elif neighbor is not None and head in ("route-map", "inherit", "filter-list", "prefix-list"):
                self._neighbor_line(neighbor, t, n.text, afi, context, notes, path, offset=0)
            else:
                self._other_line(t, n.text, path)

    def _other_line(self, t: list[str], line: str, path: tuple[str, ...]) -> None:
        for i, word in enumerate(t[:-1]):
            if word in _ROUTE_MAP_WORDS and name_problem(t[i + 1]) is None:
                self.uses.append(Use("route_map", t[i + 1], path, tuple(t), i + 1, who=f"'{line.strip()}'"))

    def _neighbor_line(self, who: str, rest: list[str], line: str, afi: AFI | None, context: str | None,
                       notes: _Notes, path: tuple[str, ...] = (), offset: int = 0) -> None:
        if rest in (["peer-group"], ["peer", "group"]):
            self.groups.add(who)
            return
        if len(rest) >= 2 and (rest[0] == "peer-group" or rest[:2] == ["peer", "group"]):
            self.members[who] = rest[-1]
            return
        if not rest:
            return
        tokens = tuple(line.split())
        if rest[0] in ("prefix-list", "filter-list") and len(rest) == 3 and name_problem(rest[1]) is None:
            kind: Kind = "prefix_list" if rest[0] == "prefix-list" else "as_path_list"
            self.uses.append(Use(kind, rest[1], path, tokens, offset + 1, who=f"neighbor {who} {rest[0]} {rest[2]}"))
        if rest[0] == "route-map" and len(rest) == 3 and rest[2] in _DIRECTIONS:
            if context:
                notes.add("bgp", context, "route-map binding outside the default VRF's unicast families is "
                                          "not modelled", line)
                if name_problem(rest[1]) is None:
                    self.uses.append(Use("route_map", rest[1], path, tokens, offset + 1,
                                         who=f"neighbor {who} {rest[2]} ({context})"))
                return
            self.direct[(who, afi, rest[2])] = (rest[1], line, path)
            return
        if rest[0] in ("filter-list", "prefix-list", "distribute-list", "unsuppress-map", "inherit",
                       "advertise-map", "attribute-map"):
            notes.add("bgp", f"neighbor {who}", f"'{rest[0]}' policy is not modelled", line)
        self._other_line(list(tokens), line, path)

    def peer_groups(self) -> dict[str, tuple[str, ...]]:
        """Groups holding at least one address neighbor, with their members (addresses only)."""
        out: dict[str, list[str]] = {}
        for member, group in self.members.items():
            addr = _address(member)
            if group in self.groups and addr is not None and not name_problem(group):
                out.setdefault(group, []).append(str(addr))
        return {g: tuple(sorted(m)) for g, m in sorted(out.items())}

    def bindings(self, d: Dialect, notes: _Notes) -> list[NeighborBinding]:
        """A neighbor's own bindings and a peer-group's bindings, each where it is written (a member without
        its own takes the group's: DevicePolicy.binding_for). An address-family statement wins over the
        top level. Each direct statement becomes a `Use` covering the bindings it decides."""
        resolved: dict[tuple[str, AFI, str], tuple[str, str, tuple]] = {}
        groups = self.peer_groups()

        def families_of(who: str) -> list[AFI]:
            """A top-level statement's families where the platform takes them from the neighbor: an
            address's own, a group's members' (each family present)."""
            a = _address(who.split("%")[0])
            versions = {a.version} if a is not None else {ipaddress.ip_address(m).version for m in groups.get(who, ())}
            fams: list[AFI] = ["ipv4", "ipv6"]
            return [f for v, f in zip((4, 6), fams) if v in versions]

        # A group whose name netchange cannot manage is not modelled: its statements resolve onto its members,
        # under their own. Precedence (strongest last): such a group's top level, its AF, own top level, own AF.
        unmodelled = {g: sorted(m for m, mg in self.members.items() if mg == g and _address(m) is not None)
                      for g in self.groups - set(groups)}
        for own in (False, True):
            for level_is_af in (False, True):
                for (who, afi, direction), (rm, line, _) in self.direct.items():
                    if (who not in unmodelled) != own or (afi is not None) != level_is_af:
                        continue
                    for target in (unmodelled[who] if who in unmodelled else [who]):
                        level_afi = afi or d.bgp_toplevel_afi
                        for fam in ([level_afi] if level_afi else families_of(target)):
                            resolved[(target, fam, direction)] = (rm, line, (who, afi, direction))
        for group, members in sorted(unmodelled.items()):
            used = sorted({(rm, afi or "top level", dr) for (w, afi, dr), (rm, _, _) in self.direct.items() if w == group})
            for rm, level, direction in used:
                notes.add("bgp", f"peer-group {group}",
                          f"route-map {rm} {direction} ({level}) resolved onto members {', '.join(members) or '(none)'}; "
                          "the peer-group binding itself is not modelled")
        out = []
        covers: dict[tuple, list[tuple[str, str, str]]] = {}
        for (who, afi, direction), (rm, line, src) in resolved.items():
            addr = _address(who)
            if addr is None and who not in groups:
                notes.add("bgp", f"neighbor {who}", "binding on a neighbor that is not an IP address (interface, "
                                                    "peer-group without members or undefined) is not modelled", line)
                continue
            if problem := name_problem(rm):
                notes.add("bgp", f"neighbor {who}", f"route-map name cannot be managed ({problem})", line)
                continue
            b = NeighborBinding(neighbor=addr if addr is not None else who, afi=afi, direction=direction,
                                route_map=rm)
            out.append(b)
            covers.setdefault(src, []).append(b.key)
        for src, (rm, line, path) in self.direct.items():
            if name_problem(rm) is not None:
                continue
            who, afi, direction = src
            tokens = tuple(line.split())
            at = next((i for i in range(len(tokens) - 1) if tokens[i] == "route-map" and tokens[i + 1] == rm), None)
            if at is None:
                continue
            at_level = afi or "router level"
            what = f"peer-group {who}" if who in self.groups else f"neighbor {who}"
            self.uses.append(Use("route_map", rm, path, tokens, at + 1, tuple(sorted(covers.get(src, ()))),
                                 who=f"{what} {at_level} {direction}"))
        return out


def _address_family(t: list[str]) -> tuple[AFI | None, str | None]:
    """`address-family` arguments -> (afi, context that makes bindings unmodelled or None)."""
    if "vrf" in t:
        return None, f"vrf {t[t.index('vrf') + 1]}" if t.index("vrf") + 1 < len(t) else "vrf"
    if t and t[0] in ("ipv4", "ipv6") and (len(t) == 1 or t[1:] == ["unicast"]):
        return cast(AFI, t[0]), None
    return None, f"address-family {' '.join(t)}"
