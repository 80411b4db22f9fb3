"""Aruba AOS-CX: line-by-line configuration mode (every command live at once), 4-space indentation.

Sources:
- [CX-NRM] AOS-CX 10.01 CLI guide, "neighbor route-map" (support.hpe.com techhub GUID-67B482DA...):
  `neighbor {IP|PEER-GROUP} route-map NAME {in|out}` and its `no` form naming the map; "A peer group's
  configuration for outbound route map will override the neighbor's configuration".
- [CX-MPL] AOS-CX 10.04 CLI guide, "match ip address prefix-list" (techhub GUID-C9587280...): one list
  per clause, `no match ip address prefix-list NAME`, context config-route-map.
- [CX-CP] AOS-CX 10.x Fundamentals guide, "Checkpoint auto mode": `checkpoint auto MINUTES` (1-60) before
  the changes, `checkpoint auto confirm` keeps them; unconfirmed, the switch goes back to the configuration
  from before when the timer runs out.
- Corpus: shared/corpus/aruba_aoscx (canu, aoscx-dcn-workflows, netutils): `access-list ip NAME` with
  `SEQ permit|deny|comment ...` (a comment shares its ACE's sequence number), `apply access-list ip NAME
  in|out` on interfaces, `ip prefix-list NAME seq N permit P ge N le N` (ge may equal the length),
  `route-map NAME permit seq N`, `router bgp` + `address-family ipv4 unicast` + `exit-address-family`.

Assumptions (docs/SIMULATORS.md): an existing prefix-list / AS-path / community-list `seq` is refused
(remove it first, as on IOS); an ACE typed on an existing ACE sequence number replaces it; a route-map
naming a missing list does not match; a binding naming a missing route-map denies.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .cisco_ios import CiscoIos
from .errors import Rejected
from .ioslike import STAY, Acl, AclEntry, AsPathList, CommunityList, Line, RouteMap, RouteMapEntry, State, parse_ace
from .policy import Ace, Rules


class ArubaAoscx(CiscoIos):
    platform = "aruba_aoscx"
    indent_step = 4
    separator = ""
    rules = Rules(missing_list_in_match="nomatch", missing_route_map_binding="deny", missing_acl_attached="permit",
                  empty_prefix_list="deny", empty_acl="permit")
    acl_shows_seq = True
    ge_may_equal_len = True
    route_map_name_accumulates = False
    peer_group_out_refused = False
    af_header = {"ipv4": "address-family ipv4 unicast", "ipv6": "address-family ipv6 unicast"}
    bgp_af_words = {"ipv4 unicast": "ipv4", "ipv6 unicast": "ipv6"}
    revert_timer = False
    auto_point: State | None = None

    # ---------------------------------------------------------------- auto checkpoint [CX-CP]
    def exec_command(self, line: str) -> bool:
        m = re.fullmatch(r"checkpoint auto (confirm|\d+)", line)
        if not m:
            return super().exec_command(line)
        if m.group(1) == "confirm":
            self.auto_point = None
        else:
            self.auto_point = self.auto_point or self.state.clone()
        return True

    def expire_checkpoint(self) -> None:
        """`checkpoint auto N` ran out unconfirmed: the switch restores the configuration from before."""
        if self.auto_point is not None:
            self.state, self.auto_point = self.auto_point, None

    def global_commands(self) -> list[tuple[str, Any]]:
        return [
            (r"(no )?access-list (ip|ipv6) (\S+)", self.cmd_cx_acl),
            (r"(no )?(ip|ipv6) prefix-list (\S+)(?: (.*))?", self.cmd_prefix_list),
            (r"(no )?ip community-list (standard|expanded) (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?", self.cmd_cx_list),
            (r"(no )?ip aspath-list (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?", self.cmd_cx_aspath),
            (r"(no )?route-map (\S+)(?: (permit|deny))?(?: seq (\d+))?", self.cmd_route_map),
            (r"router bgp (\S+)", self.cmd_router_bgp),
            (r"interface (\S+)", self.cmd_interface),
        ]

    # ---------------------------------------------------------------- ACLs
    def cmd_cx_acl(self, line: str, m: re.Match, strict: bool) -> Any:
        no, fam, name = m.groups()
        key = ("ipv4" if fam == "ip" else "ipv6", name)
        if no:
            self.state.drop("acl", key)
            return STAY
        if key not in self.state.acls:
            self.state.put("acl", key, Acl(key[0], name, ""))
        return ("acl", key)

    def in_acl(self, mode: tuple, line: str, strict: bool) -> Any:
        acl = self.state.acls.get(mode[1])
        toks = line.split()
        if acl is not None and len(toks) > 1 and toks[0].isdigit() and toks[1] in ("permit", "deny", "comment"):
            seq, text = int(toks[0]), " ".join(toks[1:])
            is_comment = toks[1] == "comment"
            # one comment and one ACE per sequence number; the comment prints first
            kept = [e for e in acl.entries if not (e.seq == seq and e.text.startswith("comment") == is_comment)]
            kept.append(AclEntry(seq, text))
            kept.sort(key=lambda e: (e.seq if e.seq is not None else 1 << 40, not e.text.startswith("comment")))
            self.state.put("acl", mode[1], replace(acl, entries=tuple(kept)))
            return STAY
        if acl is not None and toks[0] in ("permit", "deny", "comment"):
            seq = max((e.seq for e in acl.entries if e.seq), default=0) + 10
            return self.in_acl(mode, f"{seq} {line}", strict)
        return super().in_acl(mode, line, strict)

    def print_acl(self, acl: Acl) -> list[str]:
        head = f"access-list {'ip' if acl.afi == 'ipv4' else 'ipv6'} {acl.name}"
        return [head] + [self.pad(1) + o for o in acl.options] + [self.pad(1) + f"{e.seq} {e.text}" for e in acl.entries]

    def ace(self, acl: Acl, e: AclEntry) -> Ace | None:
        return parse_ace(e.text, 4 if acl.afi == "ipv4" else 6, harmless=frozenset({"log", "count"}))

    # ---------------------------------------------------------------- community / AS-path lists (numbered entries)
    def cmd_cx_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, kind, name, seq, action, value = m.groups()
        cl = self.state.community_lists.get(name)
        if cl is not None and cl.kind != kind:
            raise Rejected(line, "% Community list of a different type already exists")
        return self.seq_list("community_list", name, cl or CommunityList(name, kind), no, seq, action, value, line)

    def print_community_list(self, cl: CommunityList) -> list[str]:
        return [f"ip community-list {cl.kind} {cl.name} seq {e.seq} {e.action} {e.value}" for e in cl.entries]

    def cmd_cx_aspath(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, seq, action, value = m.groups()
        return self.seq_list("as_path_list", name, self.state.as_path_lists.get(name) or AsPathList(name), no, seq, action, value, line)

    def print_as_path_list(self, al: AsPathList) -> list[str]:
        return [f"ip aspath-list {al.name} seq {e.seq} {e.action} {e.value}" for e in al.entries]

    # ---------------------------------------------------------------- route-maps (`permit seq N`)
    def print_route_map(self, rm: RouteMap) -> list[str]:
        out: list[str] = []
        for e in rm.entries:
            out.append(f"route-map {rm.name} {e.action} seq {e.seq}")
            out += [self.pad(1) + c for c in e.clauses]
        return out

    def route_map_clause_ok(self, clause: str) -> bool:
        return super().route_map_clause_ok(clause) or clause.startswith(("match community-list ", "match aspath-list "))

    def route_map_semantics(self, rm: RouteMap, e: RouteMapEntry):
        # AOS-CX spells the list matches `match community-list X` / `match aspath-list X`
        alias = tuple(c.replace("match community-list ", "match community ", 1).replace("match aspath-list ", "match as-path ", 1)
                      for c in e.clauses)
        return super().route_map_semantics(rm, replace(e, clauses=alias))

    def add_clause(self, clauses, new):
        return super().add_clause(clauses, new)

    # ---------------------------------------------------------------- router bgp
    def bgp_bindings(self, bgp: Line) -> dict[tuple, tuple[str, str]]:
        """[CX-NRM] a peer group's outbound route-map overrides the member's own."""
        att = super().bgp_bindings(bgp)
        nbrs = self.neighbors(bgp)
        for afi, block in self.bgp_scopes(bgp):
            direct = self.direct_bindings(block)
            for nbr, group in nbrs.items():
                if group and (group, "out") in direct:
                    att[("bgp", nbr, afi, "out")] = ("route_map", direct[(group, "out")])
        return att

    # ---------------------------------------------------------------- interfaces
    acl_attach = ((r"(no )?apply access-list ip (\S+) (in|out)", "ipv4", "apply access-list ip"),
                  (r"(no )?apply access-list ipv6 (\S+) (in|out)", "ipv6", "apply access-list ipv6"))

    def interface_creatable(self, name: str) -> bool:
        return bool(re.match(r"(?i)(lag|vlan|loopback)\s*\d", name))


SIM = ArubaAoscx
