"""FRR 8.4 vtysh: IOS-like, line by line, each command live at once.

Grounded in the real thing: tests/sim/test_frr_oracle.py replays command sequences into a private
`bgpd` (no zebra, no listening socket) and compares its `show running-config` with this simulator's.
Measured there on FRR 8.4.4 (and in shared/lab-facts.md):
- re-entering an existing prefix-list `seq` replaces the entry; a list whose last entry goes is gone;
  `ge` may equal the prefix length; an invalid range is refused ("% Configuration failed ... Invalid
  prefix range");
- a second `match ip address prefix-list` replaces the first; `no set local-preference 999` removes the
  clause whatever its value; `route-map R deny 10` on an existing `permit 10` keeps its clauses;
  `no route-map R deny 20` removes entry 20 whatever its action; `route-map R permit` without a sequence
  number is an unknown command;
- `neighbor X route-map` for an undefined neighbor: "% Specify remote-as or peer-group commands first";
  a peer-group member may have its own outbound route-map; `no neighbor X route-map ANY in` removes the
  binding whatever name it gives; `router bgp OTHER`: "BGP is already running; AS is ...";
- a route-map entry matching a missing prefix-list does not match; binding a missing route-map denies
  everything (lab-facts).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .cisco_ios import CiscoIos
from .errors import Rejected
from .ioslike import STAY, AsPathList, CommunityList, Line, RouteMap
from .policy import Rules


class Frr(CiscoIos):
    revert_timer = False  # vtysh takes lines as they come; nothing to confirm or revert
    platform = "frr"
    indent_step = 1
    rules = Rules(missing_list_in_match="nomatch", missing_route_map_binding="deny", missing_acl_attached="permit",
                  empty_prefix_list="deny", empty_acl="permit")
    prefix_list_overwrite = True
    ge_may_equal_len = True
    route_map_name_accumulates = False
    peer_group_out_refused = False
    bgp_af_words = {"ipv4 unicast": "ipv4", "ipv6 unicast": "ipv6", "ipv4": "ipv4", "ipv6": "ipv6"}
    af_header = {"ipv4": "address-family ipv4 unicast", "ipv6": "address-family ipv6 unicast"}

    def load(self, text: str) -> None:
        # `show running-config` of vtysh starts with two lines that are not configuration (lab-facts)
        lines = [ln for ln in text.splitlines() if not ln.startswith(("Building configuration", "Current configuration"))]
        super().load("\n".join(lines))

    def global_commands(self) -> list[tuple[str, Any]]:
        return [
            (r"(no )?(ip|ipv6) prefix-list (\S+)(?: (.*))?", self.cmd_prefix_list),
            (r"(no )?bgp (community-list|large-community-list) (standard|expanded) (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?",
             self.cmd_frr_list),
            (r"(no )?bgp as-path access-list (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?", self.cmd_frr_aspath),
            (r"(no )?route-map (\S+) (permit|deny) (\d+)", self.cmd_route_map),
            (r"no route-map (\S+)", self.cmd_no_route_map),
            (r"router bgp (\S+)", self.cmd_router_bgp),
            (r"router bgp (\S+) vrf (\S+)", self.cmd_router_bgp_vrf),
        ]

    def cmd_router_bgp_vrf(self, line: str, m: re.Match, strict: bool) -> Any:
        """`router bgp ASN vrf NAME`: the VRF's own BGP instance, a block of its own (its bindings are not
        attachment points here: the model's samples are the default instance's unicast routes)."""
        for x in self.state.top(r"router bgp "):
            if x.text == line:
                return ("bgp", x)
        node = Line(line)
        self.state.order.append(node)
        return ("bgp", node)

    def cmd_no_route_map(self, line: str, m: re.Match, strict: bool) -> Any:
        self.state.drop("route_map", m.group(1))
        return STAY

    def cmd_router_bgp(self, line: str, m: re.Match, strict: bool) -> Any:
        bgp = self.bgp_line()
        if bgp is not None and bgp.text != line:
            raise Rejected(line, f"BGP is already running; AS is {bgp.text.split()[2]}")
        return super().cmd_router_bgp(line, m, strict)

    def in_global(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit" and self.loading:
            return STAY  # FRR prints `exit` after each block: not configuration
        return super().in_global(mode, line, strict)

    def prefix_list_error(self, line: str) -> Rejected:
        return Rejected(line, "% Configuration failed. Error type: validation (Invalid prefix range)")

    def add_pl_entry(self, key, pl, seq, toks, line):
        try:
            super().add_pl_entry(key, pl, seq, toks, line)
        except Rejected as e:
            if "prefix range" in e.message:
                raise self.prefix_list_error(line) from None
            raise

    # ---------------------------------------------------------------- community / AS-path lists (seq 5, 10, ...)
    def cmd_frr_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, which, kind, name, seq, action, value = m.groups()
        large = which == "large-community-list"
        kind = ("large-" if large else "") + kind
        cl = self.state.community_lists.get(name)
        if no and seq is None and action is None:
            self.state.drop("community_list", name)  # standard or expanded alike
            return STAY
        if cl is not None and cl.kind != kind and not no:
            raise Rejected(line, "% Community list of a different type already exists")
        return self.seq_list_frr("community_list", name, cl or CommunityList(name, kind), no, seq, action, value, line)

    def seq_list_frr(self, kind, name, obj, no, seq, action, value, line):
        if not no and action is not None and seq is None:
            seq = str(max((e.seq or 0 for e in obj.entries), default=0) // 5 * 5 + 5)
        if not no and seq is not None:  # re-entering a seq replaces it
            obj = replace(obj, entries=tuple(e for e in obj.entries if e.seq != int(seq)))
        return self.seq_list(kind, name, obj, no, seq, action, value, line)

    def print_community_list(self, cl: CommunityList) -> list[str]:
        which = "large-community-list" if cl.kind.startswith("large") else "community-list"
        kind = cl.kind.removeprefix("large-")
        return [f"bgp {which} {kind} {cl.name} seq {e.seq} {e.action} {e.value}" for e in cl.entries]

    def cmd_frr_aspath(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, seq, action, value = m.groups()
        return self.seq_list_frr("as_path_list", name, self.state.as_path_lists.get(name) or AsPathList(name), no, seq, action, value, line)

    def print_as_path_list(self, al: AsPathList) -> list[str]:
        return [f"bgp as-path access-list {al.name} seq {e.seq} {e.action} {e.value}" for e in al.entries]

    # ---------------------------------------------------------------- route-maps
    def in_route_map(self, mode: tuple, line: str, strict: bool) -> Any:
        """`continue N` is stored and printed as `on-match goto N`; a deny entry takes neither."""
        m = re.fullmatch(r"(no )?(?:continue|on-match goto)(?: (\d+))?|(no )?on-match next", line)
        entry = self.rm_entry(mode)
        if m and entry is not None:
            no = m.group(1) or m.group(3)
            if no:
                self.put_rm_entry(mode, replace(entry, clauses=tuple(c for c in entry.clauses if not c.startswith("on-match "))))
                return STAY
            if line == "continue":
                raise Rejected(line, "% Command incomplete: continue")
            if entry.action == "deny":
                raise Rejected(line, "% Configuration failed. Error type: validation")
            clause = "on-match next" if line == "on-match next" else f"on-match goto {m.group(2)}"
            self.put_rm_entry(mode, replace(entry, clauses=self.add_clause(entry.clauses, clause)))
            return STAY
        return super().in_route_map(mode, line, strict)

    def route_map_semantics(self, rm, e):
        sem = super().route_map_semantics(rm, e)
        for c in e.clauses:
            if c.startswith("on-match goto "):
                sem = replace(sem, cont=int(c.split()[2]))
            elif c == "on-match next":
                sem = replace(sem, cont="next")
        return sem

    def print_route_map(self, rm: RouteMap) -> list[str]:
        out: list[str] = []
        for e in rm.entries:
            out.append(f"route-map {rm.name} {e.action} {e.seq}")
            out += [self.pad(1) + c for c in e.clauses]
            out.append("exit")
        return out

    # ---------------------------------------------------------------- router bgp
    def bind(self, bgp: Line, where: Line, afi: str, m: re.Match, line: str) -> None:
        no, who, rm, direction = m.groups()
        if no:
            if not self.neighbor_defined(bgp, who):
                raise Rejected(line, "% Specify remote-as or peer-group commands first")
            rx = re.compile(rf"neighbor {re.escape(who)} route-map \S+ {direction}")
            where.children = [c for c in where.children if not rx.fullmatch(c.text)]
            return
        super().bind(bgp, where, afi, m, line)
        if rm not in self.state.route_maps:
            # applied all the same (the binding is in the running config, and denies everything)
            self.warnings.append((line, f"The route-map '{rm}' does not exist."))

    def print_line(self, line: Line, depth: int) -> list[str]:
        out = super().print_line(line, depth)
        if depth == 0 and line.text.startswith(("router bgp", "interface ")):
            out.append("exit")
        return out

    def keep_verbatim(self, mode: tuple, text: str) -> Any:
        if mode[0] != "global" and text.strip() == "exit":
            return STAY
        return super().keep_verbatim(mode, text)

    def in_bgp(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit" and self.loading:
            return STAY
        m = re.fullmatch(r"(no )?neighbor (\S+) route-map (\S+) (in|out)", line)
        if m and strict:  # FRR keeps router-level neighbor policy in its IPv4 unicast block
            res = super().in_bgp(mode, "address-family ipv4 unicast", strict)
            self.bind(mode[1], res[2], "ipv4", m, line)
            return STAY
        return super().in_bgp(mode, line, strict)


SIM = Frr
