"""JunOS policy-options and BGP -> prefix-lists, community-lists, as-path lists, route-maps, bindings.

Mapping (JunOS semantics differ from route-maps; every approximation is written to `skipped`):
* `prefix-list NAME { P; }` -> PrefixList of exact permit entries in address order (a Junos list is a set),
  seq 5, 10, ...
* `community NAME members [ .. ]` -> CommunityList with one entry (JunOS members are ANDed): standard, `large:`
  members -> large, anything else that is a valid regex -> expanded (the regex is JunOS syntax, kept verbatim).
* `as-path NAME "re"` -> AsPathList with one entry; `as-path-group G as-path N "re"` -> AsPathList G, one entry
  per member (ORed). Regexes are JunOS AS-level syntax, kept verbatim.
* `policy-statement P term T` -> RouteMap P entry seq 10, 20, ... by position, or the term names themselves
  when all are increasing numbers (as netchange's Junos driver renders entries; its final
  `netchange-final-reject` term is the route-map's implicit deny and is dropped). Other term names are not
  kept; the unnamed final `from`/`then` of a policy comes last. `then accept` -> permit, `then reject` -> deny; a term
  without either falls through in JunOS: modelled as permit + `continue` to the next entry.
* `route-filter-list NAME P <modifier>` -> PrefixList with ge/le (how the driver renders those).
* route-filters, prefix-list-filters and more than one prefix-list in a term are ORed prefix matches: they
  become one generated prefix-list named `<policy>.<term>` (`<policy>.final` for the unnamed term). Several
  communities in a term likewise become a generated community-list `<policy>.<term>`; `from next-hop`
  addresses a generated prefix-list `<policy>.<term>.nh`.
* `protocols bgp [group G] [neighbor A] import|export` (also inside routing-instances) -> NeighborBinding per
  neighbor; the most specific level wins; a policy chain keeps its first policy.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterator

from ..model.base import Network, afi_of
from ..model.policy import Use
from ..model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, NeighborBinding,
                             PrefixList, PrefixListEntry, RouteMap, RouteMapEntry, SetClause)
from .canonical import as_set, canonical_bounds, prefix_key
from .junos_common import bad_name, build, junos_prefix
from .junos_setlines import Node
from .notes import Notes

_WELL_KNOWN = {"no-export", "no-advertise", "graceful-shutdown", "blackhole", "no-peer", "accept-own", "local-as"}
_STANDARD = re.compile(r"\d{1,5}:\d{1,5}")
_LARGE = re.compile(r"large:(\d{1,10}:\d{1,10}:\d{1,10})")
_EXTENDED = re.compile(r"(target|origin|bandwidth|domain-id|src-as|rt-import|color|encapsulation|"
                       r"mac-mobility|esi-label|router-mac|link-bandwidth|traffic-redirect):", re.I)
# `from` conditions the Match model has no field for: the entry then matches more routes than on the device.
# The final term netchange's Junos driver renders after a route-map's entries (pipeline/drivers/juniper_junos.py).
RENDERED_FINAL_TERM = "netchange-final-reject"
FINAL_TERM_NAME = "final"  # how notes and generated names call a policy's unnamed from/then
_ROUTE_FILTER_LENGTH = {"exact", "orlonger", "longer", "upto", "prefix-length-range"}


def _max_len(net: Network) -> int:
    return 32 if net.version == 4 else 128


def _entry_bounds(net: Network, how: list[str]) -> tuple[int | None, int | None] | None:
    """route-filter modifiers -> (ge, le) in prefix-list terms; None when not expressible."""
    if not how or how[0] == "exact":
        return None, None
    kind, arg = how[0], how[1] if len(how) > 1 else ""
    length, top = net.prefixlen, _max_len(net)
    if kind == "orlonger":
        ge, le = length, top
    elif kind == "longer":
        ge, le = length + 1, top
    elif kind == "upto" and arg.startswith("/") and arg[1:].isdigit():
        ge, le = length, int(arg[1:])
    elif kind == "prefix-length-range" and re.fullmatch(r"/\d+-/\d+", arg):
        ge, le = (int(x) for x in arg.replace("/", "").split("-"))
    else:
        return None
    if ge > top or le > top or le < ge or ge < length:
        return None
    return canonical_bounds(length, "ipv4" if net.version == 4 else "ipv6", ge, le, None)


@dataclass(frozen=True)
class JunosLayout:
    """Where things sit on a Junos device (DevicePolicy.device): the BGP group of each neighbor, so that a
    binding is written in the group that holds the neighbor; and each policy `from prefix-list X` /
    `from route-filter-list X` statement as the device names its term, so that a list that turns from one
    kind into the other takes its policies' matches along."""

    bgp_groups: dict[str, str] = field(default_factory=dict)
    list_refs: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)


class PolicyMapper:
    def __init__(self, tree: Node, notes: Notes):
        self.tree = tree
        self.notes = notes  # notes made while reading an object are attributed to it (notes.inside)
        self.po = tree.child("policy-options") or Node()
        self.prefix_lists: dict[str, PrefixList] = {}
        self.community_lists: dict[str, CommunityList] = {}
        self.as_path_lists: dict[str, AsPathList] = {}
        self.route_maps: dict[str, RouteMap] = {}
        self.bindings: dict[tuple[str, str, str], NeighborBinding] = {}
        self.peer_groups: dict[str, tuple[str, ...]] = {}  # BGP group -> neighbor addresses (default instance)
        self.uses: list[Use] = []  # statements naming a policy or a prefix-list (BGP import/export, firewall terms)
        self.bgp_groups: dict[str, str] = {}  # neighbor address -> the BGP group holding it (default instance)
        self.list_refs: dict[str, list[tuple[str, ...]]] = {}  # prefix-list -> policy `from` statements naming it

    def run(self) -> None:
        self._prefix_lists()
        self._route_filter_lists()
        self._communities()
        self._as_paths()
        for name in self.po.keys("policy-statement"):
            with self.notes.inside("route_map", name):  # its generated lists belong to it too
                self._policy(name, self.po.at("policy-statement", name))
        self._bgp()
        # Prefix-lists, route-filter-lists and as-path-groups are sets on Junos (no order, no sequence
        # numbers): read in one canonical order, numbered 5, 10, ... (pipeline/parsers/canonical.py).
        self.prefix_lists = {n: as_set(pl, prefix_key) for n, pl in self.prefix_lists.items()}
        self.as_path_lists = {n: as_set(al, lambda e: e.regex) for n, al in self.as_path_lists.items()}

    # --- prefix-lists --------------------------------------------------------------------------------
    def static_prefixes(self) -> dict[str, list[Network]]:
        """Prefix-list contents as networks (for firewall source-/destination-prefix-list)."""
        return {n: [e.prefix for e in pl.entries] for n, pl in self.prefix_lists.items()}

    def _prefix_lists(self) -> None:
        for name in self.po.keys("prefix-list"):
            with self.notes.inside("prefix_list", name):
                self._prefix_list(name)

    def _prefix_list(self, name: str) -> None:
        where = f"policy-options prefix-list {name}"
        entries: list[PrefixListEntry] = []
        for text in self.po.keys("prefix-list", name):
            if text == "apply-path":
                self.notes.append(f"{where}: apply-path (prefixes taken from the config) not expanded")
                continue
            net = self._prefix(where, text)
            if net is not None:
                e = build(self.notes, where, lambda: PrefixListEntry(seq=5 * (len(entries) + 1), action="permit",
                                                                     prefix=net))
                entries.append(e) if e else None
        pl = build(self.notes, where, lambda: PrefixList(name=name, afi=self._afi(entries), entries=tuple(entries)))
        if pl:
            self.prefix_lists[name] = pl

    def _route_filter_lists(self) -> None:
        """`route-filter-list NAME P exact|orlonger|upto /N|...` -> PrefixList with ge/le (netchange renders
        prefix-lists with ge/le this way)."""
        for name in self.po.keys("route-filter-list"):
            with self.notes.inside("prefix_list", name):
                self._route_filter_list(name)

    def _route_filter_list(self, name: str) -> None:
        where = f"policy-options route-filter-list {name}"
        if name in self.prefix_lists:
            self.notes.append(f"{where}: a prefix-list has the same name, ignored")
            return
        found = self._route_filters(where, self.po.at("route-filter-list", name))
        pl = build(self.notes, where, lambda: PrefixList(name=name, afi=self._afi_of_nets([n for n, _, _ in found]),
                                                         entries=tuple(PrefixListEntry(seq=5 * (i + 1), action="permit", prefix=n, ge=ge, le=le)
                                                                       for i, (n, ge, le) in enumerate(found))))
        if pl:
            self.prefix_lists[name] = pl

    def _prefix(self, where: str, text: str) -> Network | None:
        try:
            net, masked = junos_prefix(text)
        except ValueError:
            self.notes.append(f"{where}: '{text}' is not a prefix, ignored")
            return None
        if masked:  # JunOS masks them itself: a rewrite with the masked prefix is the same statement
            self.notes.info(f"{where}: host bits set in {text}, read as {net}")
        return net

    def _afi(self, entries: list[PrefixListEntry]):
        fams = {afi_of(e.prefix) for e in entries}
        return fams.pop() if len(fams) == 1 else None

    # --- communities and as-paths --------------------------------------------------------------------
    def _communities(self) -> None:
        for name in self.po.keys("community"):
            where = f"policy-options community {name}"
            node = self.po.at("community", name)
            with self.notes.inside("community_list", name):
                for opt in node.keys():
                    if opt != "members":
                        self.notes.append(f"{where}: option '{opt}' not modelled")
                members = node.keys("members")
                cl = self._community_list(where, name, members)
            if cl:
                self.community_lists[name] = cl

    def _community_list(self, where: str, name: str, members: list[str]) -> CommunityList | None:
        if not members:
            self.notes.append(f"{where}: no members")
            return None
        if any(_EXTENDED.match(m) for m in members):
            self.notes.append(f"{where}: extended communities ({' '.join(members)}) not modelled")
            return None
        large = [_LARGE.fullmatch(m) for m in members]
        if all(large):
            kind, entry = "large", CommunityListEntry(action="permit", communities=tuple(m.group(1) for m in large if m))
        elif all(_STANDARD.fullmatch(m) or m in _WELL_KNOWN for m in members):
            kind, entry = "standard", None
        elif len(members) == 1:
            self.notes.info(f"{where}: member '{members[0]}' read as a JunOS community regex (kept verbatim)")
            kind = "expanded"
        else:
            self.notes.append(f"{where}: several members with regexes (ANDed in JunOS) not modelled")
            return None
        return build(self.notes, where, lambda: CommunityList(name=name, kind=kind, entries=(
            entry if kind == "large" else
            CommunityListEntry(action="permit", communities=tuple(members)) if kind == "standard" else
            CommunityListEntry(action="permit", regex=members[0]),)))

    def _as_paths(self) -> None:
        for name in self.po.keys("as-path"):
            regexes = self.po.keys("as-path", name)
            self._as_path_list(f"policy-options as-path {name}", name, regexes[:1])
        for group in self.po.keys("as-path-group"):
            node = self.po.at("as-path-group", group)
            regexes = [r for member in node.keys("as-path") for r in node.keys("as-path", member)[:1]]
            self._as_path_list(f"policy-options as-path-group {group}", group, regexes)
        if self.as_path_lists:
            self.notes.append("junos: as-path regexes use JunOS AS-level syntax, kept verbatim")

    def _as_path_list(self, where: str, name: str, regexes: list[str]) -> None:
        with self.notes.inside("as_path_list", name):
            self._as_path_list_in(where, name, regexes)

    def _as_path_list_in(self, where: str, name: str, regexes: list[str]) -> None:
        if name in self.as_path_lists:
            self.notes.append(f"{where}: name also used by another as-path list, ignored")
            return
        apl = build(self.notes, where, lambda: AsPathList(name=name, entries=tuple(
            AsPathEntry(seq=5 * (i + 1), action="permit", regex=r) for i, r in enumerate(regexes))))
        if apl:
            self.as_path_lists[name] = apl

    # --- policy-statements ---------------------------------------------------------------------------
    def _terms(self, node: Node) -> Iterator[tuple[str, Node]]:
        for term in node.keys("term"):
            yield term, node.at("term", term)
        if node.has("from") or node.has("then") or node.has("to"):
            final = Node({k: v for k, v in node.children.items() if k in ("from", "then", "to")})
            yield FINAL_TERM_NAME, final

    def _policy(self, name: str, node: Node) -> None:
        where = f"policy-statement {name}"
        if reason := bad_name(name):
            self.notes.append(f"{where}: name not usable ({reason})")
            return
        terms = list(self._terms(node))
        decided = self._catch_all(terms)  # a last term that accepts or rejects whatever reaches it
        if terms and terms[-1][0] == RENDERED_FINAL_TERM and _unconditional_reject(terms[-1][1]):
            terms.pop()  # netchange's rendering of a route-map's implicit deny
        seqs = _sequence_numbers([t for t, _ in terms])
        entries: list[RouteMapEntry] = []
        for i, ((term, tnode), seq) in enumerate(zip(terms, seqs)):
            next_seq = seqs[i + 1] if i + 1 < len(seqs) else None
            e = self._entry(f"{where} term {term}", name, term, tnode, seq, next_seq)
            if e:
                entries.append(e)
        rm = build(self.notes, where, lambda: RouteMap(name=name, entries=tuple(entries)))
        if rm:
            self.route_maps[name] = rm
            if not decided:
                self.notes.append(f"{where}: routes no term decides go on to the next policy or the protocol "
                                  "default (BGP: accept), not to a route-map's implicit deny")

    @staticmethod
    def _catch_all(terms: list[tuple[str, Node]]) -> bool:
        if not terms:
            return False
        _, last = terms[-1]
        return not last.has("from") and not last.has("to") and (last.has("then", "accept") or
                                                                 last.has("then", "reject"))


    def _entry(self, where: str, policy: str, term: str, node: Node, seq: int, next_seq: int | None) -> RouteMapEntry | None:
        if node.has("to"):
            self.notes.append(f"{where}: 'to' conditions not modelled")
        match = self._route_match(where, f"{policy}.{term}", node.child("from") or Node())
        stmt = ("policy-options", "policy-statement", policy) + (() if term == FINAL_TERM_NAME else ("term", term))
        for key in ("prefix-list", "route-filter-list"):
            for ref in (node.child("from") or Node()).keys(key):
                self.list_refs.setdefault(ref, []).append(stmt + ("from", key, ref))
        then = node.child("then") or Node()
        sets = self._sets(where, then)
        if then.has("accept"):
            action, cont = "permit", None
        elif then.has("reject"):
            action, cont = "deny", None
        else:
            if then.has("next", "policy"):
                self.notes.append(f"{where}: 'next policy' not modelled (read as falling through)")
            action, cont = "permit", next_seq
            if next_seq is None:
                self.notes.append(f"{where}: last term has no accept/reject (JunOS goes on to the next policy); "
                                  "modelled as permit")
        if match is None or sets is None:
            return None
        return build(self.notes, where, lambda: RouteMapEntry(seq=seq, action=action, match=match, set=sets,
                                                               **({"continue": cont} if cont else {})))

    def _route_match(self, where: str, generated: str, frm: Node) -> Match | None:
        fields: dict[str, str] = {}
        prefix_entries: list[tuple[Network, int | None, int | None]] = []
        prefix_refs = frm.keys("prefix-list") + frm.keys("route-filter-list")
        unmodelled: list[str] = []
        for key in frm.keys():
            if key in ("prefix-list", "route-filter-list"):
                for ref in frm.keys(key):
                    if len(prefix_refs) > 1 or frm.has("route-filter") or frm.has("prefix-list-filter"):
                        prefix_entries.extend(self._referenced(where, ref, []))
            elif key == "prefix-list-filter":
                for ref in frm.keys(key):
                    for how in frm.keys(key, ref) or ["exact"]:
                        prefix_entries.extend(self._referenced(where, ref, [how]))
            elif key == "route-filter":
                prefix_entries.extend(self._route_filters(where, frm.at(key)))
            elif key == "community":
                name = self._communities_match(where, generated, frm.keys(key))
                if name:
                    kind = self.community_lists[name].kind
                    fields["large_community_list" if kind.startswith("large") else "community_list"] = name
            elif key in ("as-path", "as-path-group"):
                refs = frm.keys(key)
                if not refs:  # `from as-path-group` naming nothing
                    unmodelled.append(key)
                    continue
                if len(refs) > 1 or "as_path" in fields:
                    self.notes.append(f"{where}: several as-path matches, only {refs[0]} kept")
                fields.setdefault("as_path", refs[0])
            elif key == "next-hop":
                nh = self._generated_list(where, f"{generated}.nh",
                                          [(n, None, None) for t in frm.keys(key) if (n := self._prefix(where, t))])
                if nh:
                    fields["next_hop_prefix_list"] = nh
            else:
                unmodelled.append(" ".join([key, *frm.keys(key)]).strip())
        if len(prefix_refs) == 1 and not prefix_entries:
            fields["prefix_list"] = prefix_refs[0]
        elif prefix_entries:
            name = self._generated_list(where, generated, prefix_entries)
            if name is None:
                return None
            fields["prefix_list"] = name
        if unmodelled:
            self.notes.append(f"{where}: match conditions not modelled (entry matches more routes than on the "
                              f"device): {'; '.join(unmodelled)}")
        return build(self.notes, where, lambda: Match(**fields))

    def _referenced(self, where: str, ref: str, how: list[str]) -> list[tuple[Network, int | None, int | None]]:
        if ref not in self.prefix_lists:
            self.notes.append(f"{where}: prefix-list {ref} is not defined (or not modelled), its match is dropped")
            return []
        out = []
        for e in self.prefix_lists[ref].entries:
            bounds = _entry_bounds(e.prefix, how) if how else (e.ge, e.le)
            if bounds is None:
                self.notes.append(f"{where}: prefix-list-filter {ref} {' '.join(how)} not modelled")
                return []
            out.append((e.prefix, *bounds))
        return out

    def _route_filters(self, where: str, node: Node) -> list[tuple[Network, int | None, int | None]]:
        """Each `route-filter P <modifier> [arg]` -> one entry; one prefix may carry several modifiers."""
        out = []
        for text in node.keys():
            net = self._prefix(where, text)
            for kind in node.keys(text) or ["exact"]:
                arg = node.keys(text, kind)[:1] if kind in ("upto", "prefix-length-range") else []
                how = [kind, *arg]
                if kind not in _ROUTE_FILTER_LENGTH:
                    self.notes.append(f"{where}: route-filter {text} {' '.join(how)} not modelled")
                    continue
                deeper = (node.child(text, *how) or Node()).keys()
                if deeper:  # `route-filter P exact accept`: an action inside the match
                    self.notes.append(f"{where}: route-filter {text} {' '.join(how)} action '{' '.join(deeper)}' "
                                      "not modelled")
                bounds = _entry_bounds(net, how) if net else None
                if net is None or bounds is None:
                    self.notes.append(f"{where}: route-filter {text} {' '.join(how)} not modelled")
                    continue
                out.append((net, *bounds))
        return out

    def _generated_list(self, where: str, name: str, entries: list[tuple[Network, int | None, int | None]]) -> str | None:
        if name in self.prefix_lists:
            self.notes.append(f"{where}: generated prefix-list {name} clashes with a configured one")
            return None
        if len({afi_of(n) for n, _, _ in entries}) > 1:
            self.notes.append(f"{where}: generated prefix-list {name} mixes IPv4 and IPv6")
        pl = build(self.notes, f"{where} (generated prefix-list {name})", lambda: PrefixList(
            name=name, afi=self._afi_of_nets([n for n, _, _ in entries]),
            entries=tuple(PrefixListEntry(seq=5 * (i + 1), action="permit", prefix=n, ge=ge, le=le)
                          for i, (n, ge, le) in enumerate(entries))))
        if pl is None:
            return None
        self.prefix_lists[name] = pl
        return name

    @staticmethod
    def _afi_of_nets(nets: list[Network]):
        fams = {afi_of(n) for n in nets}
        return fams.pop() if len(fams) == 1 else None

    def _communities_match(self, where: str, generated: str, refs: list[str]) -> str | None:
        missing = [r for r in refs if r not in self.community_lists]
        if missing:
            self.notes.append(f"{where}: community {', '.join(missing)} not defined or not modelled, match dropped")
            refs = [r for r in refs if r in self.community_lists]
        if len(refs) <= 1:
            return refs[0] if refs else None
        lists = [self.community_lists[r] for r in refs]
        if len({cl.kind for cl in lists}) > 1:
            self.notes.append(f"{where}: communities of different kinds ({', '.join(refs)}), only {refs[0]} kept")
            return refs[0]
        # JunOS ORs the communities of one term: one entry per referenced community (an entry ANDs its members)
        cl = build(self.notes, f"{where} (generated community-list {generated})", lambda: CommunityList(
            name=generated, kind=lists[0].kind,
            entries=tuple(e.model_copy(update={"seq": None}) for c in lists for e in c.entries)))
        if cl is None or generated in self.community_lists:
            return refs[0]
        self.community_lists[generated] = cl
        return generated

    def _sets(self, where: str, then: Node) -> SetClause | None:
        fields: dict = {}
        unmodelled: list[str] = []
        for key in then.keys():
            values = then.keys(key)
            if key in ("accept", "reject"):
                continue
            if key == "next" and values == ["term"]:
                continue
            if key == "local-preference" and values and values[0].isdigit():
                fields["local_preference"] = int(values[0])
            elif key == "metric" and values and values[0].isdigit():
                fields["med"] = int(values[0])
            elif key == "community":
                self._community_action(where, then.at(key), fields)
            elif key == "as-path-prepend" and values:
                words = values[0].split()
                if all(w.isdigit() for w in words):
                    fields["as_path_prepend"] = tuple(int(w) for w in words)
                else:
                    unmodelled.append(f"as-path-prepend {values[0]}")
            elif key == "next-hop" and values:
                fields["next_hop"] = self._next_hop(values[0], unmodelled)
                if fields["next_hop"] is None:
                    del fields["next_hop"]
            else:
                unmodelled.append(" ".join([key, *values]).strip())
        if unmodelled:
            self.notes.append(f"{where}: actions not modelled: {'; '.join(unmodelled)}")
        return build(self.notes, where, lambda: SetClause(**fields))

    @staticmethod
    def _next_hop(value: str, unmodelled: list[str]):
        if value in ("self", "peer-address"):
            return value
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            unmodelled.append(f"next-hop {value}")
            return None

    def _community_action(self, where: str, node: Node, fields: dict) -> None:
        """`community add|set NAME` names a community definition: its members are the values to add/set."""
        for op in node.keys():
            for ref in node.keys(op):
                if op == "delete":
                    if ref in self.community_lists and "community_delete" not in fields:
                        fields["community_delete"] = ref
                    else:
                        self.notes.append(f"{where}: community delete {ref} not modelled")
                    continue
                cl = self.community_lists.get(ref)
                field = {("add", "standard"): "community_add", ("set", "standard"): "community_replace",
                         ("add", "large"): "large_community_add"}.get((op, cl.kind if cl else ""))
                if cl is None or field is None:
                    self.notes.append(f"{where}: community {op} {ref} not modelled")
                    continue
                fields[field] = tuple(fields.get(field, ())) + tuple(c for e in cl.entries for c in e.communities)

    # --- BGP bindings --------------------------------------------------------------------------------
    def _bgp(self) -> None:
        self._bgp_instance("", self.tree.child("protocols", "bgp"))
        for ri in self.tree.keys("routing-instances"):
            bgp = self.tree.child("routing-instances", ri, "protocols", "bgp")
            if bgp is not None:
                self._bgp_instance(ri, bgp)
        if self.tree.has("logical-systems"):
            self.notes.append("logical-systems: not modelled")

    def _bgp_instance(self, instance: str, bgp: Node | None) -> None:
        if bgp is None:
            return
        where = f"routing-instance {instance} bgp" if instance else "bgp"
        base = ("routing-instances", instance, "protocols", "bgp") if instance else ("protocols", "bgp")
        if instance and bgp.has("group"):
            self.notes.append(f"{where}: bindings recorded without the routing-instance (the model has no VRF key)")
        decided: dict[tuple[str, ...], list[tuple[str, str, str]]] = {}  # statement path -> bindings it decides
        for group in bgp.keys("group"):
            gnode = bgp.at("group", group)
            # The default instance's groups are modelled (DevicePolicy.peer_groups): a group's import/export is a
            # binding on the group, which its neighbors without their own take. Elsewhere, resolved per neighbor.
            as_group = not instance and bad_name(group) is None
            members = []
            for addr in gnode.keys("neighbor"):
                try:
                    members.append(str(ipaddress.ip_address(addr)))
                except ValueError:
                    pass
            if as_group and members:
                self.peer_groups[group] = tuple(members)
            for junos_dir, direction in (("import", "in"), ("export", "out")):
                chain = gnode.keys(junos_dir)
                if as_group and members and chain:
                    for fam in sorted({afi_of(ipaddress.ip_address(m)) for m in members}):
                        key = self._bind(f"{where} group {group} {junos_dir}", group, direction, chain, fam)
                        if key is not None:
                            decided.setdefault(base + ("group", group, junos_dir), []).append(key)
            for addr in gnode.keys("neighbor"):
                if not instance:
                    self.bgp_groups.setdefault(addr, group)
                nnode = gnode.at("neighbor", addr)
                for junos_dir, direction in (("import", "in"), ("export", "out")):
                    if nnode.keys(junos_dir):
                        node, at = nnode, base + ("group", group, "neighbor", addr)
                    elif as_group and members and gnode.keys(junos_dir):
                        continue  # the group's own binding reaches this neighbor
                    elif gnode.keys(junos_dir):
                        node, at = gnode, base + ("group", group)
                    elif bgp.keys(junos_dir):
                        node, at = bgp, base
                    else:
                        continue
                    key = self._bind(f"{where} group {group} neighbor {addr} {junos_dir}", addr, direction,
                                     node.keys(junos_dir))
                    if key is not None:
                        decided.setdefault(at + (junos_dir,), []).append(key)
            if gnode.has("allow"):
                self.notes.append(f"{where} group {group}: dynamic neighbors (allow) not modelled")
        self._chain_uses(bgp, base, decided)

    def _chain_uses(self, bgp: Node, base: tuple[str, ...], decided: dict[tuple[str, ...], list[tuple[str, str, str]]]) -> None:
        """Every import/export statement as a Use; the first policy of a chain decides the model bindings."""
        levels: list[tuple[tuple[str, ...], Node]] = [((), bgp)] + [(("group", g), bgp.at("group", g)) for g in bgp.keys("group")]
        levels += [(("group", g, "neighbor", a), bgp.at("group", g, "neighbor", a))
                   for g in bgp.keys("group") for a in bgp.keys("group", g, "neighbor")]
        for rel, node in levels:
            for junos_dir in ("import", "export"):
                chain = node.keys(junos_dir)
                path = base + rel + (junos_dir,)
                if any(w in _POLICY_OPERATORS for w in chain):  # a policy expression: referenced, not re-pointable
                    words = _descendants(node.child(junos_dir))
                    self.uses += [Use("route_map", w, (), (), -1, who=" ".join(path)) for w in words
                                  if w not in _POLICY_OPERATORS and not bad_name(w)]
                    continue
                for i, policy in enumerate(chain):
                    if bad_name(policy):
                        continue
                    self.uses.append(Use("route_map", policy, (), path + (policy,), len(path),
                                         tuple(sorted(decided.get(path, ()))) if i == 0 else (),
                                         who=" ".join(path), chain_next=chain[i + 1] if i + 1 < len(chain) else None))

    def _bind(self, where: str, addr: str, direction: str, chain: list[str],
              group_afi: str | None = None) -> tuple[str, str, str] | None:
        neighbor: ipaddress.IPv4Address | ipaddress.IPv6Address | str
        if group_afi is not None:
            neighbor, afi = addr, group_afi
        else:
            try:
                address = ipaddress.ip_address(addr)
            except ValueError:
                self.notes.append(f"{where}: '{addr}' is not a neighbor address")
                return None
            neighbor, afi = address, afi_of(address)
        key = "/".join((str(neighbor), afi, direction))  # how a plan names this binding
        with self.notes.inside("binding", key):
            if len(chain) > 1:
                self.notes.append(f"{where}: policy chain [ {' '.join(chain)} ] recorded as its first policy {chain[0]}")
            b = build(self.notes, where, lambda: NeighborBinding(neighbor=neighbor, afi=afi,
                                                                 direction=direction, route_map=chain[0]))
            if b is None:
                return None
            if b.key in self.bindings:
                self.notes.append(f"{where}: neighbor already bound {direction} in another instance, ignored")
                return None
        self.bindings[b.key] = b
        return b.key


_FIREWALL_LISTS = ("source-prefix-list", "destination-prefix-list", "prefix-list")
_POLICY_OPERATORS = frozenset({"(", ")", "&&", "||", "!", "?"})


def _descendants(node: Node | None) -> list[str]:
    """Every word below a node (a policy expression `( A && B )` is stored as a path of words)."""
    out: list[str] = []
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        out += list(n.children)
        stack += list(n.children.values())
    return out


def firewall_uses(tree: Node) -> list[Use]:
    """`firewall [family F] filter N term T from source-|destination-prefix-list|prefix-list X [except]`:
    firewall terms naming policy-options prefix-lists (the filters themselves read them resolved)."""
    out: list[Use] = []
    fw = tree.child("firewall")
    # depth first in document order with an explicit stack, not recursion: a configuration may nest thousands
    # of levels deep (Python's recursion limit is 1,000)
    stack: list[tuple[str, Node, tuple[str, ...]]] = (
        [(w, c, ("firewall",)) for w, c in reversed(fw.children.items())] if fw is not None else [])
    while stack:
        word, child, path = stack.pop()
        here = path + (word,)
        if word in _FIREWALL_LISTS and len(path) >= 1 and path[-1] == "from":
            for name, sub in child.children.items():
                line = here + (name,) + tuple(sub.children)[:1]
                out.append(Use("prefix_list", name, (), line, len(here), who=" ".join(here[:-1])))
        else:
            stack += [(w, c, here) for w, c in reversed(child.children.items())]
    return out


def _unconditional_reject(term: Node) -> bool:
    return list(term.children) == ["then"] and term.keys("then") == ["reject"]


def _sequence_numbers(terms: list[str]) -> list[int]:
    """Term names that are increasing numbers (as netchange renders route-map entries) are the seqs;
    otherwise position gives 10, 20, ... (the unnamed final term continues either scheme)."""
    named = [t for t in terms if t != FINAL_TERM_NAME]
    if named and all(t.isdigit() and 0 < int(t) <= 65535 for t in named) and \
            all(int(a) < int(b) for a, b in zip(named, named[1:])):
        seqs = [int(t) for t in named]
        if len(named) < len(terms):
            seqs.append(seqs[-1] + 10)
        return seqs
    return [10 * (i + 1) for i in range(len(terms))]
