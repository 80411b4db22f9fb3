"""Cisco IOS / IOS-XE configuration mode, for the policy objects netchange edits.

Sources (behaviour relied on, cited where used):
- [IOS-PL] Cisco IOS IP Configuration Guide, "Configuring a Prefix List Entry": `len < ge <= le <= 32`;
  automatically generated sequence numbers in steps of 5.
- [ANS-PL] ansible-collections/cisco.ios (tested against IOS-XE 17.3),
  plugins/module_utils/network/ios/config/prefix_lists/prefix_lists.py `_compare_seqs`: an existing
  sequence is negated before it is re-added (IOS will not overwrite a sequence number in place);
  config/acls/acls.py: "if we try to update without negating the entry appliance reports
  % Duplicate sequence number" (the same for ACEs).
- [IEOC] https://ieoc.com/discussion/16348/route-map-with-ip-prefix-list-that-does-not-exist: a
  route-map `match ip address prefix-list` naming a list that does not exist is ignored (the entry
  matches every route); an ACL without entries applied to an interface permits everything.
- [NL-PG] https://notes.networklessons.com/bgp-using-peer-groups-with-multiple-outbound-policies: members
  of a peer group share outbound policy; a member-level outbound route-map is refused with
  "% Invalid command for a peer-group member"; inbound policy can be set per member.
- [O'R-RM] Cisco IOS in a Nutshell, "neighbor route-map" (oreilly.com re641): `neighbor {address|peer-group}
  route-map map {in|out}` and its `no` form name the map.
- [IOS-RD] Cisco IOS IP Routing: BGP Command Reference, `redistribute (BGP)`: one redistribution per source
  protocol (and process) with an optional `route-map map-tag`; configuring it again with another route-map
  changes the map of that redistribution (the running config keeps one `redistribute connected ...` line).
- [IOS-CR] Cisco IOS Configuration Fundamentals, "Configuration Replace and Configuration Rollback":
  `configure terminal revert timer MINUTES` (needs `archive` with a `path`), `configure confirm` keeps the
  changes, `configure revert now` (or the timer running out) restores the configuration from before.
- Corpus: tests/../shared/corpus/cisco_ios (show running-config of IOS 12.x-15.x and IOS-XE): the printed form.

Assumptions (not found in a source, kept conservative and listed in docs/SIMULATORS.md):
- `match ip address prefix-list A` followed by `match ip address prefix-list B` leaves `A B` (the
  clause takes several names and a second command adds to it, as `show running-config` prints lists
  of names on one line); the same for `match community`, `match as-path`, `match ip address`.
- `no set <attr> <value>` removes the clause whatever its value; `set <attr>` replaces the clause.
- `route-map NAME permit|deny SEQ` on an existing sequence keeps its clauses and takes the new action.
- A route-map bound to a neighbor but not defined denies every route (missing_route_map_binding).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import Any

from .errors import Rejected, Unmodelled
from .ioslike import (EXIT, NOT_HERE, STAY, Acl, AclEntry, AsPathList, CommunityList, IosLike, Line, ListEntry, PrefixList,
                      RouteMap, RouteMapEntry, State, clause_group, insert_by_seq, next_seq, parse_ace, parse_prefix_entry, with_clause)
from .policy import Ace, Match, PLEntry, Ref, RMEntry, Rules

# clause key: which existing clause a new one replaces or extends
_MULTI_NAME = (("match ip address prefix-list ", "prefix_list", "ipv4"), ("match ipv6 address prefix-list ", "prefix_list", "ipv6"),
               ("match ip next-hop prefix-list ", "nexthop_prefix_list", "ipv4"),
               ("match ipv6 next-hop prefix-list ", "nexthop_prefix_list", "ipv6"),
               ("match ip address ", "acl", "ipv4"), ("match ipv6 address ", "acl", "ipv6"),
               ("match community ", "community_list", "ipv4"), ("match large-community ", "community_list", "ipv4"),
               ("match as-path ", "as_path_list", "ipv4"))
_SET_KEYS = ("set local-preference", "set metric-type", "set metric", "set weight", "set as-path prepend", "set comm-list",
             "set community", "set large-community", "set ip next-hop", "set ipv6 next-hop", "set origin", "set tag",
             "set extcommunity", "set extcomm-list")


def split_match(clause: str) -> tuple[str, tuple[str, ...], str, bool] | None:
    """A name-taking match clause -> (head, names, kind, exact-match) or None."""
    for head, _kind, _afi in _MULTI_NAME:
        if clause.startswith(head):
            names = clause[len(head):].split()
            exact = "exact-match" in names
            return head, tuple(n for n in names if n != "exact-match"), head, exact
    return None


def clause_key(c: str) -> str:
    if c.startswith("description"):
        return "description"
    if c.startswith(("continue", "on-match ")):
        return "continue"
    m = split_match(c)
    if m:
        return m[0]
    if c.startswith("set comm-list "):
        return "set comm-list" if c.endswith(" delete") else c
    for k in _SET_KEYS:
        if c == k or c.startswith(k + " "):
            return k
    return c


class CiscoIos(IosLike):
    platform = "cisco_ios"
    indent_step = 1
    # [IEOC] a missing prefix-list in a match is ignored; an empty or missing ACL on an interface permits.
    rules = Rules(missing_list_in_match="match", missing_route_map_binding="deny", missing_acl_attached="permit",
                  empty_prefix_list="permit", empty_acl="permit")
    prefix_list_overwrite = False  # [ANS-PL]
    route_map_name_accumulates = True
    bgp_af_words = {"ipv4": "ipv4", "ipv4 unicast": "ipv4", "ipv6": "ipv6", "ipv6 unicast": "ipv6"}
    af_header = {"ipv4": "address-family ipv4", "ipv6": "address-family ipv6"}
    peer_group_out_refused = True  # [NL-PG]
    revert_timer = True  # [IOS-CR]; the other IOS-family simulators have their own commit mechanisms
    revert_point: State | None = None

    # ---------------------------------------------------------------- configuration archive [IOS-CR]
    def enter_with(self, line: str) -> bool:
        if not (self.revert_timer and re.fullmatch(r"configure terminal revert timer (\d+)", line)):
            return super().enter_with(line)
        archive = next(iter(self.state.top(r"archive$")), None)
        if archive is None or not any(c.text.startswith("path ") for c in archive.children):
            raise Rejected(line, "% Rollback: archive path is not configured")
        self.revert_point = self.revert_point or self.state.clone()
        return True

    def exec_command(self, line: str) -> bool:
        if self.revert_timer and line == "configure confirm":
            self.revert_point = None
            return True
        if self.revert_timer and line == "configure revert now":
            self.expire_revert()
            return True
        return super().exec_command(line)

    def expire_revert(self) -> None:
        """The revert timer ran out unconfirmed (or `configure revert now`): the archived configuration is back."""
        if self.revert_point is not None:
            self.state, self.revert_point = self.revert_point, None

    # ---------------------------------------------------------------- global mode
    def in_global(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        for pat, fn in self.global_commands():
            m = re.fullmatch(pat, line)
            if m:
                return fn(line, m, strict)
        return NOT_HERE

    def global_commands(self) -> list[tuple[str, Any]]:
        return [
            (r"(no )?ip access-list (extended|standard) (\S+)", self.cmd_named_acl),
            (r"(no )?ipv6 access-list (\S+)", self.cmd_ipv6_acl),
            (r"no access-list (\d+)", self.cmd_no_numbered_acl),
            (r"(no )?access-list (\d+) (.+)", self.cmd_numbered_acl),
            (r"(no )?(ip|ipv6) prefix-list (\S+)(?: (.*))?", self.cmd_prefix_list),
            (r"(no )?ip community-list (?:(standard|expanded) (\S+)|(\d+))(?: (permit|deny) (.+))?", self.cmd_community_list),
            (r"(no )?ip as-path access-list (\d+)(?: (permit|deny) (.+))?", self.cmd_as_path),
            (r"(no )?route-map (\S+)(?: (permit|deny))?(?: (\d+))?", self.cmd_route_map),
            (r"router bgp (\S+)", self.cmd_router_bgp),
            (r"interface (\S+(?: \S+)?)", self.cmd_interface),
        ]

    # ---------------------------------------------------------------- ACLs
    def acl_kind_for_number(self, n: int) -> str:
        return "standard" if 1 <= n <= 99 or 1300 <= n <= 1999 else "extended"

    def cmd_named_acl(self, line: str, m: re.Match, strict: bool) -> Any:
        no, kind, name = m.groups()
        key = ("ipv4", name)
        if no:
            self.state.drop("acl", key)
            return STAY
        have = self.state.acls.get(key)
        if have is not None and have.kind != kind:
            raise Rejected(line, f"% A named {have.kind} IP access list with this name already exists")
        if have is None:
            self.state.put("acl", key, Acl("ipv4", name, kind))
        return ("acl", key)

    def cmd_ipv6_acl(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name = m.groups()
        key = ("ipv6", name)
        if no:
            self.state.drop("acl", key)
            return STAY
        if key not in self.state.acls:
            self.state.put("acl", key, Acl("ipv6", name, "extended"))
        return ("acl", key)

    def cmd_no_numbered_acl(self, line: str, m: re.Match, strict: bool) -> Any:
        self.state.drop("acl", ("ipv4", m.group(1)))
        return STAY

    def cmd_numbered_acl(self, line: str, m: re.Match, strict: bool) -> Any:
        no, num, rest = m.groups()
        key = ("ipv4", num)
        acl = self.state.acls.get(key) or Acl("ipv4", num, "numbered")
        if no:
            self.state.put("acl", key, replace(acl, entries=tuple(e for e in acl.entries if e.text != rest)))
            return STAY
        if rest.split()[0] not in ("permit", "deny", "remark", "dynamic"):
            raise Rejected(line, "% Invalid input detected")
        seq = next_seq(acl.entries, self.acl_seq_step) if not rest.startswith("remark") else None
        self.state.put("acl", key, replace(acl, entries=acl.entries + (AclEntry(seq, rest),)))
        return STAY

    def in_acl(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        key = mode[1]
        acl = self.state.acls.get(key)
        if acl is None:  # deleted from inside its own mode
            return NOT_HERE
        toks = line.split()
        if toks[0] == "no" and len(toks) == 2 and toks[1].isdigit():
            seq = int(toks[1])
            self.state.put("acl", key, replace(acl, entries=self.remove_acl_seq(acl, seq)))
            return STAY
        if toks[0] == "no" and len(toks) > 1 and toks[1] in ("permit", "deny", "remark"):
            text = " ".join(toks[1:])
            entries = list(acl.entries)
            for i, e in enumerate(entries):
                if e.text == text:
                    del entries[i]
                    break
            self.state.put("acl", key, replace(acl, entries=tuple(entries)))
            return STAY
        seq = None
        if toks[0].isdigit():
            seq, toks = int(toks[0]), toks[1:]
            if not toks:
                raise Rejected(line, "% Incomplete command")
        if toks[0] not in ("permit", "deny", "remark"):
            return NOT_HERE if strict else self.keep_acl_option(mode, line)
        text = " ".join(toks)
        self.state.put("acl", key, replace(acl, entries=self.add_acl_entry(acl, seq, text, line)))
        return STAY

    def remove_acl_seq(self, acl: Acl, seq: int) -> tuple[AclEntry, ...]:
        return tuple(e for e in acl.entries if e.seq != seq)

    def add_acl_entry(self, acl: Acl, seq: int | None, text: str, line: str) -> tuple[AclEntry, ...]:
        if text.startswith("remark") and seq is None:
            # a remark belongs to the ACE typed after it; it takes no sequence number of its own
            return acl.entries + (AclEntry(None, text),)
        last = acl.last
        if seq is None:
            seq = (last // self.acl_seq_step + 1) * self.acl_seq_step
        if seq > last:
            return acl.entries + (AclEntry(seq, text),)
        entries = list(acl.entries)
        if any(e.seq == seq for e in entries):
            raise Rejected(line, "% Duplicate sequence number")  # [ANS-PL] (acls.py)
        # insert before the first entry with a higher seq, keeping the remarks typed right before it
        pos = len(entries)
        for i, e in enumerate(entries):
            if e.seq is not None and e.seq > seq:
                pos = i
                while pos > 0 and entries[pos - 1].seq is None and self.remark_binds_forward:
                    pos -= 1
                break
        entries.insert(pos, AclEntry(seq, text))
        return tuple(entries)

    remark_binds_forward = True

    def keep_acl_option(self, mode: tuple, line: str) -> Any:
        acl = self.state.acls[mode[1]]
        self.state.put("acl", mode[1], replace(acl, options=acl.options + (line,)))
        return STAY

    def keep_acl(self, mode: tuple, line: str) -> Any:
        return self.keep_acl_option(mode, line)

    def print_acl(self, acl: Acl) -> list[str]:
        if acl.kind == "numbered":
            return [f"access-list {acl.name} {e.text}" for e in acl.entries]
        head = f"ip access-list {acl.kind} {acl.name}" if acl.afi == "ipv4" else f"ipv6 access-list {acl.name}"
        body = [self.pad(1) + o for o in acl.options]
        body += [self.pad(1) + (f"{e.seq} {e.text}" if self.acl_shows_seq and e.seq is not None else e.text) for e in acl.entries]
        return [head] + body

    def ace(self, acl: Acl, e: AclEntry) -> Ace | None:
        standard = acl.kind == "standard" or (acl.kind == "numbered" and self.acl_kind_for_number(int(acl.name)) == "standard")
        return parse_ace(e.text, 4 if acl.afi == "ipv4" else 6, standard=standard)

    # ---------------------------------------------------------------- prefix-lists
    def cmd_prefix_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, fam, name, rest = m.groups()
        afi = "ipv4" if fam == "ip" else "ipv6"
        key = (afi, name)
        pl = self.state.prefix_lists.get(key)
        toks = (rest or "").split()
        if no:
            if not toks:
                self.state.drop("prefix_list", key)
                return STAY
            if toks[0] == "description":
                if pl:
                    self.set_pl(key, replace(pl, description=None))
                return STAY
            if toks[0] == "seq" and len(toks) >= 2 and toks[1].isdigit():
                if pl:
                    self.set_pl(key, replace(pl, entries=tuple(e for e in pl.entries if e.seq != int(toks[1]))))
                return STAY
            if toks[0] in ("permit", "deny") and pl:  # `no ip prefix-list X permit P`: the entry with that content
                action, p, opts = parse_prefix_entry(toks, line, max_len_check=False)
                self.set_pl(key, replace(pl, entries=tuple(e for e in pl.entries if (e.action, e.prefix, e.ge, e.le) !=
                                                          (action, p, opts.get("ge"), opts.get("le")))))
                return STAY
            raise Rejected(line, "% Invalid input detected")
        if not toks:
            return self.prefix_list_block(line, key, strict)
        if toks[0] == "description":
            desc = " ".join(toks[1:])
            self.state.put("prefix_list", key, replace(pl or PrefixList(afi, name), description=desc))
            return STAY
        pl = pl or PrefixList(afi, name)
        seq = None
        if toks[0] == "seq":
            if len(toks) < 2 or not toks[1].isdigit():
                raise Rejected(line, "% Invalid input detected")
            seq, toks = int(toks[1]), toks[2:]
        self.add_pl_entry(key, pl, seq, toks, line)
        return STAY

    def prefix_list_block(self, line: str, key, strict: bool) -> Any:
        raise Rejected(line, "% Incomplete command")

    def add_pl_entry(self, key, pl: PrefixList, seq: int | None, toks: list[str], line: str) -> None:
        action, p, opts = parse_prefix_entry(toks, line, ge_eq_len=self.ge_may_equal_len,
                                             any_family="0.0.0.0/0" if key[0] == "ipv4" else "::/0")
        if (p.version == 4) != (key[0] == "ipv4"):
            raise Rejected(line, "% Invalid input detected (address family)")
        if seq is None:
            seq = next_seq(pl.entries, self.pl_seq_step)
        new = PLEntry(seq, action, p, opts.get("ge"), opts.get("le"), opts.get("eq"), any=opts.get("any", False))
        have = next((e for e in pl.entries if e.seq == seq), None)
        if have is not None and have != new and not self.prefix_list_overwrite:
            raise Rejected(line, "% Duplicate sequence number")  # [ANS-PL]
        self.set_pl(key, replace(pl, entries=insert_by_seq(pl.entries, new)))

    def set_pl(self, key, pl: PrefixList) -> None:
        if not pl.entries and pl.description is None and not pl.block:
            self.state.drop("prefix_list", key)  # IOS: a list whose last entry went is gone
        else:
            self.state.put("prefix_list", key, pl)

    def pl_entry_text(self, e: PLEntry) -> str:
        if e.any:
            return f"seq {e.seq} {e.action} any"
        s = f"seq {e.seq} {e.action} {e.prefix}"
        for k in ("ge", "le", "eq"):
            if getattr(e, k) is not None:
                s += f" {k} {getattr(e, k)}"
        return s

    def print_prefix_list(self, pl: PrefixList) -> list[str]:
        head = ("ip" if pl.afi == "ipv4" else "ipv6") + f" prefix-list {pl.name}"
        out = [f"{head} description {pl.description}"] if pl.description is not None else []
        return out + [f"{head} {self.pl_entry_text(e)}" for e in pl.entries]

    # ---------------------------------------------------------------- community and AS-path lists
    def cmd_community_list(self, line: str, m: re.Match, strict: bool) -> Any:
        no, kind, name, number, action, value = m.groups()
        if number:
            name = number
            kind = "standard" if int(number) <= 99 else "expanded"
        cl = self.state.community_lists.get(name)
        if cl is not None and cl.kind != kind:
            raise Rejected(line, "% Community list of a different type already exists")
        if no:
            if action is None:
                self.state.drop("community_list", name)
            elif cl is not None:
                rest = tuple(e for e in cl.entries if (e.action, e.value) != (action, value))
                self.state.drop("community_list", name) if not rest else self.state.put("community_list", name, replace(cl, entries=rest))
            return STAY
        if action is None:
            raise Rejected(line, "% Incomplete command")
        cl = cl or CommunityList(name, kind)
        e = ListEntry(None, action, value)
        if e not in cl.entries:  # the same entry twice is one entry
            self.state.put("community_list", name, replace(cl, entries=cl.entries + (e,)))
        return STAY

    def print_community_list(self, cl: CommunityList) -> list[str]:
        label = cl.name if cl.name.isdigit() else f"{cl.kind} {cl.name}"
        return [f"ip community-list {label} {e.action} {e.value}" for e in cl.entries]

    def cmd_as_path(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, action, regex = m.groups()
        al = self.state.as_path_lists.get(name)
        if no:
            if action is None:
                self.state.drop("as_path_list", name)
            elif al is not None:
                rest = tuple(e for e in al.entries if (e.action, e.value) != (action, regex))
                self.state.drop("as_path_list", name) if not rest else self.state.put("as_path_list", name, replace(al, entries=rest))
            return STAY
        if action is None:
            raise Rejected(line, "% Incomplete command")
        if not 1 <= int(name) <= 500:
            raise Rejected(line, "% Invalid input detected (AS-path access-list numbers are 1-500)")
        al = al or AsPathList(name)
        e = ListEntry(None, action, regex)
        if e not in al.entries:
            self.state.put("as_path_list", name, replace(al, entries=al.entries + (e,)))
        return STAY

    def print_as_path_list(self, al: AsPathList) -> list[str]:
        return [f"ip as-path access-list {al.name} {e.action} {e.value}" for e in al.entries]

    # numbered list entries (`... NAME seq N permit VALUE`: AOS-CX, NX-OS)
    def seq_list(self, kind: str, name: str, obj: Any, no: str | None, seq: str | None, action: str | None, value: str | None, line: str):
        if no:
            if obj is None:
                return STAY
            if seq is None and action is None:
                self.state.drop(kind, name)
                return STAY
            rest = tuple(e for e in obj.entries if not (e.seq == int(seq) if seq else (e.action, e.value) == (action, value)))
            self.state.drop(kind, name) if not rest else self.state.put(kind, name, replace(obj, entries=rest))
            return STAY
        if action is None:
            raise Rejected(line, "% Incomplete command")
        n = int(seq) if seq else max((e.seq or 0 for e in obj.entries), default=0) + 10
        new = ListEntry(n, action, value)
        have = next((e for e in obj.entries if e.seq == n), None)
        if have is not None and have != new:
            raise Rejected(line, "% Sequence number already exists")
        entries = tuple(sorted({e.seq: e for e in obj.entries + (new,)}.values(), key=lambda e: e.seq))
        self.state.put(kind, name, replace(obj, entries=entries))
        return STAY

    # ---------------------------------------------------------------- route-maps
    def cmd_route_map(self, line: str, m: re.Match, strict: bool) -> Any:
        no, name, action, seq_s = m.groups()
        rm = self.state.route_maps.get(name)
        seq = int(seq_s) if seq_s else None
        if no:
            if rm is None:
                return STAY
            if seq is None and action is None:
                self.state.drop("route_map", name)
                return STAY
            if seq is None:
                raise Unmodelled(line, "`no route-map NAME permit|deny` without a sequence number")
            rest = tuple(e for e in rm.entries if e.seq != seq)
            self.state.drop("route_map", name) if not rest else self.state.put("route_map", name, replace(rm, entries=rest))
            return STAY
        action = action or "permit"
        if seq is None:
            if rm is None or not rm.entries:
                seq = 10
            elif len(rm.entries) == 1:
                seq = rm.entries[0].seq
            else:
                raise Rejected(line, "% Please specify the entry by its sequence")
        rm = rm or RouteMap(name)
        have = rm.entry(seq)
        entry = replace(have, action=action) if have else RouteMapEntry(seq, action)
        self.state.put("route_map", name, replace(rm, entries=insert_by_seq(rm.entries, entry)))
        return ("route_map", name, seq)

    def rm_entry(self, mode: tuple) -> RouteMapEntry | None:
        rm = self.state.route_maps.get(mode[1])
        return rm.entry(mode[2]) if rm else None

    def put_rm_entry(self, mode: tuple, entry: RouteMapEntry) -> None:
        rm = self.state.route_maps[mode[1]]
        self.state.put("route_map", mode[1], replace(rm, entries=insert_by_seq(rm.entries, entry)))

    def route_map_clause_ok(self, clause: str) -> bool:
        """Clauses the simulator understands well enough to accept from a command (strict mode)."""
        return clause_key(clause) != clause or clause.startswith(("description ", "continue"))

    def in_route_map(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        entry = self.rm_entry(mode)
        if entry is None:
            return NOT_HERE
        toks = line.split()
        if toks[0] == "no" and len(toks) > 1 and toks[1] in ("match", "set", "description", "continue"):
            self.put_rm_entry(mode, replace(entry, clauses=self.remove_clause(entry.clauses, " ".join(toks[1:]), line)))
            return STAY
        if toks[0] not in ("match", "set", "description", "continue", "sub-route-map"):
            return NOT_HERE if strict else self.keep_clause(mode, line)
        if strict and not self.route_map_clause_ok(line):
            raise Unmodelled(line, f"{self.platform} simulator: route-map clause not modelled")
        self.put_rm_entry(mode, replace(entry, clauses=self.add_clause(entry.clauses, line)))
        return STAY

    def keep_route_map(self, mode: tuple, line: str) -> Any:
        return self.keep_clause(mode, line)

    def keep_clause(self, mode: tuple, line: str) -> Any:
        entry = self.rm_entry(mode)
        self.put_rm_entry(mode, replace(entry, clauses=entry.clauses + (line,)))
        return STAY

    def add_clause(self, clauses: tuple[str, ...], new: str) -> tuple[str, ...]:
        sm = split_match(new)
        if sm and self.route_map_name_accumulates:
            head, names, _, exact = sm
            for i, c in enumerate(clauses):
                old = split_match(c)
                if old and old[0] == head:
                    merged = list(old[1]) + [n for n in names if n not in old[1]]
                    text = head + " ".join(merged) + (" exact-match" if exact or old[3] else "")
                    return clauses[:i] + (text,) + clauses[i + 1:]
        return with_clause(clauses, new, clause_key, clause_group)

    def remove_clause(self, clauses: tuple[str, ...], gone: str, line: str) -> tuple[str, ...]:
        sm = split_match(gone)
        key = clause_key(gone)
        out = []
        for c in clauses:
            if clause_key(c) != key:
                out.append(c)
                continue
            if sm and sm[1]:
                have = split_match(c)
                rest = [n for n in have[1] if n not in sm[1]]
                if rest:
                    out.append(sm[0] + " ".join(rest) + (" exact-match" if have[3] else ""))
            # other clauses: `no set X [value]` / `no description` / `no continue` remove the clause
        return tuple(out)

    def print_route_map(self, rm: RouteMap) -> list[str]:
        out: list[str] = []
        for i, e in enumerate(rm.entries):
            if i:
                out.append(self.separator or "")
            out.append(f"route-map {rm.name} {e.action} {e.seq}")
            out += [self.pad(1) + c for c in e.clauses]
        return [x for x in out if x]

    def route_map_semantics(self, rm: RouteMap, e: RouteMapEntry) -> RMEntry:
        matches: list[Match] = []
        sets: list[tuple[str, str]] = []
        cont: int | str | None = None
        desc = None
        for c in e.clauses:
            if c.startswith("description "):
                desc = c[len("description "):]
            sm = split_match(c)
            if sm:
                head, names, _, exact = sm
                kind, afi = next((k, a) for h, k, a in _MULTI_NAME if h == head)
                matches.append(Match(kind, names, afi, exact))
            elif c.startswith("match "):
                matches.append(Match("opaque", text=c))
            elif c.startswith("on-match "):
                pass  # FRR's spelling of continue: read by its simulator
            elif c.startswith("continue"):
                parts = c.split()
                cont = int(parts[1]) if len(parts) > 1 else "next"
            elif c.startswith("set comm-list ") and c.endswith(" delete"):
                sets.append(("community-list delete", c.split()[2]))
            elif c.startswith("set "):
                key = clause_key(c)
                sets.append((key, c[len(key):].strip() if key != c else c))
        return RMEntry(e.seq, e.action, tuple(matches), tuple(sets), cont, desc)

    # ---------------------------------------------------------------- router bgp
    def bgp_line(self) -> Line | None:
        """The default instance's `router bgp` (FRR also has `router bgp ASN vrf NAME` blocks)."""
        found = [x for x in self.state.top(r"router bgp ") if " vrf " not in x.text]
        return found[0] if found else None

    def cmd_router_bgp(self, line: str, m: re.Match, strict: bool) -> Any:
        bgp = self.bgp_line()
        if bgp is None:
            bgp = Line(line)
            self.state.order.append(bgp)
        elif bgp.text != line:
            raise Rejected(line, f"% BGP is already running; AS is {bgp.text.split()[2]}")
        return ("bgp", bgp)

    def in_bgp(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        bgp: Line = mode[1]
        m = re.fullmatch(r"address-family (.+)", line)
        if m:
            afi = self.bgp_af_words.get(m.group(1))
            for c in bgp.children:
                if c.text == line or (afi and self.af_matches(c.text, afi)):
                    return ("bgp_af", bgp, c, afi or c.text)
            if afi is None and strict:
                raise Unmodelled(line, f"{self.platform} simulator: address family not modelled")
            af = Line(self.af_header[afi] if afi and strict else line)
            bgp.children.append(af)
            if self.af_footer and strict:
                bgp.children.append(Line(self.af_footer))
            return ("bgp_af", bgp, af, afi or line)
        if line == "exit-address-family" and strict:
            return STAY
        m = re.fullmatch(r"(no )?neighbor (\S+) route-map (\S+) (in|out)", line)
        if m:
            self.bind(bgp, bgp, "ipv4", m, line)
            return STAY
        if strict and self.define_neighbor(bgp, line):
            return STAY
        if strict and self.reissue(bgp, line):
            return STAY
        return NOT_HERE if strict else self.keep_line(bgp, line)

    peer_group_words = ("peer-group",)

    def define_neighbor(self, bgp: Line, line: str) -> bool:
        """`neighbor X remote-as N`, `neighbor G peer-group`, `neighbor X peer-group G` (the ways to declare one)."""
        pg = "|".join(self.peer_group_words)
        m = re.fullmatch(r"neighbor (\S+) remote-as (\S+)", line)
        if m:
            rx = re.compile(rf"neighbor {re.escape(m.group(1))} remote-as \S+")
            for c in bgp.children:
                if rx.fullmatch(c.text):
                    c.text = line
                    return True
            self.insert_neighbor_line(bgp, Line(line))
            return True
        m = re.fullmatch(rf"neighbor (\S+) ({pg})", line)
        if m:
            if not any(c.text == line for c in bgp.children):
                self.insert_neighbor_line(bgp, Line(line))
            return True
        m = re.fullmatch(rf"neighbor (\S+) ({pg}) (\S+)", line)
        if m:
            if not any(re.fullmatch(rf"neighbor {re.escape(m.group(3))} ({pg})", c.text) for c in bgp.children):
                raise Rejected(line, "% Create the peer-group first")
            rx = re.compile(rf"neighbor {re.escape(m.group(1))} ({pg}) \S+")
            bgp.children = [c for c in bgp.children if not rx.fullmatch(c.text)]
            self.insert_neighbor_line(bgp, Line(line))
            return True
        return False

    af_footer = "exit-address-family"

    def af_matches(self, text: str, afi: str) -> bool:
        m = re.fullmatch(r"address-family (.+)", text)
        return bool(m) and self.bgp_af_words.get(m.group(1)) == afi

    def keep_line(self, parent: Line, line: str) -> Any:
        node = Line(line)
        parent.children.append(node)
        return ("opaque", node)

    def keep_bgp(self, mode: tuple, line: str) -> Any:
        return self.keep_line(mode[1], line)

    def in_bgp_af(self, mode: tuple, line: str, strict: bool) -> Any:
        if line in ("exit-address-family", "exit"):
            return EXIT if strict else NOT_HERE
        bgp, af, afi = mode[1], mode[2], mode[3]
        m = re.fullmatch(r"(no )?neighbor (\S+) route-map (\S+) (in|out)", line)
        if m and afi in ("ipv4", "ipv6"):
            self.bind(bgp, af, afi, m, line)
            return STAY
        if strict and self.reissue(af, line):
            return STAY
        return NOT_HERE if strict else self.keep_line(af, line)

    # Words after which a `router bgp` line names a route-map ([O'R-RM], [IOS-RD]).
    route_map_words = ("route-map", "table-map", "attribute-map", "suppress-map", "unsuppress-map", "advertise-map",
                       "exist-map", "non-exist-map")

    def reissue(self, block: Line, line: str) -> bool:
        """[IOS-RD] a statement naming a route-map typed again with another name replaces the statement that
        differs only in that name (`redistribute connected route-map B` after `... route-map A`: one
        redistribution per source, one table-map, one default-originate per neighbor)."""
        toks = line.split()
        for i, t in enumerate(toks[:-1]):
            if t not in self.route_map_words:
                continue
            for c in block.children:
                have = c.text.split()
                if len(have) == len(toks) and have[:i + 1] == toks[:i + 1] and have[i + 2:] == toks[i + 2:]:
                    c.text = line
                    return True
        return False

    def keep_bgp_af(self, mode: tuple, line: str) -> Any:
        return self.keep_line(mode[2], line)

    def neighbor_defined(self, bgp: Line, who: str) -> bool:
        rx = re.compile(rf"neighbor {re.escape(who)} (remote-as|peer-group)( |$)")
        return any(rx.match(c.text) for c in bgp.children)

    def peer_group_of(self, bgp: Line, who: str) -> str | None:
        for c in bgp.children:
            m = re.fullmatch(rf"neighbor {re.escape(who)} (?:peer-group|peer group) (\S+)", c.text)
            if m:
                return m.group(1)
        return None

    def bind(self, bgp: Line, where: Line, afi: str, m: re.Match, line: str) -> None:
        no, who, rm, direction = m.groups()
        if not self.neighbor_defined(bgp, who):
            raise Rejected(line, "% Specify remote-as or peer-group commands first")
        if not no and direction == "out" and self.peer_group_out_refused and self.peer_group_of(bgp, who):
            raise Rejected(line, "% Invalid command for a peer-group member")  # [NL-PG]
        rx = re.compile(rf"neighbor {re.escape(who)} route-map (\S+) {direction}$")
        for i, c in enumerate(where.children):
            hit = rx.fullmatch(c.text)
            if hit:
                if no:
                    if hit.group(1) != rm:
                        raise Unmodelled(line, f"{self.platform} simulator: `no` names {rm}, bound is {hit.group(1)}")
                    del where.children[i]
                else:
                    c.text = f"neighbor {who} route-map {rm} {direction}"
                return
        if not no:
            self.insert_neighbor_line(where, Line(f"neighbor {who} route-map {rm} {direction}"))

    def insert_neighbor_line(self, where: Line, node: Line) -> None:
        """After the last `neighbor` line of the block (IOS groups neighbor lines), else at its end."""
        last = max((i for i, c in enumerate(where.children) if c.text.startswith("neighbor ")), default=None)
        where.children.insert(len(where.children) if last is None else last + 1, node)

    # ---------------------------------------------------------------- interfaces
    def interface_creatable(self, name: str) -> bool:
        return bool(re.match(r"(?i)(loopback|tunnel|vlan|port-channel|bdi)", name))

    def cmd_interface(self, line: str, m: re.Match, strict: bool) -> Any:
        name = m.group(1)
        for node in self.state.top(r"interface "):
            if node.text == line:
                return ("interface", node)
        if strict and not self.interface_creatable(name):
            raise Rejected(line, "% Invalid input detected (no such interface)")
        node = Line(line)
        self.state.order.append(node)
        return ("interface", node)

    acl_attach = ((r"(no )?ip access-group (\S+) (in|out)", "ipv4", "ip access-group"),
                  (r"(no )?ipv6 traffic-filter (\S+) (in|out)", "ipv6", "ipv6 traffic-filter"))

    def in_interface(self, mode: tuple, line: str, strict: bool) -> Any:
        if line == "exit":
            return EXIT
        node: Line = mode[1]
        for pat, _afi, word in self.acl_attach:
            m = re.fullmatch(pat, line)
            if m:
                no, name, direction = m.groups()
                rx = re.compile(rf"{re.escape(word)} (\S+) {direction}")
                for i, c in enumerate(node.children):
                    hit = rx.fullmatch(c.text)
                    if hit:
                        if no:
                            del node.children[i]
                        else:
                            c.text = f"{word} {name} {direction}"
                        return STAY
                if not no:
                    node.children.append(Line(f"{word} {name} {direction}"))
                return STAY
        return NOT_HERE if strict else self.keep_line(node, line)

    def keep_interface(self, mode: tuple, line: str) -> Any:
        return self.keep_line(mode[1], line)

    def bgp_facts(self) -> tuple[int, dict[str, int]] | None:
        bgp = self.bgp_line()
        if bgp is None:
            return None
        asn = int(bgp.text.split()[2].split(".")[0]) if bgp.text.split()[2].isdigit() else 0
        remote: dict[str, str] = {}
        for text in self.walk(bgp):
            m = re.fullmatch(r"neighbor (\S+) remote-as (\d+)", text)
            if m:
                remote.setdefault(m.group(1), m.group(2))
        out = {}
        for nbr, group in self.neighbors(bgp).items():
            ras = remote.get(nbr) or (remote.get(group) if group else None)
            if ras:
                out[nbr] = int(ras)
        return asn, out

    # ---------------------------------------------------------------- attachments and references
    def bgp_scopes(self, bgp: Line) -> list[tuple[str, Line]]:
        """(afi, block) pairs whose `neighbor X route-map` lines bind unicast policy."""
        scopes = [("ipv4", bgp)]
        for c in bgp.children:
            m = re.fullmatch(r"address-family (.+)", c.text)
            if m and self.bgp_af_words.get(m.group(1)):
                scopes.append((self.bgp_af_words[m.group(1)], c))
        return scopes

    def neighbors(self, bgp: Line) -> dict[str, str | None]:
        """Neighbor address -> its peer group (None)."""
        out: dict[str, str | None] = {}
        for c in bgp.children:
            m = re.fullmatch(r"neighbor (\S+) (remote-as \S+|(?:peer-group|peer group)(?: (\S+))?)", c.text)
            if m and is_address(m.group(1)):
                out.setdefault(m.group(1), None)
                if m.group(3):
                    out[m.group(1)] = m.group(3)
        return out

    global_binding_afis: tuple[str, ...] = ("ipv4",)  # router-level `neighbor X route-map` binds these families

    def direct_bindings(self, block: Line) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for c in block.children:
            m = re.fullmatch(r"neighbor (\S+) route-map (\S+) (in|out)", c.text)
            if m:
                out[(m.group(1), m.group(3))] = m.group(2)
        return out

    def bgp_bindings(self, bgp: Line) -> dict[tuple, tuple[str, str]]:
        """(\"bgp\", neighbor, afi, direction) -> ("route_map", name), peer-group inheritance applied."""
        att: dict[tuple, tuple[str, str]] = {}
        nbrs = self.neighbors(bgp)
        top = self.direct_bindings(bgp)
        per_af = {afi: self.direct_bindings(block) for afi, block in self.bgp_scopes(bgp) if block is not bgp}
        for afi in ("ipv4", "ipv6"):
            layers = [per_af.get(afi, {})] + ([top] if afi in self.global_binding_afis else [])
            for nbr, group in nbrs.items():
                for d in ("in", "out"):
                    for layer in layers:
                        rm = layer.get((nbr, d)) or (layer.get((group, d)) if group else None)
                        if rm:
                            att[("bgp", nbr, afi, d)] = ("route_map", rm)
                            break
        return att

    def attachments(self) -> tuple[dict, list[Ref]]:
        att: dict[tuple, tuple[str, str]] = {}
        refs: list[Ref] = []
        bgp = self.bgp_line()
        if bgp is not None:
            att.update(self.bgp_bindings(bgp))
            for text in self.walk(bgp):
                m = re.fullmatch(r"neighbor (\S+) route-map (\S+) (in|out)", text)
                if m:
                    refs.append(Ref(f"bgp neighbor {m.group(1)} {m.group(3)}", "route_map", m.group(2)))
            refs += self.other_bgp_refs(bgp, att)
        for vrf in self.state.top(r"router bgp \S+ vrf "):  # FRR's per-VRF instances: references only
            for text in self.walk(vrf):
                m = re.fullmatch(r"neighbor (\S+) route-map (\S+) (in|out)", text)
                if m:
                    refs.append(Ref(f"{vrf.text}: neighbor {m.group(1)} {m.group(3)}", "route_map", m.group(2)))
            refs += [Ref(f"{vrf.text}: {r.source}", r.kind, r.name) for r in self.other_bgp_refs(vrf, {})]
        for node in self.state.top(r"interface "):
            ifname = node.text.split(None, 1)[1]
            for c in node.children:
                for pat, afi, _ in self.acl_attach:
                    m = re.fullmatch(pat, c.text)
                    if m:
                        att[("interface", ifname, afi, m.group(3))] = ("acl", m.group(2))
                        refs.append(Ref(f"interface {ifname} {afi} {m.group(3)}", "acl", m.group(2)))
        return att, refs

    def walk(self, block: Line, deep: bool = True):
        for c in block.children:
            yield c.text
            if deep:
                for x in self.walk(c):
                    yield x

    def other_bgp_refs(self, bgp: Line, att: dict) -> list[Ref]:
        """Redistribution route-maps (live attachment points) and neighbor list filters (references)."""
        refs = []
        for text in self.walk(bgp):
            m = re.search(r"^redistribute (.+?) route-map (\S+)", text)
            if m:
                att[("redistribute", m.group(1))] = ("route_map", m.group(2))
                refs.append(Ref(f"bgp redistribute {m.group(1)}", "route_map", m.group(2)))
            m = re.fullmatch(r"neighbor (\S+) prefix-list (\S+) (in|out)", text)
            if m:
                refs.append(Ref(f"bgp {m.group(1)} prefix-list {m.group(3)}", "prefix_list", m.group(2)))
            m = re.fullmatch(r"neighbor (\S+) filter-list (\S+) (in|out)", text)
            if m:
                refs.append(Ref(f"bgp {m.group(1)} filter-list {m.group(3)}", "as_path_list", m.group(2)))
        return refs


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


SIM = CiscoIos
