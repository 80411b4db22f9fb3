"""Arista EOS: the IOS-family engine with EOS's grammar, printing and configuration sessions.

Sources:
- [EOS-SES] EOS User Manual, "Configuration sessions": `configure session NAME` stages edits that are not
  live; `commit` applies them at once, `abort` discards them; `commit timer hh:mm:ss` commits and rolls
  back unless `configure session NAME commit` confirms before the timer runs out (also as described for
  the Kestra Arista ConfigSession plugin: "commits it ... with a commitTimer after which the switch
  reverts unless CONFIRM is run").
- [EOS-ACL] EOS User Manual, ACLs: `ip access-list NAME` (extended by default) / `ip access-list standard
  NAME`; every entry, remarks included, has a sequence number and `show running-config` prints it;
  `no SEQ` removes one; unnumbered entries are appended 10 after the last.
- [EOS-PL] EOS prefix-lists are printed as a block, `ip prefix-list NAME` then `seq N permit P [ge|le|eq N]`
  (corpus: avd__dual-dc-l3ls__dc1-leaf1a.cfg), and also taken as one line `ip prefix-list NAME seq N ...`
  (corpus: canu__tds_configs_1.7__sw-edge-001-ipv6.cfg).
- Corpus: shared/corpus/arista_eos (AVD, batfish, canu): `neighbor X peer group G`, router-level and
  address-family-level `neighbor X route-map`, `ip as-path access-list NAME permit RE any`,
  `ip community-list [regexp|standard|expanded] NAME`, 3-space indentation.

Assumptions (docs/SIMULATORS.md): a router-level `neighbor X route-map` applies to IPv4 and IPv6 unicast
unless the address family sets its own; re-entering an existing prefix-list `seq N` replaces it; a
second `match ip address prefix-list` / `match as-path` replaces the first (one name per clause);
a route-map naming a missing list does not match; a binding naming a missing route-map denies.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .cisco_ios import CiscoIos
from .errors import Rejected
from .ioslike import EXIT, NOT_HERE, STAY, Acl, AclEntry, AsPathList, CommunityList, Line, ListEntry, PrefixList, RouteMap, RouteMapEntry
from .policy import CLEntry, Match, Rules, View
from .sessions import Sessions


class AristaEos(Sessions, CiscoIos):
    platform = "arista_eos"
    indent_step = 3
    rules = Rules(missing_list_in_match="nomatch", missing_route_map_binding="deny", missing_acl_attached="permit",
                  empty_prefix_list="deny", empty_acl="permit")
    acl_shows_seq = True
    prefix_list_overwrite = True
    ge_may_equal_len = True  # corpus canu sw-edge-001: `seq 10 permit 192.168.200.0/24 ge 24`
    route_map_name_accumulates = False
    peer_group_out_refused = False
    global_binding_afis = ("ipv4", "ipv6")
    af_footer = None
    af_header = {"ipv4": "address-family ipv4", "ipv6": "address-family ipv6"}
    peer_group_words = ("peer group", "peer-group")
    live_each_command = True  # outside a session; inside one nothing is live until `commit`
    commit_timer = True

    # ---------------------------------------------------------------- global grammar
    def global_commands(self) -> list[tuple[str, Any]]:
        return [
            (r"(no )?ip access-list (?:(standard) )?(\S+)", self.cmd_eos_acl),
            (r"(no )?ipv6 access-list (?:(standard) )?(\S+)", self.cmd_eos_acl6),
            (r"(no )?(ip|ipv6) prefix-list (\S+)(?: (.*))?", self.cmd_prefix_list),
            (r"(no )?ip (community-list|large-community-list) (?:(regexp|standard|expanded) )?(\S+)(?: (permit|deny) (.+))?",
             self.cmd_eos_community_list),
            (r"(no )?ip as-path access-list (\S+)(?: (permit|deny) (.+))?", self.cmd_eos_as_path),
            (r"(no )?route-map (\S+)(?: (permit|deny))?(?: (\d+))?", self.cmd_route_map),
            (r"router bgp (\S+)", self.cmd_router_bgp),
            (r"interface (\S+)", self.cmd_interface),
        ]

    def cmd_eos_acl(self, line: str, m: re.Match, strict: bool, afi: str = "ipv4") -> Any:
        no, kind, name = m.groups()
        key = (afi, name)
        if no:
            self.state.drop("acl", key)
            return STAY
        have = self.state.acls.get(key)
        if have is None:
            self.state.put("acl", key, Acl(afi, name, kind or ""))
        elif have.kind != (kind or ""):
            raise Rejected(line, "% Access-list type conflicts with an existing list")
        return ("acl", key)

    def cmd_eos_acl6(self, line: str, m: re.Match, strict: bool) -> Any:
        return self.cmd_eos_acl(line, m, strict, "ipv6")

    def add_acl_entry(self, acl: Acl, seq: int | None, text: str, line: str):
        # [EOS-ACL] remarks are numbered like every other entry
        last = acl.last
        if seq is None:
            seq = last + self.acl_seq_step
            if seq > 4294967295:
                if self.loading:  # a generated config beyond the last number: kept as written, unnumbered
                    return acl.entries + (AclEntry(None, text),)
                raise Rejected(line, "% Error: sequence number out of range")
        if seq > last:
            return acl.entries + (AclEntry(seq, text),)
        entries = list(acl.entries)
        if any(e.seq == seq for e in entries):
            raise Rejected(line, "% Error: Duplicate sequence number")
        entries.append(AclEntry(seq, text))
        return tuple(sorted(entries, key=lambda e: e.seq if e.seq is not None else 1 << 40))

    def in_acl(self, mode: tuple, line: str, strict: bool) -> Any:
        acl = self.state.acls.get(mode[1])
        if acl is not None and line in ("counters per-entry", "no counters per-entry"):
            opts = tuple(o for o in acl.options if o != "counters per-entry")
            self.state.put("acl", mode[1], replace(acl, options=opts + (() if line.startswith("no ") else ("counters per-entry",))))
            return STAY
        return super().in_acl(mode, line, strict)

    def print_acl(self, acl: Acl) -> list[str]:
        word = "ip" if acl.afi == "ipv4" else "ipv6"
        head = f"{word} access-list {'standard ' if acl.kind == 'standard' else ''}{acl.name}"
        return [head] + [self.pad(1) + o for o in acl.options] + [self.pad(1) + (f"{e.seq} {e.text}" if e.seq is not None else e.text)
                                                                 for e in acl.entries]

    def ace(self, acl: Acl, e: AclEntry):
        from .ioslike import parse_ace

        return parse_ace(e.text, 4 if acl.afi == "ipv4" else 6, standard=acl.kind == "standard")

    # ---------------------------------------------------------------- prefix-lists [EOS-PL]
    def prefix_list_block(self, line: str, key, strict: bool) -> Any:
        pl = self.state.prefix_lists.get(key)
        if pl is None:
            self.state.put("prefix_list", key, PrefixList(key[0], key[1], block=True))
        elif not pl.block:
            self.state.put("prefix_list", key, replace(pl, block=True))
        return ("prefix_list", key)

    def in_prefix_list(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        key = mode[1]
        pl = self.state.prefix_lists.get(key)
        if pl is None:
            return NOT_HERE
        toks = line.split()
        if toks[:1] == ["seq"] and len(toks) > 2 and toks[1].isdigit():
            self.add_pl_entry(key, pl, int(toks[1]), toks[2:], line)
            return STAY
        if toks[:2] == ["no", "seq"] and len(toks) >= 3 and toks[2].isdigit():
            self.set_pl(key, replace(pl, entries=tuple(e for e in pl.entries if e.seq != int(toks[2]))))
            return STAY
        if toks[0] in ("permit", "deny"):
            self.add_pl_entry(key, pl, None, toks, line)
            return STAY
        return NOT_HERE

    def print_prefix_list(self, pl: PrefixList) -> list[str]:
        head = ("ip" if pl.afi == "ipv4" else "ipv6") + f" prefix-list {pl.name}"
        return [head] + [self.pad(1) + self.pl_entry_text(e) for e in pl.entries]

    # ---------------------------------------------------------------- community / AS-path lists
    def cmd_eos_community_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, which, word, name, action, value = m.groups()
        large = which == "large-community-list"
        kind = ("large-" if large else "") + (word or "")
        cl = self.state.community_lists.get(name)
        if no:
            if action is None:
                self.state.drop("community_list", name)
            elif cl is not None:
                rest = tuple(e for e in cl.entries if (e.action, e.value) != (action, value))
                self.state.drop("community_list", name) if not rest else self.state.put("community_list", name, replace(cl, entries=rest))
            return STAY
        if action is None:
            raise Rejected(line, "% Incomplete command")
        if cl is not None and cl.kind != kind:
            raise Rejected(line, "% Community list of a different type already exists")
        cl = cl or CommunityList(name, kind)
        e = ListEntry(None, action, value)
        if e not in cl.entries:
            self.state.put("community_list", name, replace(cl, entries=cl.entries + (e,)))
        return STAY

    def community_entry(self, cl: CommunityList, e: ListEntry) -> CLEntry:
        if cl.kind.endswith(("regexp", "expanded")):
            return CLEntry(e.action, regex=e.value.strip('"'))
        return CLEntry(e.action, members=tuple(e.value.split()))

    def print_community_list(self, cl: CommunityList) -> list[str]:
        which = "large-community-list" if cl.kind.startswith("large") else "community-list"
        word = cl.kind.removeprefix("large-").removeprefix("large")
        return [f"ip {which} {word + ' ' if word else ''}{cl.name} {e.action} {e.value}" for e in cl.entries]

    def cmd_eos_as_path(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, action, rest = m.groups()
        al = self.state.as_path_lists.get(name)
        if no:
            if action is None:
                self.state.drop("as_path_list", name)
            elif al is not None:
                rest_e = tuple(e for e in al.entries if (e.action, e.value) != (action, rest))
                self.state.drop("as_path_list", name) if not rest_e else self.state.put("as_path_list", name, replace(al, entries=rest_e))
            return STAY
        if action is None:
            raise Rejected(line, "% Incomplete command")
        al = al or AsPathList(name)
        e = ListEntry(None, action, rest)
        if e not in al.entries:
            self.state.put("as_path_list", name, replace(al, entries=al.entries + (e,)))
        return STAY

    def view(self) -> View:
        v = super().view()
        # the origin keyword after an EOS AS-path regex is not part of the regex
        v.as_path_lists = {n: tuple((a, re.sub(r" (any|igp|egp|incomplete)$", "", rx)) for a, rx in es)
                           for n, es in v.as_path_lists.items()}
        return v

    # ---------------------------------------------------------------- route-maps
    def route_map_clause_ok(self, clause: str) -> bool:
        return super().route_map_clause_ok(clause) or clause.startswith(("set community community-list ", "sub-route-map "))

    def route_map_semantics(self, rm: RouteMap, e: RouteMapEntry):
        sem = super().route_map_semantics(rm, e)
        sets = []
        matches = list(sem.matches)
        for what, value in sem.sets:
            m = re.fullmatch(r"community-list (\S+) delete", value) if what == "set community" else None
            sets.append(("community-list delete", m.group(1)) if m else (what, value))
        for c in e.clauses:
            if c.startswith("sub-route-map "):
                matches.append(Match("opaque", text=c))
        return replace(sem, sets=tuple(sets), matches=tuple(matches))

    # ---------------------------------------------------------------- router bgp
    def neighbor_defined(self, bgp: Line, who: str) -> bool:
        return True  # EOS takes per-neighbor settings before remote-as (the session stays down until it is set)

    def in_bgp(self, mode: tuple, line: str, strict: bool) -> Any:
        m = re.fullmatch(r"no neighbor (\S+) route-map (in|out)", line)
        if m and strict:  # `show running-config all` prints these defaults: loaded, they stay as printed
            self.unbind_any(mode[1], m.group(1), m.group(2))
            return STAY
        return super().in_bgp(mode, line, strict)

    def in_bgp_af(self, mode: tuple, line: str, strict: bool) -> Any:
        m = re.fullmatch(r"no neighbor (\S+) route-map (in|out)", line)
        if m and strict and mode[3] in ("ipv4", "ipv6"):
            self.unbind_any(mode[2], m.group(1), m.group(2))
            return STAY
        return super().in_bgp_af(mode, line, strict)

    def unbind_any(self, where: Line, who: str, direction: str) -> None:
        rx = re.compile(rf"neighbor {re.escape(who)} route-map \S+ {direction}")
        where.children = [c for c in where.children if not rx.fullmatch(c.text)]

    def bgp_facts(self):
        return super().bgp_facts()

    # ---------------------------------------------------------------- interfaces
    acl_attach = ((r"(no )?ip access-group (\S+) (in|out)", "ipv4", "ip access-group"),
                  (r"(no )?ipv6 access-group (\S+) (in|out)", "ipv6", "ipv6 access-group"))

    def interface_creatable(self, name: str) -> bool:
        return bool(re.match(r"(?i)(loopback|vlan|port-channel|vxlan|tunnel)", name))


SIM = AristaEos
