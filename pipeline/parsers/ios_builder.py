"""Stage 2 of IOS-style parsing: `_Builder` interprets one device's section trees into its model objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pydantic import ValidationError

from ..addresses import strict_network
from ..inventory import Attachment
from ..model.base import AFI
from .canonical import canonical_bounds
from .ios_sections import Node
from ..model.policy import ConcreteFilter, DevicePolicy, Rule, Skipped
from ..model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, PrefixList, PrefixListEntry,
                             RouteMap, RouteMapEntry, SetClause)
from .ios_aces import parse_ace
from .ios_bgp import _BgpState
from .ios_dialect import Dialect
from .ios_notes import _Notes
from .ios_route_maps import _match_clause, _set_clause
from .ios_values import Unsupported, _reason, community, free_text, name_problem, unquote


# ---- prefix-lists -----------------------------------------------------------------------------------

_MAX_LEN = {"ipv4": 32, "ipv6": 128}


@dataclass
class _PrefixListDraft:
    afi: AFI
    description: str | None = None
    entries: dict[int, PrefixListEntry] = field(default_factory=dict)


class _Builder:
    """Accumulates one device's objects from its section trees, then emits a DevicePolicy."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.notes = _Notes()
        self.policy = DevicePolicy()
        self.bad_names: set[tuple[str, str]] = set()
        self.prefix_lists: dict[str, _PrefixListDraft] = {}
        self.community_lists: dict[str, dict] = {}
        self.as_paths: dict[str, list[AsPathEntry]] = {}
        self.route_maps: dict[str, dict[int, dict]] = {}
        self.route_map_descriptions: dict[str, str] = {}
        self.acls: dict[str, dict] = {}
        self.attachments: list[tuple[str, str, str, str]] = []  # (acl, interface, direction, line)
        self.bgp = _BgpState()
        self._as_path_prefixes = tuple(c + " " for c in dialect.as_path_cmds)
        self._large_prefixes = tuple(c + " " for c in dialect.large_community_list_cmds)
        self._community_prefixes = tuple(c + " " for c in dialect.community_list_cmds)

    # -- names --

    def _name_ok(self, kind: str, name: str, line: str) -> bool:
        """Report a name that is not an Identifier once per object, with the first line that used it."""
        problem = name_problem(name)
        if problem is None:
            return True
        if (kind, name) not in self.bad_names:
            self.bad_names.add((kind, name))
            self.notes.add(kind, repr(name), f"name cannot be managed ({problem})", line, harmless=True)
        return False

    # -- dispatch --

    def section(self, node: Node) -> None:
        t = node.text
        d = self.d
        if t.startswith(("ip prefix-list ", "ipv6 prefix-list ")):
            self.prefix_list(node)
        elif t.startswith("route-map "):
            self.route_map(node)
        elif t.startswith("router bgp "):
            self.bgp.router(node, d, self.notes)
        elif t.startswith("interface "):
            self.interface(node)
        elif t.startswith(self._as_path_prefixes):
            self.as_path(node)
        elif self._large_prefixes and t.startswith(self._large_prefixes):
            self.community_list(node, large=True)
        elif t.startswith(self._community_prefixes):
            self.community_list(node, large=False)
        elif t.startswith("ip extcommunity-list "):
            self.notes.add("extcommunity-list", t.split()[2] if len(t.split()) > 2 else "?",
                           "extended community lists are not modelled", t)
        elif t.startswith("apply access-list "):
            self.notes.add("filter", t.split()[3] if len(t.split()) > 3 else "?",
                           "global (non-interface) ACL application is not modelled", t)
        else:
            self.acl_section(node)

    # -- prefix-lists --

    def prefix_list(self, node: Node) -> None:
        tokens = node.text.split()
        afi: AFI = "ipv4" if tokens[0] == "ip" else "ipv6"
        if len(tokens) < 3:
            self.notes.add("prefix-list", "?", "line ends too early", node.text)
            return
        name = tokens[2]
        if not self._name_ok("prefix-list", name, node.text):
            return
        draft = self.prefix_lists.setdefault(name, _PrefixListDraft(afi))
        if len(tokens) == 3:  # EOS block form: entries are children
            for child in node.children:
                self._prefix_entry(name, draft, child.text.split(), child.text)
            return
        for child in node.children:
            self.notes.add("prefix-list", name, "unexpected indented line", child.text)
        self._prefix_entry(name, draft, tokens[3:], node.text)

    def _prefix_entry(self, name: str, draft: _PrefixListDraft, rest: list[str], line: str) -> None:
        if rest and rest[0] == "description":
            text, problem = free_text(line.split(" description ", 1)[1])
            if problem:
                self.notes.add("prefix-list", name, f"description dropped ({problem})", line)
            draft.description = text
            return
        try:
            seq, i = None, 0
            if rest and rest[0] == "seq":
                seq, i = int(rest[1]), 2
            action, prefix = rest[i], rest[i + 1]
            if action not in ("permit", "deny"):
                raise Unsupported(f"unknown action '{action}'")
            bounds: dict[str, int] = {}
            j = i + 2
            while j < len(rest):
                if rest[j] not in ("ge", "le", "eq") or j + 1 >= len(rest) or not rest[j + 1].isdigit():
                    raise Unsupported(f"unsupported option '{rest[j]}'")
                bounds[rest[j]] = int(rest[j + 1])
                j += 2
            if prefix == "any":  # FRR: any = every prefix of the family
                prefix = "0.0.0.0/0" if draft.afi == "ipv4" else "::/0"
                bounds.setdefault("le", _MAX_LEN[draft.afi])
            net = strict_network(prefix)  # strict: a prefix-list entry with host bits is a typo
            if ("ipv4" if net.version == 4 else "ipv6") != draft.afi:
                raise Unsupported(f"{prefix} does not belong in an {draft.afi} prefix-list")
            ge, le = canonical_bounds(net.prefixlen, draft.afi, bounds.get("ge"), bounds.get("le"), bounds.get("eq"))
            if seq is None:  # devices number unnumbered entries 5, 10, 15 ... after the highest so far
                seq = max(draft.entries, default=0) + 5
            if seq in draft.entries:
                self.notes.add("prefix-list", name, f"seq {seq} appears twice; the later line wins", line, harmless=True)
            draft.entries[seq] = PrefixListEntry(seq=seq, action=action, prefix=net, ge=ge, le=le)
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add("prefix-list", name, f"entry skipped ({_reason(e)})", line)

    # -- community-lists --

    def community_list(self, node: Node, large: bool) -> None:
        cmds = self.d.large_community_list_cmds if large else self.d.community_list_cmds
        cmd = next(c for c in cmds if node.text.startswith(c + " "))
        rest = node.text[len(cmd):].split()
        kind_word = rest[0] if rest and rest[0] in ("standard", "expanded", "regexp") else None
        if kind_word:
            rest = rest[1:]
        if not rest:
            self.notes.add("community-list", "?", "line ends too early", node.text)
            return
        name = rest[0]
        rest = rest[1:]
        if kind_word is None and name.isdigit():  # numbered: 1-99 standard, 100-500 expanded
            kind_word = "expanded" if int(name) >= 100 else "standard"
        expanded = kind_word in ("expanded", "regexp")
        kind = ("large-expanded" if expanded else "large") if large else ("expanded" if expanded else "standard")
        label = "large-community-list" if large else "community-list"
        if not self._name_ok(label, name, node.text):
            return
        for child in node.children:
            self.notes.add(label, name, "unexpected indented line", child.text)
        draft = self.community_lists.setdefault(name, {"kind": kind, "entries": [], "description": None})
        if draft["kind"] != kind:
            self.notes.add(label, name, f"mixes {draft['kind']} and {kind} entries under one name; line skipped",
                           node.text)
            return
        if rest and rest[0] == "description":
            draft["description"], problem = free_text(" ".join(rest[1:]))
            if problem:
                self.notes.add(label, name, f"description dropped ({problem})", node.text)
            return
        try:
            seq, action, values = _seq_and_action(rest)
            if not values:
                raise Unsupported("no communities")
            seq = self._implicit_seq(seq, [e.seq for e in draft["entries"]])
            if expanded:
                entry = CommunityListEntry(seq=seq, action=action, regex=unquote(" ".join(values)))
            else:
                values = [unquote(v) for v in values]
                entry = CommunityListEntry(seq=seq, action=action,
                                           communities=tuple(values if large else (community(v) for v in values)))
            CommunityList(name=name, kind=kind, entries=(entry,))  # validate the values against the kind now
            draft["entries"].append(entry)
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add(label, name, f"entry skipped ({_reason(e)})", node.text)

    def _implicit_seq(self, seq: int | None, existing: list[int | None]) -> int | None:
        if seq is not None or not self.d.implicit_list_seq:
            return seq
        return max((s for s in existing if s is not None), default=0) + 5

    # -- as-path lists --

    def as_path(self, node: Node) -> None:
        cmd = next(c for c in self.d.as_path_cmds if node.text.startswith(c + " "))
        rest = node.text[len(cmd):].split()
        if not rest:
            self.notes.add("as-path-list", "?", "line ends too early", node.text)
            return
        name, rest = rest[0], rest[1:]
        if not self._name_ok("as-path-list", name, node.text):
            return
        entries = self.as_paths.setdefault(name, [])
        try:
            seq, action, words = _seq_and_action(rest)
            if self.d.as_path_origin_suffix and len(words) > 1 and words[-1] in ("any", "igp", "egp", "incomplete"):
                if words[-1] != "any":
                    raise Unsupported(f"origin '{words[-1]}' match is not modelled")
                words = words[:-1]
            if not words:
                raise Unsupported("no regular expression")
            seq = self._implicit_seq(seq, [e.seq for e in entries])
            entries.append(AsPathEntry(seq=seq, action=action, regex=unquote(" ".join(words))))
        except (Unsupported, ValueError, IndexError, ValidationError) as e:
            self.notes.add("as-path-list", name, f"entry skipped ({_reason(e)})", node.text)

    # -- route-maps --

    def route_map(self, node: Node) -> None:
        tokens = node.text.split()
        name = tokens[1] if len(tokens) > 1 else ""
        if not self._name_ok("route-map", name, node.text):
            return
        rest = tokens[2:]
        action = "permit"
        if rest and rest[0] in ("permit", "deny"):
            action, rest = rest[0], rest[1:]
        if self.d.route_map_seq_word and rest and rest[0] == "seq":
            rest = rest[1:]
        if len(rest) > 1 or (rest and not rest[0].isdigit()):
            self.notes.add("route-map", name, "unsupported route-map header", node.text)
            return
        seq = int(rest[0]) if rest else 10  # IOS: `route-map X` alone is `permit 10`
        entries = self.route_maps.setdefault(name, {})
        entry = entries.get(seq)
        if entry is None:
            entry = entries[seq] = {"action": action, "description": None, "match": {}, "set": {}, "continue": None}
        elif entry["action"] != action:
            self.notes.add("route-map", name, f"seq {seq} re-entered with another action; the later wins", node.text,
                           harmless=True)
            entry["action"] = action
        where = f"{name} seq {seq}"
        for child in node.children:
            try:
                self._route_map_clause(entry, child.text)
            except (Unsupported, ValueError, IndexError, ValidationError) as e:
                self.notes.add("route-map", where, _reason(e), child.text, owner=name)

    def _route_map_clause(self, entry: dict, line: str) -> None:
        t = line.split()
        head = t[0]
        if head == "description":
            text, problem = free_text(line.split(None, 1)[1] if len(t) > 1 else "")
            if problem:
                raise Unsupported(f"description dropped ({problem})")
            entry["description"] = text
        elif head == "match":
            field_, value = _match_clause(t)
            _put(entry["match"], field_, value)
        elif head == "set":
            for field_, setting in _set_clause(t):
                _put(entry["set"], field_, setting)
        elif any(line == c or line.startswith(c + " ") for c in self.d.continue_forms):
            form = next(c for c in self.d.continue_forms if line == c or line.startswith(c + " "))
            target = line[len(form):].split()
            if len(target) != 1 or not target[0].isdigit():
                raise Unsupported("continue without a target sequence number is not modelled")
            _put(entry, "continue", int(target[0]))
        else:
            raise Unsupported("clause not modelled")

    # -- ACLs --

    def acl_section(self, node: Node) -> None:
        t = node.text
        for pattern, family, standard in self.d.acl_headers:
            m = pattern.match(t)
            if m:
                self._acl_block(m.group("name"), family, standard, node)
                return
        if t.startswith("access-list "):
            self._numbered_acl_line(node)
        elif t.startswith(("ip access-list ", "ipv6 access-list ")):
            self.notes.add("filter", t.split()[-1], "ACL type not modelled", t)

    def _acl(self, name: str) -> dict:
        return self.acls.setdefault(name, {"rules": [], "counter": False, "remark": None, "line": 0,
                                           "description": None})

    def _acl_block(self, name: str, family: AFI, standard: bool, node: Node) -> None:
        if not self._name_ok("filter", name, node.text):
            return
        acl = self._acl(name)
        acl["remark"] = None  # a remark never carries over between ACL blocks
        for child in node.children:
            self._acl_line(name, acl, family, standard, child.text)
        self._close_remarks(name, acl)

    def _numbered_acl_line(self, node: Node) -> None:
        t = node.text.split()
        if self.d.route_filter_access_lists:
            self.notes.add("access-list", t[1] if len(t) > 1 else "?",
                           "route-filter access-lists (zebra) are not modelled", node.text)
            return
        if not self.d.numbered_acls or len(t) < 3 or not t[1].isdigit():
            self.notes.add("filter", t[1] if len(t) > 1 else "?", "access-list form not modelled", node.text)
            return
        number = int(t[1])
        standard = 1 <= number <= 99 or 1300 <= number <= 1999
        if not (standard or 100 <= number <= 199 or 2000 <= number <= 2699):
            self.notes.add("filter", t[1], "numbered access-list type not modelled", node.text)
            return
        self._acl_line(t[1], self._acl(t[1]), "ipv4", standard, " ".join(t[2:]))

    def _acl_line(self, name: str, acl: dict, family: AFI, standard: bool, line: str) -> None:
        tokens = line.split()
        seq = None
        if tokens and tokens[0].isdigit():
            seq, tokens = int(tokens[0]), tokens[1:]
        if not tokens:
            return
        head = tokens[0]
        if head in self.d.acl_remark_words:
            self._remark(name, acl, line.split(None, 2 if seq is not None else 1)[-1] if len(tokens) > 1 else "")
            return
        if line in self.d.acl_counter_lines:
            acl["counter"] = True
            return
        acl["line"] += 1
        label = f"seq{seq}" if seq is not None else f"line{acl['line']}"
        remark = acl["remark"]
        fields = (parse_ace(tuple(tokens), family, standard, self.d.wildcard_masks, self.d.acl_entry_counter_words)
                  if head in ("permit", "deny") else "ACL line not modelled")
        if isinstance(fields, str):
            self.notes.add("filter", name, f"{label} skipped ({fields})", line)
        else:
            sources, destinations, specs, action, log, counter, extra = fields
            acl["rules"].append({
                "name": remark["name"] if remark and remark["name"] else label, "family": family,
                "sources": sources, "destinations": destinations, "specs": specs, "action": action, "log": log,
                "counter": counter, "description": " ".join(remark["lines"]) if remark and remark["lines"] else None,
                **dict(extra)})
        if remark:
            remark["used"] = True

    def _remark(self, name: str, acl: dict, text: str) -> None:
        """Remarks name and describe the entries that follow them.

        A one-word Identifier remark starts a term and names its rules (Aerleon/Capirca write one per
        term); other remarks describe the current term. Remarks before the first entry that no term
        uses describe the whole filter.
        """
        text = unquote(text.strip())
        remark = acl["remark"]
        if " " not in text and name_problem(text) is None:
            if remark is not None and not remark["used"]:
                self._orphan_remark(name, acl, remark)
            acl["remark"] = {"name": text, "lines": [], "used": False}
            return
        valid, problem = free_text(text)
        if problem:
            self.notes.add("filter", name, f"remark not kept ({problem})", text)
            return
        if remark is None or remark["used"]:
            remark = acl["remark"] = {"name": None, "lines": [], "used": False}
        remark["lines"].append(valid)

    def _close_remarks(self, name: str, acl: dict) -> None:
        if acl["remark"] is not None and not acl["remark"]["used"]:
            self._orphan_remark(name, acl, acl["remark"])
        acl["remark"] = None

    def _orphan_remark(self, name: str, acl: dict, remark: dict) -> None:
        if not remark["lines"]:
            return
        if not acl["rules"] and acl["description"] is None and remark["name"] is None:
            acl["description"] = " ".join(remark["lines"])
        else:
            self.notes.add("filter", name, "remark not attached to any entry", " ".join(remark["lines"]))

    # -- interfaces --

    def interface(self, node: Node) -> None:
        tokens = node.text.split()
        if len(tokens) < 2:
            return
        ifname = tokens[1]
        if self.d.interface_name_joins_number and len(tokens) > 2 and tokens[2][:1].isdigit():
            ifname += tokens[2]
        for child in node.children:
            for pattern in self.d.attach_patterns:
                m = pattern.match(child.text)
                if m:
                    self.attachments.append((m.group("name"), ifname, m.group("dir"), child.text))
                    break
            else:
                if "access-group" in child.text or "access-list" in child.text or "traffic-filter" in child.text:
                    self.notes.add("interface", ifname, "ACL application not modelled", child.text)

    def referenced_lists(self) -> frozenset[str]:
        """Names of the lists any route-map entry matches on or deletes with."""
        out: set[str] = set()
        for entries in self.route_maps.values():
            for e in entries.values():
                out.update(v for v in e["match"].values() if isinstance(v, str))
                cd = e["set"].get("community_delete")
                if isinstance(cd, str):
                    out.add(cd)
        return frozenset(out)

    # -- output --

    def finish(self) -> DevicePolicy:
        p = self.policy
        for name, draft in self.prefix_lists.items():
            self._emit(lambda: PrefixList(name=name, afi=draft.afi, description=draft.description,
                                          entries=tuple(draft.entries[s] for s in sorted(draft.entries))),
                       "prefix-list", name, p.prefix_lists)
        for name, cdraft in self.community_lists.items():
            self._emit(lambda: CommunityList(name=name, kind=cdraft["kind"], description=cdraft["description"],
                                             entries=_ordered(cdraft["entries"])),
                       "community-list", name, p.community_lists)
        for name, entries in self.as_paths.items():
            self._emit(lambda: AsPathList(name=name, entries=_ordered(entries)), "as-path-list", name, p.as_path_lists)
        for name, rm_entries in self.route_maps.items():
            self._emit(lambda: RouteMap(name=name, entries=tuple(_route_map_entry(s, rm_entries[s])
                                                                 for s in sorted(rm_entries))),
                       "route-map", name, p.route_maps)
        self._finish_filters()
        for binding in self.bgp.bindings(self.d, self.notes):
            p.bindings[binding.key] = binding
        p.peer_groups = self.bgp.peer_groups()
        p.uses = self.bgp.uses
        p.skipped = self.notes.items
        return p

    def _emit(self, make: Callable[[], object], kind: str, name: str, table: dict) -> None:
        try:
            table[name] = make()
        except (ValueError, ValidationError) as e:
            self.notes.add(kind, name, f"object skipped ({_reason(e)})")

    def _finish_filters(self) -> None:
        by_acl: dict[str, list[Attachment]] = {}
        for acl, ifname, direction, line in self.attachments:
            if acl not in self.acls:
                self.notes.add("interface", ifname, f"applies ACL '{acl}' that is not defined or not modelled", line)
                if name_problem(acl) is None:  # the ACL's binding is part of that filter if a change makes it
                    self.notes.items[-1] = Skipped(self.notes.items[-1], "filter", acl, line)
                continue
            try:
                att = Attachment(interface=ifname, direction=direction)
            except ValidationError as e:
                self.notes.add("interface", repr(ifname), f"attachment skipped ({_reason(e)})", line)
                continue
            if att not in by_acl.setdefault(acl, []):
                by_acl[acl].append(att)
        for name, draft in self.acls.items():
            self._close_remarks(name, draft)
            if draft["counter"]:  # `counters per-entry` / `statistics per-entry`: every entry counts
                for r in draft["rules"]:
                    r["counter"] = True
            rules = tuple(_trusted_rule(r) for r in draft["rules"])
            attachments = tuple(sorted(by_acl.get(name, ()), key=lambda a: (a.interface, a.direction)))
            self.policy.filters[name] = ConcreteFilter(name=name, description=draft["description"], rules=rules,
                                                       attachments=attachments)


_RULE_FIELDS = frozenset(Rule.model_fields)
# Matches an ACE may leave out (the values it gives are what _ace_fields built, ordered as Rule keeps them)
_RULE_DEFAULTS_ALL = {k: (None if f.is_required() else f.default) for k, f in Rule.model_fields.items()}  # field order


def _trusted_rule(values: dict) -> Rule:
    """A Rule from values this module built and checked itself (networks from ipaddress, ServiceSpecs
    validated once per distinct spec, literals from fixed tables).

    Rules are the bulk of ACL-heavy configs: validating each costs ~13 us, `model_construct` ~15 us;
    this is what `model_construct` does, minus its per-field bookkeeping. Every field is set, so the
    object equals a validated Rule (tests/parsers check that on the corpus).
    """
    rule = Rule.__new__(Rule)
    _set = object.__setattr__
    _set(rule, "__dict__", {k: values.get(k, v) for k, v in _RULE_DEFAULTS_ALL.items()})
    _set(rule, "__pydantic_fields_set__", set(_RULE_FIELDS))
    _set(rule, "__pydantic_extra__", None)
    _set(rule, "__pydantic_private__", None)
    return rule


def _seq_and_action(rest: list[str]) -> tuple[int | None, str, list[str]]:
    """`[seq N] permit|deny VALUES...` of a community or AS-path list line -> (seq, action, values)."""
    seq, i = None, 0
    if rest[0] == "seq":
        seq, i = int(rest[1]), 2
    action = rest[i]
    if action not in ("permit", "deny"):
        raise Unsupported(f"unknown action '{action}'")
    return seq, action, rest[i + 1:]


def _put(target: dict, key: str, value) -> None:
    """Set a clause once; a second, different value for the same field cannot be represented."""
    if key in target and target[key] is not None and target[key] != value:
        raise Unsupported(f"second value for '{key}' (model holds one)")
    target[key] = value


def _ordered(entries: list) -> tuple:
    """Entries by seq when every entry has one (the device's evaluation order), else as written."""
    if entries and all(e.seq is not None for e in entries):
        return tuple(sorted(entries, key=lambda e: e.seq))
    return tuple(entries)


def _route_map_entry(seq: int, e: dict) -> RouteMapEntry:
    return RouteMapEntry(seq=seq, action=e["action"], description=e["description"], match=Match(**e["match"]),
                         set=SetClause(**e["set"]), **{"continue": e["continue"]})
