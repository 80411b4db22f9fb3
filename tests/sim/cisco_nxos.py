"""Cisco NX-OS: line-by-line configuration mode, 2-space indentation, per-neighbor BGP blocks.

Sources:
- [NX-BGP] Cisco Nexus 9000 NX-OS Unicast Routing Configuration Guide, "Configuring Advanced BGP":
  `router bgp ASN` / `neighbor ADDR [remote-as ASN]` / `address-family ipv4 unicast` / `route-map NAME
  in|out` (policy is set per neighbor and address family); peer templates (`template peer NAME`,
  `inherit peer NAME`) whose settings a neighbor inherits unless it sets its own.
- [NX-ACL] NX-OS Security Configuration Guide, IP ACLs: `ip access-list NAME` with sequence-numbered
  entries (printed), `statistics per-entry`, `no SEQ`; `ip access-group NAME in|out` on a routed
  interface, `ipv6 traffic-filter NAME in|out`.
- Corpus: shared/corpus/cisco_nxos (batfish, ciscoconfparse2, netutils, aerleon): `ip prefix-list NAME
  [seq N] permit P [ge|le|eq N]`, `ip as-path access-list NAME seq N permit "RE"`, `ip community-list
  standard|expanded NAME seq N permit ...`, `route-map NAME permit SEQ`.
- [NX-RP] Cisco Nexus 9000 NX-OS Unicast Routing Configuration Guide, "Configuring Route Policy Manager":
  `ip large-community-list standard|expanded NAME [seq N] permit|deny ...`, `match large-community NAME`.
- Sessions and checkpoints: sessions.py [NX-SES].

Assumptions (docs/SIMULATORS.md): an existing prefix-list or list `seq` is refused (remove it first);
`match ip address prefix-list A` then `... B` leaves `A B`; a route-map naming a missing list does not
match; a binding naming a missing route-map denies.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .cisco_ios import CiscoIos, is_address
from .errors import Rejected, Unmodelled
from .ioslike import EXIT, NOT_HERE, STAY, Acl, AclEntry, AsPathList, CommunityList, Line, parse_ace
from .policy import Ref, Rules
from .sessions import Sessions


class CiscoNxos(Sessions, CiscoIos):
    platform = "cisco_nxos"
    indent_step = 2
    separator = ""
    rules = Rules(missing_list_in_match="nomatch", missing_route_map_binding="deny", missing_acl_attached="permit",
                  empty_prefix_list="deny", empty_acl="permit")
    acl_shows_seq = True
    peer_group_out_refused = False
    bgp_af_words = {"ipv4 unicast": "ipv4", "ipv6 unicast": "ipv6"}
    af_header = {"ipv4": "address-family ipv4 unicast", "ipv6": "address-family ipv6 unicast"}
    af_footer = None
    session_end = ("verify", "commit")  # [NX-SES]
    checkpoints_exec = True

    def is_comment(self, line: str) -> bool:
        return line.startswith(("!", "#"))

    def global_commands(self) -> list[tuple[str, Any]]:
        return [
            (r"(no )?(ip|ipv6) access-list (\S+)", self.cmd_nx_acl),
            (r"(no )?(ip|ipv6) prefix-list (\S+)(?: (.*))?", self.cmd_prefix_list),
            (r"(no )?ip (community-list|large-community-list) (standard|expanded) (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?",
             self.cmd_nx_list),
            (r"(no )?ip as-path access-list (\S+)(?: seq (\d+))?(?: (permit|deny) (.+))?", self.cmd_nx_aspath),
            (r"(no )?route-map (\S+)(?: (permit|deny))?(?: (\d+))?", self.cmd_route_map),
            (r"router bgp (\S+)", self.cmd_router_bgp),
            (r"interface (\S+)", self.cmd_interface),
        ]

    # ---------------------------------------------------------------- ACLs [NX-ACL]
    def cmd_nx_acl(self, line: str, m: re.Match, strict: bool) -> Any:
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
        if acl is not None and line in ("statistics per-entry", "no statistics per-entry"):
            opts = tuple(o for o in acl.options if o != "statistics per-entry")
            self.state.put("acl", mode[1], replace(acl, options=opts + (() if line.startswith("no ") else ("statistics per-entry",))))
            return STAY
        return super().in_acl(mode, line, strict)

    def add_acl_entry(self, acl: Acl, seq: int | None, text: str, line: str):
        last = acl.last
        if seq is None:
            seq = last + self.acl_seq_step
        if seq > last:
            return acl.entries + (AclEntry(seq, text),)
        entries = list(acl.entries)
        if any(e.seq == seq for e in entries):
            raise Rejected(line, "ERROR: duplicate sequence number")
        entries.append(AclEntry(seq, text))
        return tuple(sorted(entries, key=lambda e: e.seq))

    def print_acl(self, acl: Acl) -> list[str]:
        head = f"{'ip' if acl.afi == 'ipv4' else 'ipv6'} access-list {acl.name}"
        return [head] + [self.pad(1) + o for o in acl.options] + [self.pad(1) + f"{e.seq} {e.text}" for e in acl.entries]

    def ace(self, acl: Acl, e: AclEntry):
        return parse_ace(e.text, 4 if acl.afi == "ipv4" else 6)

    # ---------------------------------------------------------------- lists with numbered entries
    def cmd_nx_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, which, word, name, seq, action, value = m.groups()
        kind = ("large-" if which.startswith("large") else "") + word
        cl = self.state.community_lists.get(name)
        if cl is not None and cl.kind != kind:
            raise Rejected(line, "% Community list of a different type already exists")
        return self.seq_list("community_list", name, cl or CommunityList(name, kind), no, seq, action, value, line)

    def print_community_list(self, cl: CommunityList) -> list[str]:
        which = "large-community-list" if cl.kind.startswith("large-") else "community-list"
        return [f"ip {which} {cl.kind.removeprefix('large-')} {cl.name} seq {e.seq} {e.action} {e.value}" for e in cl.entries]

    def cmd_nx_aspath(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, seq, action, value = m.groups()
        return self.seq_list("as_path_list", name, self.state.as_path_lists.get(name) or AsPathList(name), no, seq, action, value, line)

    def print_as_path_list(self, al: AsPathList) -> list[str]:
        return [f"ip as-path access-list {al.name} seq {e.seq} {e.action} {e.value}" for e in al.entries]

    def print_route_map(self, rm) -> list[str]:
        out: list[str] = []
        for e in rm.entries:
            out.append(f"route-map {rm.name} {e.action} {e.seq}")
            out += [self.pad(1) + c for c in e.clauses]
        return out

    # ---------------------------------------------------------------- router bgp [NX-BGP]
    def in_bgp(self, mode: tuple, line: str, strict: bool) -> Any:
        bgp: Line = mode[1]
        m = re.fullmatch(r"(neighbor|template peer) (\S+)(?: remote-as (\S+))?", line)
        if m:
            who = m.group(2)
            for c in bgp.children:
                if re.fullmatch(rf"{m.group(1)} {re.escape(who)}( .*)?", c.text):
                    if m.group(3) and strict:
                        c.text = f"{m.group(1)} {who} remote-as {m.group(3)}"
                    return ("bgp_nbr", bgp, c, who)
            node = Line(line)
            bgp.children.append(node)
            return ("bgp_nbr", bgp, node, who)
        if line.startswith("vrf ") and strict:
            raise Unmodelled(line, "cisco_nxos simulator: BGP VRFs not modelled")
        return super().in_bgp(mode, line, strict)

    def in_bgp_nbr(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        nbr: Line = mode[2]
        m = re.fullmatch(r"address-family (.+)", line)
        if m and m.group(1) in self.bgp_af_words:
            for c in nbr.children:
                if c.text == line:
                    return ("bgp_nbr_af", mode[1], c, mode[3], self.bgp_af_words[m.group(1)])
            af = Line(line)
            nbr.children.append(af)
            return ("bgp_nbr_af", mode[1], af, mode[3], self.bgp_af_words[m.group(1)])
        return NOT_HERE if strict else self.keep_line(nbr, line)

    def keep_bgp_nbr(self, mode: tuple, line: str) -> Any:
        return self.keep_line(mode[2], line)

    def in_bgp_nbr_af(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        af: Line = mode[2]
        m = re.fullmatch(r"(no )?route-map (\S+) (in|out)", line)
        if m:
            no, rm, direction = m.groups()
            rx = re.compile(rf"route-map (\S+) {direction}")
            for i, c in enumerate(af.children):
                hit = rx.fullmatch(c.text)
                if hit:
                    if no:
                        if hit.group(1) != rm:
                            raise Unmodelled(line, f"cisco_nxos simulator: `no` names {rm}, bound is {hit.group(1)}")
                        del af.children[i]
                    else:
                        c.text = f"route-map {rm} {direction}"
                    return STAY
            if not no:
                af.children.append(Line(f"route-map {rm} {direction}"))
            return STAY
        return NOT_HERE if strict else self.keep_line(af, line)

    def keep_bgp_nbr_af(self, mode: tuple, line: str) -> Any:
        return self.keep_line(mode[2], line)

    def _nbr_blocks(self, bgp: Line) -> dict[str, Line]:
        out = {}
        for c in bgp.children:
            m = re.fullmatch(r"(neighbor|template peer) (\S+)(?: .*)?", c.text)
            if m:
                out[("template " if m.group(1) != "neighbor" else "") + m.group(2)] = c
        return out

    def _af_bindings(self, block: Line) -> dict[tuple[str, str], str]:
        out = {}
        for af in block.children:
            m = re.fullmatch(r"address-family (.+)", af.text)
            afi = self.bgp_af_words.get(m.group(1)) if m else None
            if afi:
                for c in af.children:
                    hit = re.fullmatch(r"route-map (\S+) (in|out)", c.text)
                    if hit:
                        out[(afi, hit.group(2))] = hit.group(1)
        return out

    def bgp_bindings(self, bgp: Line) -> dict[tuple, tuple[str, str]]:
        att: dict[tuple, tuple[str, str]] = {}
        blocks = self._nbr_blocks(bgp)
        for key, block in blocks.items():
            if key.startswith("template ") or not is_address(key):
                continue
            own = self._af_bindings(block)
            inherit = next((re.fullmatch(r"inherit peer (\S+)", c.text).group(1) for c in block.children
                            if re.fullmatch(r"inherit peer (\S+)", c.text)), None)
            tmpl = self._af_bindings(blocks[f"template {inherit}"]) if inherit and f"template {inherit}" in blocks else {}
            for afi in ("ipv4", "ipv6"):
                for d in ("in", "out"):
                    rm = own.get((afi, d)) or tmpl.get((afi, d))
                    if rm:
                        att[("bgp", key, afi, d)] = ("route_map", rm)
        return att

    def attachments(self) -> tuple[dict, list[Ref]]:
        att, refs = super().attachments()
        bgp = self.bgp_line()
        if bgp is not None:
            for key, block in self._nbr_blocks(bgp).items():
                for (afi, d), rm in self._af_bindings(block).items():
                    refs.append(Ref(f"bgp {key} {afi} {d}", "route_map", rm))
        return att, refs

    def bgp_facts(self):
        bgp = self.bgp_line()
        if bgp is None:
            return None
        asn = int(bgp.text.split()[2]) if bgp.text.split()[2].isdigit() else 0
        out = {}
        blocks = self._nbr_blocks(bgp)
        for key, block in blocks.items():
            if not is_address(key):
                continue
            m = re.search(r"remote-as (\d+)", block.text) or next(
                (re.fullmatch(r"remote-as (\d+)", c.text) for c in block.children if re.fullmatch(r"remote-as (\d+)", c.text)), None)
            if m:
                out[key] = int(m.group(1))
        return asn, out

    # ---------------------------------------------------------------- interfaces
    def interface_creatable(self, name: str) -> bool:
        return bool(re.match(r"(?i)(loopback|vlan|port-channel|tunnel)", name))


SIM = CiscoNxos
