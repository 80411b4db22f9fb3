"""The rendered-lines checker: every command netchange prints for a device belongs to an object the change
names (or a binding or reference it needs).

It reads the commands back with its own small grammar per platform family, independent of the project's
parsers and templates: each line is attributed to an object (kind, name), a neighbor binding, or a piece
of structure whose value is checked (`router bgp <the host's ASN>`, `interface <an attachment point>`,
`address-family`, `exit`, comments). A line the grammar cannot attribute, or one attributed to something
the change does not name, is a problem. So `no router bgp 65001` printed from a next-hop value, a
`route-map RM1` whose name lost its trailing newline, an untouched nftables chain rewritten by a plan, or
a neighbor unbound because a route-map it uses was deleted are all reported, whatever the template says.

What a change "needs" beyond its own objects comes from the running config: a refresh of every session
whose route-map uses a changed list, and (strategy versioned) new versions of those route-maps and the
switch of their bindings. Versioned names (`X.ncN`, IOS filters `X-vN`) and the communities the Junos
driver generates for a route-map term (`RM-<seq>-add|set|large-add`) count as their base object.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
ADDR = r"[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?"
PFX = ADDR + r"/\d{1,3}"
LISTS = ("prefix_list", "community_list", "as_path_list")


def base_name(name: str) -> str:
    """`X.nc3` (versioned route-maps and lists), `X-v2` (versioned IOS ACLs) and `X.nc-edit` (the copy a
    route-map is edited behind, plan/shadow.py) are versions of `X`."""
    return re.sub(r"(\.nc\d+|-v\d+|\.nc-edit\d*)$", "", name)


def norm_addr(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass
class NftChain:
    hook: str | None
    policy: str | None
    plain_jumps_only: bool  # every rule is `[iifname|oifname X] jump Y` (what netchange writes in a base chain)


@dataclass
class Scope:
    """What the change may touch on one host."""

    objects: set[tuple[str, str]] = field(default_factory=set)  # (kind, base name)
    bindings: set[tuple[str, str, str]] = field(default_factory=set)  # (neighbor, afi, direction)
    bind_route_maps: set[str] = field(default_factory=set)  # route-maps a present binding may point at
    # running bindings of a route-map the change edits: an edit made behind a copy re-points them to a version
    # of that same route-map and back (plan/shadow.py); (neighbor, afi, direction) -> base route-map name
    repoint: dict[tuple[str, str, str], str] = field(default_factory=dict)
    refresh: set[tuple[str, str, str]] = field(default_factory=set)
    interfaces: set[str] = field(default_factory=set)
    asn: int | None = None
    # the ASN the running config's `router bgp` says (a re-pointed binding line is rewritten where it stands)
    device_asns: set[int] = field(default_factory=set)
    nft_chains: dict[str, NftChain] | None = None  # running `inet netchange` chains (plans only)
    running: Any = None  # the running DevicePolicy (plans only): who uses what
    running_lines: set[str] = field(default_factory=set)  # the running config's lines, single-spaced (plans only)

    def has(self, kind: str, name: str) -> bool:
        return (kind, base_name(name)) in self.objects

    def has_binding(self, neighbor: str, afi: str | None, direction: str, route_map: str | None = None) -> bool:
        n = norm_addr(neighbor)
        if any(b[0] == n and b[2] == direction and (afi is None or b[1] == afi) for b in self.bindings):
            return True
        return route_map is not None and any(
            k[0] == n and k[2] == direction and (afi is None or k[1] == afi) and rm == base_name(route_map)
            for k, rm in self.repoint.items())


def _asn(text: str) -> int:
    """An ASN as asplain (`65537`) or asdot (`1.1`, RFC 5396)."""
    high, _, low = text.rpartition(".")
    return int(high) * 65536 + int(low) if high else int(low)


def scope_for(change, host, running=None, running_text: str = "", strategy: str | None = None) -> Scope:
    """The change's objects and bindings on `host`, widened by what the running config makes them need."""
    s = Scope()
    for kind, obj in change.objects():
        s.objects.add((kind, base_name(str(obj.name))))
    for b in change.routing.bindings:
        s.bindings.add((norm_addr(str(b.neighbor)), b.afi if b.by_name else b.address_afi, b.direction))
        if b.route_map:
            s.bind_route_maps.add(base_name(str(b.route_map)))
    s.refresh = set(s.bindings)
    if running is not None:
        touched_lists = {(k, n) for k, n in s.objects if k in LISTS}
        affected = {n for k, n in s.objects if k == "route_map"}
        affected |= {base_name(rm.name) for rm in running.route_maps.values()
                     if {(k, base_name(n)) for k, n in rm.references()} & touched_lists}
        # a peer-group's (or Junos group's) binding is its own, keyed by the group's name, and reaches each member
        # without one of its own: a member is refreshed when its group's route-map changes
        for key, b in {**running.bindings, **running.effective_bindings()}.items():
            k = (norm_addr(key[0]), key[1], key[2])
            if b.route_map and base_name(b.route_map) in affected:
                s.refresh.add(k)
            if b.route_map and k in s.bindings:  # a rollback binds the neighbor back to what it had
                s.bind_route_maps.add(base_name(b.route_map))
            if b.route_map and ("route_map", base_name(b.route_map)) in s.objects:
                s.repoint[k] = base_name(b.route_map)
                s.bind_route_maps.add(base_name(b.route_map))
        if (strategy or change.strategy) == "versioned":  # make-before-break re-creates users of changed lists
            s.objects |= {("route_map", n) for n in affected}
            s.bind_route_maps |= affected
            s.bindings |= {(norm_addr(k[0]), k[1], k[2]) for k, b in {**running.bindings, **running.effective_bindings()}.items()
                           if b.route_map and base_name(b.route_map) in affected}
    bgp = host.data.bgp
    s.asn = bgp.asn if bgp else None
    for att in host.data.firewall.attachments.values():
        if att.interface:
            s.interfaces.add(att.interface)
            s.interfaces.add(att.interface.partition(".")[0])
    if running is not None:
        for f in running.filters.values():
            if s.has("filter", f.name):
                s.interfaces |= {a.interface for a in f.attachments if a.interface}
    s.device_asns = {_asn(a) for a in re.findall(r"(?m)^router bgp (\d+(?:\.\d+)?)(?: vrf \S+)?\s*$", running_text)}
    # word by word, as parsers read them and plans re-issue them (a tab between words prints as a space)
    s.running_lines = {" ".join(ln.split()) for ln in running_text.splitlines()}
    if host.platform.value == "nftables" and running_text:
        s.nft_chains = nft_running_chains(running_text)
    s.running = running
    return s


# ------------------------------------------------------------------ IOS-style CLIs (FRR, IOS, EOS, AOS-CX, NX-OS)
OTHER_AF = "other"  # an address family netchange does not model as a unicast binding's (multicast, vpn, a VRF's)


def _repointed_device_line(scope: Scope, line: str) -> bool:
    """A line of the running config re-issued where it stands with one route-map name swapped for a version or
    edit copy of it (or back): whatever the line says, the device has it (a plan re-points every use)."""
    tokens = line.split()
    for i, tok in enumerate(tokens):
        if _may_use(scope, tok) and " ".join([*tokens[:i], base_name(tok), *tokens[i + 1:]]) in scope.running_lines:
            return True
    return False


def _may_use(scope: Scope, route_map: str) -> bool:
    """A line that uses a route-map without being a modelled binding (redistribution, a peer-group's binding,
    a binding in a family netchange does not model) is re-pointed where it stands: only to (a version or the
    edit copy of) a route-map the change edits or re-creates."""
    return base_name(route_map) in scope.bind_route_maps or scope.has("route_map", route_map)



def _p(*alternatives: str) -> re.Pattern:
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


_PL_ENTRY = rf"seq \d+(?: (?:permit|deny) {PFX}(?: ge \d+)?(?: le \d+)?)?"
TOP = [
    # (pattern, what): what = kind for an object line, "open:<kind>" for a line that opens an object block
    (_p(rf"(?:no )?ip(?:v6)? prefix-list (?P<name>\S+) (?:{_PL_ENTRY}|description \S.*)"), "prefix_list"),
    (_p(r"no ip(?:v6)? prefix-list (?P<name>\S+)"), "prefix_list"),
    (_p(r"ip(?:v6)? prefix-list (?P<name>\S+)"), "open:prefix_list"),  # EOS: entries follow indented
    (_p(r"(?:no )?bgp (?:large-)?community-list (?:standard|expanded) (?P<name>\S+)(?: seq \d+ (?:permit|deny) \S.*)?"), "community_list"),
    (_p(r"(?:no )?ip (?:large-)?community-list (?:standard|expanded) (?P<name>\S+)(?: (?:seq \d+ )?(?:permit|deny) \S.*)?"),
     "community_list"),  # IOS, NX-OS (NX-OS: numbered, also large)
    (_p(r"(?:no )?ip (?:large-)?community-list (?:regexp )?(?P<name>\S+)(?: (?:permit|deny) \S.*)?"), "community_list"),
    (_p(r"(?:no )?bgp as-path access-list (?P<name>\S+)(?: seq \d+ (?:permit|deny) \S.*)?"), "as_path_list"),
    (_p(r"(?:no )?ip as-path access-list (?P<name>\S+)(?: (?:seq \d+ )?(?:permit|deny) \S.*)?"), "as_path_list"),
    (_p(r"(?:no )?ip aspath-list (?P<name>\S+)(?: seq \d+ (?:permit|deny) \S.*)?"), "as_path_list"),
    (_p(r"no route-map (?P<name>\S+)(?: (?:permit|deny)(?: seq)? \d+)?"), "route_map"),
    (_p(r"route-map (?P<name>\S+) (?:permit|deny)(?: seq)? \d+"), "open:route_map"),
    (_p(r"no (?:ip access-list extended|ipv6 access-list|ip access-list|ipv6 access-list|access-list ipv6|access-list ip) (?P<name>\S+)"), "filter"),
    (_p(r"(?:ip access-list extended|ipv6 access-list|ip access-list|access-list ipv6|access-list ip) (?P<name>\S+)"), "open:filter"),
]
CHILD = {
    "route_map": _p(r"(?:no )?(?:match|set|description|on-match|continue|call)(?: \S.*)?"),
    "prefix_list": _p(rf"(?:no )?{_PL_ENTRY}"),
    "filter": _p(r"(?:\d+ )?(?:remark|comment) \S.*", r"(?:\d+ )?(?:permit|deny) \S.*", r"no \d+", r"counters per-entry",
              r"(?:no )?statistics per-entry"),
}
_IFACE_FILTER = _p(r"(?:no )?(?:ip access-group|ipv6 traffic-filter|ipv6 access-group|apply access-list ip|apply access-list ipv6) "
                   r"(?P<name>\S+) (?:in|out)")
_AF = _p(r"address-family (?P<afi>ipv4|ipv6)(?: unicast)?")
_NEIGHBOR = _p(rf"(?P<no>no )?neighbor (?P<nbr>{ADDR}) route-map(?: (?P<rm>\S+))? (?P<dir>in|out)")
# NX-OS: per-neighbor blocks, `neighbor X` / `address-family ipv4 unicast` / `route-map NAME in`
_NXOS_NEIGHBOR = _p(rf"neighbor (?P<nbr>{ADDR})")
_NXOS_BIND = _p(r"(?P<no>no )?route-map (?P<rm>\S+) (?P<dir>in|out)")
# Lines in `router bgp` that use a route-map without being a neighbor's binding (redistribution, network
# statements, table-map, aggregate maps, conditional advertisement): a versioned change re-points them to the
# new version where they stand, so each is legitimate only naming a route-map the change (re-)creates.
_MAP_USE = _p(r"(?:redistribute|network|table-map|aggregate-address)(?: \S+)*? "
              r"(?:route-map|table-map|attribute-map|suppress-map|unsuppress-map|advertise-map|exist-map|non-exist-map) "
              r"(?P<rm>\S+)(?: (?:exist-map|non-exist-map) \S+)?",
              r"neighbor \S+ route-map (?P<rm2>\S+) (?:in|out)")
_COMMENT = re.compile(r"\s*!(?: .*)?\Z")


def check_ios_style(lines: list[str], scope: Scope, nxos: bool = False) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    block: tuple[str, str | None] | None = None  # (kind, name or None when the opener was refused)
    afi: str | None = None
    neighbor: str | None = None  # NX-OS: the open `neighbor X` block under router bgp
    vrf_indent: int | None = None  # an open `vrf X` sub-block of router bgp (EOS, AOS-CX, NX-OS): its depth
    for line in lines:
        if _CONTROL.search(line):
            problems.append(("control character in a line", line))
            continue
        if _COMMENT.match(line):
            continue
        if not line[:1].isspace():  # a top-level line
            afi = neighbor = vrf_indent = None
            if line == "exit":
                if block is None:
                    problems.append(("top-level exit outside a block (leaves config mode)", line))
                block = None
                continue
            if line.startswith("router bgp ") and line in scope.running_lines:  # the device's own, as it prints it
                block = ("bgp", "vrf" if " vrf " in line else "")
                continue
            if m := re.fullmatch(r"router bgp (\d+(?:\.\d+)?)(?P<vrf> vrf [A-Za-z0-9_.-]+)?", line):
                if _asn(m.group(1)) not in {scope.asn, *scope.device_asns}:
                    problems.append(("router bgp with an ASN that is not the host's", line))
                    block = ("bgp", None)
                else:
                    block = ("bgp", "vrf" if m.group("vrf") else "")
                continue
            if m := re.fullmatch(r"interface (\S+)", line):
                ok = m.group(1) in scope.interfaces
                if not ok:
                    problems.append(("interface that is not an attachment point of the change's filters", line))
                block = ("interface", "" if ok else None)
                continue
            for pattern, what in TOP:
                if m := pattern.match(line):
                    kind = what.removeprefix("open:")
                    name = m.group("name")
                    ok = scope.has(kind, name)
                    if not ok:
                        problems.append((f"{kind} the change does not name", line))
                    block = (kind, name if ok else None) if what.startswith("open:") else None
                    break
            else:
                problems.append(("top-level line of no object", line))
                block = None
            continue
        child = line.strip()
        if child == "exit":
            block = None
            continue
        if block is None:
            problems.append(("indented line outside any block", line))
            continue
        kind, name = block
        if kind == "bgp":
            indent = len(line) - len(line.lstrip())
            if vrf_indent is not None and indent <= vrf_indent:
                vrf_indent = None  # back out of the VRF's sub-block
            if child == "exit-address-family":
                afi = None
            elif child.startswith("vrf ") and child in scope.running_lines:
                vrf_indent, afi = indent, OTHER_AF  # a VRF the device has: its bindings are not modelled, only uses
            elif name is not None and _repointed_device_line(scope, child):
                pass
            elif m := _AF.match(child):
                afi = m.group("afi") if name != "vrf" and vrf_indent is None else OTHER_AF
            elif child.startswith("address-family ") and child in scope.running_lines:
                afi = OTHER_AF  # re-entering a family the device has (multicast, vpn, a VRF's): its lines are uses
            elif (m := _MAP_USE.match(child)) and (afi == OTHER_AF or name == "vrf" or vrf_indent is not None
                                                   or not _NEIGHBOR.match(child)):
                if name is None:
                    problems.append(("route-map use under a foreign router bgp", line))
                elif not _may_use(scope, m.group("rm") or m.group("rm2")):
                    problems.append(("route-map use re-pointed to a route-map the change does not re-create", line))
            elif nxos and (m := _NXOS_NEIGHBOR.match(child)):
                neighbor, afi = m.group("nbr"), None
            elif nxos and (m := _NXOS_BIND.match(child)):
                if name is None:
                    problems.append(("neighbor line under a foreign router bgp", line))
                elif neighbor is None or afi is None:
                    problems.append(("route-map binding outside a neighbor's address family", line))
                elif not scope.has_binding(neighbor, afi, m.group("dir"), m.group("rm")):
                    problems.append(("binding the change does not name", line))
                elif not m.group("no") and base_name(m.group("rm")) not in scope.bind_route_maps:
                    problems.append(("binding to a route-map the change does not bind", line))
            elif not nxos and (m := _NEIGHBOR.match(child)):
                if name is None:
                    problems.append(("neighbor line under a foreign router bgp", line))
                elif not scope.has_binding(m.group("nbr"), afi, m.group("dir"), m.group("rm")):
                    problems.append(("binding the change does not name", line))
                elif not m.group("no") and m.group("rm") and base_name(m.group("rm")) not in scope.bind_route_maps:
                    problems.append(("binding to a route-map the change does not bind", line))
            else:
                problems.append(("line in router bgp that is not a route-map binding", line))
            continue
        if kind == "interface":
            m = _IFACE_FILTER.match(child)
            if not m:
                problems.append(("interface line that is not a filter attachment", line))
            elif name is not None and not scope.has("filter", m.group("name")):
                problems.append(("attachment of a filter the change does not name", line))
            continue
        pattern = CHILD.get(kind)
        if pattern is None or not pattern.match(child):
            problems.append((f"line inside a {kind} that is not one of its clauses", line))
        elif name is None:
            problems.append((f"clause of a {kind} the change does not name", line))
    return problems


# ------------------------------------------------------------------ Junos set commands

_Q = r'"(?:[^"\\\n]|\\.)*"'
_TOK = rf'(?:{_Q}|[^\s";{{}}#]+)'
_REST = rf"(?: {_TOK})*"
_JUNOS = [
    (_p(rf"(?:set|delete) policy-options prefix-list (?P<name>\S+)(?: {PFX})?"), "prefix_list"),
    (_p(rf"(?:set|delete) policy-options route-filter-list (?P<name>\S+)(?: {PFX}(?: exact| longer| orlonger| upto /\d+"
        r"| prefix-length-range /\d+-/\d+)?)?"), "prefix_list"),
    (_p(rf"(?:set|delete) policy-options community (?P<name>\S+)(?: members {_TOK})?"), "community"),
    (_p(rf"(?:set|delete) policy-options as-path-group (?P<name>\S+)(?: as-path \S+(?: {_Q})?)?"), "as_path_list"),
    (_p(rf"(?:set|delete) policy-options policy-statement (?P<name>\S+)(?: term \S+(?: (?:from|then|to) {_TOK}{_REST})?)?"), "route_map"),
    (_p(r"insert policy-options policy-statement (?P<name>\S+) term \S+ before term \S+"), "route_map"),
    (_p(rf"(?:set|delete) firewall family (?:inet|inet6) filter (?P<name>\S+)(?: term \S+(?: (?:from|then) {_TOK}{_REST})?)?"), "filter"),
]
_JUNOS_IFACE = _p(r"(?:set|delete) interfaces (?P<ifname>\S+) unit (?P<unit>\d+) family (?:inet|inet6) filter (?:input|output)(?: (?P<name>\S+))?")
_JUNOS_LIST_REF = _p(r"(?:set|delete) policy-options policy-statement \S+ term \S+ from "
                     r"(?:prefix-list|route-filter-list) (?P<list>\S+)")
_JUNOS_BGP = _p(rf"(?:set|delete) protocols bgp group \S+ neighbor (?P<nbr>{ADDR}) (?P<dir>import|export)(?: (?P<rm>\S+))?")
# A policy chain (`export [ RM-IN RM-USER ]`) keeps its order: a new version takes the old one's place.
_JUNOS_BGP_INSERT = _p(rf"insert protocols bgp group \S+ neighbor (?P<nbr>{ADDR}) (?P<dir>import|export) (?P<rm>\S+) "
                       r"(?:before|after) (?P<other>\S+)")
# A group's (or a routing instance's) import/export naming a route-map the change re-creates: re-pointed where
# it stands, as every use is (the model binds neighbors of the master instance only).
_JUNOS_USE = _p(r"(?:set|delete) (?:routing-instances \S+ )?protocols bgp group \S+(?: neighbor \S+)? "
                r"(?:import|export) (?P<rm>\S+)",
                r"insert (?:routing-instances \S+ )?protocols bgp group \S+(?: neighbor \S+)? "
                r"(?:import|export) (?P<rm2>\S+) (?:before|after) \S+")
_JUNOS_FW_LIST = _p(r"(?:set|delete) firewall (?:family (?:inet|inet6) )?filter \S+ (?:term \S+ )+from "
                    r"(?:source-|destination-)?prefix-list (?P<list>\S+)(?: except)?")
_GENERATED_COMMUNITY = re.compile(r"(?P<rm>.+)-\d+-(?:add|set|large-add)\Z")


def check_junos(lines: list[str], scope: Scope) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for line in lines:
        if _CONTROL.search(line):
            problems.append(("control character in a line", line))
            continue
        if re.match(r"#(?: .*)?\Z", line):
            continue
        if m := _JUNOS_BGP.match(line) or _JUNOS_BGP_INSERT.match(line):
            direction = "in" if m.group("dir") == "import" else "out"
            if not _is_address(m.group("nbr")) and m.group("rm") and _may_use(scope, m.group("rm")):
                continue  # not an address the model binds (the device's line, whatever it says): a use re-pointed
            if not scope.has_binding(m.group("nbr"), None, direction, m.group("rm")):
                problems.append(("binding the change does not name", line))
            elif not line.startswith("delete") and m.group("rm") and base_name(m.group("rm")) not in scope.bind_route_maps:
                problems.append(("binding to a route-map the change does not bind", line))
            continue
        if (m := _JUNOS_USE.match(line)) and _may_use(scope, m.group("rm") or m.group("rm2")):
            continue
        if (m := _JUNOS_FW_LIST.match(line)) and scope.has("prefix_list", m.group("list")):
            continue  # a firewall term naming a list the change re-creates follows it to the new version
        if m := _JUNOS_IFACE.match(line):
            iface = m.group("ifname")
            if iface not in scope.interfaces and f"{iface}.{m.group('unit')}" not in scope.interfaces:
                problems.append(("interface that is not an attachment point of the change's filters", line))
            elif m.group("name") and not scope.has("filter", m.group("name")):
                problems.append(("attachment of a filter the change does not name", line))
            continue
        if (m := _JUNOS_LIST_REF.match(line)) and scope.has("prefix_list", m.group("list")):
            continue  # a list that changes form (prefix-list <-> route-filter-list) takes its users' matches along
        for pattern, kind in _JUNOS:
            if m := pattern.match(line):
                name = m.group("name")
                if kind == "community":
                    g = _GENERATED_COMMUNITY.match(name)
                    ok = scope.has("community_list", name) or bool(g and scope.has("route_map", g.group("rm")))
                else:
                    ok = scope.has(kind, name)
                if not ok:
                    problems.append((f"{kind.replace('community', 'community_list')} the change does not name", line))
                break
        else:
            problems.append(("line of no object", line))
    return problems


# ------------------------------------------------------------------ nftables

def nft_running_chains(text: str) -> dict[str, NftChain]:
    """Chains of `table inet netchange` in `nft -j list ruleset` output (best effort: bad JSON -> none)."""
    try:
        items = json.loads(text).get("nftables", [])
    except (ValueError, AttributeError, RecursionError):
        return {}
    chains: dict[str, NftChain] = {}
    rules: dict[str, list[Any]] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict) or body.get("family") != "inet" or body.get("table") != "netchange":
            continue
        if kind == "chain" and isinstance(body.get("name"), str):
            chains[body["name"]] = NftChain(body.get("hook"), body.get("policy"), True)
        elif kind == "rule" and isinstance(body.get("chain"), str):
            rules.setdefault(body["chain"], []).append(body.get("expr"))
    for name, ch in chains.items():
        ch.plain_jumps_only = all(_plain_jump(e) for e in rules.get(name, []))
    return chains


def _plain_jump(expr: Any) -> bool:
    if not isinstance(expr, list) or not expr or not isinstance(expr[-1], dict) or "jump" not in expr[-1]:
        return False
    for e in expr[:-1]:
        m = e.get("match") if isinstance(e, dict) else None
        if not (isinstance(m, dict) and m.get("op", "==") == "==" and isinstance(m.get("left"), dict)
                and m["left"].get("meta", {}).get("key") in ("iifname", "oifname") and isinstance(m.get("right"), str)):
            return False
    return True


def _outside_quotes(line: str) -> str:
    return re.sub(r'"[^"]*"', '""', line)


_HOOK = re.compile(r"hook-(input|forward|output)\Z")
_HEADER = _p(r"type filter hook (?P<hook>input|forward|output) priority (?:filter|-?\d+); policy (?P<policy>accept|drop);")
_JUMP = _p(r'(?:(?:iif|oif)name "[A-Za-z0-9/._:-]+" )?jump (?P<target>\S+)')
_VERDICT_END = re.compile(r'(?:^|\s)(?:accept|drop|reject)(?: comment "[^"]*")?\Z')
# a rate-limited log rule printed before its term's verdict rule (`log_rate`: nft limits per rule)
_LOG_END = re.compile(r'(?:^|\s)limit rate \d+/(?:second|minute|hour|day) log prefix "[^"]*"(?: comment "[^"]*")?\Z')


def check_nft(lines: list[str], scope: Scope) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, str]] = []  # ("table", "inet netchange") / ("chain", name)
    replaced_all = False  # a `delete|flush table inet netchange` was printed
    flushed: set[str] = set()
    reported: set[str] = set()
    running = scope.nft_chains

    def chain_ok(name: str, line: str) -> bool:
        if _HOOK.match(name) or scope.has("filter", name):
            return True
        if name not in reported:
            reported.add(name)
            problems.append(("nftables chain the change does not name", line if not running or name not in running
                             else f"{line}  (untouched chain {name} of the running table rewritten)"))
        return False

    def rule_ok(chain: str, body: str, line: str) -> None:
        outside = _outside_quotes(body)
        if _HOOK.match(chain):
            m = _JUMP.match(body)
            if not m:
                problems.append(("base chain rule other than a jump", line))
            elif not (scope.has("filter", m.group("target")) or (running and m.group("target") in running)):
                problems.append(("jump to a chain neither named nor running", line))
        elif re.search(r"\b(?:jump|goto)\b", outside) or not (_VERDICT_END.search(body) or _LOG_END.search(body)):
            problems.append(("filter rule that is not a match-and-verdict line", line))

    for line in lines:
        if _CONTROL.search(line.replace("\t", " ")):
            problems.append(("control character in a line", line))
            continue
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        one_line = re.fullmatch(r"(?:(?:add|create) )?chain (\w+) (\S+) (\S+) \{ (?P<spec>[^{}\"]*?) ?\}", s) if not stack else None
        if one_line:  # `add chain inet netchange hook-forward { type filter hook forward priority filter; }`
            if (one_line.group(1), one_line.group(2)) != ("inet", "netchange"):
                problems.append(("table other than inet netchange", line))
            name = one_line.group(3)
            spec = re.fullmatch(r"type filter hook (?P<hook>input|forward|output) priority (?:filter|-?\d+);(?: policy (?P<policy>accept|drop);)?",
                                one_line.group("spec"))
            hook = _HOOK.match(name)
            if chain_ok(name, line):
                if not spec or not hook or hook.group(1) != spec.group("hook"):
                    problems.append(("hook declaration in a chain that is not its base chain", line))
                elif spec.group("policy") and running and name in running and running[name].policy \
                        and spec.group("policy") != running[name].policy:
                    problems.append(("base chain policy changed", f"{line}  (running: policy {running[name].policy})"))
            continue
        if ";" in _outside_quotes(s) and not _HEADER.match(s):
            problems.append(("statement separator outside a quoted string", line))
            continue
        if s == "}":
            if not stack:
                problems.append(("closing brace without an open block", line))
            else:
                stack.pop()
            continue
        top = stack[-1] if stack else None
        if top is None:
            if m := re.fullmatch(r"(?:add |create )?table (\w+) (\S+)( \{)?", s):
                if (m.group(1), m.group(2)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                if m.group(3):
                    stack.append(("table", f"{m.group(1)} {m.group(2)}"))
            elif m := re.fullmatch(r"(?:delete|flush) table (\w+) (\S+)", s):
                if (m.group(1), m.group(2)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                else:
                    replaced_all = True
                    for name, ch in sorted((running or {}).items()):
                        if _HOOK.match(name):
                            if not ch.plain_jumps_only or ch.policy not in (None, "accept"):
                                reported.add(name)
                                problems.append(("whole table replaced: base chain with unmodelled rules or policy rewritten or removed",
                                                 f"{line}  (chain {name}: policy {ch.policy}, "
                                                 f"{'only jumps' if ch.plain_jumps_only else 'rules other than jumps'})"))
                        elif not scope.has("filter", name):
                            reported.add(name)
                            problems.append(("whole table replaced: untouched chain rewritten or removed", f"{line}  (chain {name})"))
            elif m := re.fullmatch(r"(?:(add|create) )?chain (\w+) (\S+) (\S+)( \{)?", s):
                if (m.group(2), m.group(3)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                ok = chain_ok(m.group(4), line)
                if m.group(5):
                    stack.append(("chain", m.group(4) if ok else ""))
            elif m := re.fullmatch(r"(delete|flush) chain (\w+) (\S+) (\S+)", s):
                if (m.group(2), m.group(3)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                if chain_ok(m.group(4), line):
                    flushed.add(m.group(4))
            elif m := re.fullmatch(r"(?:add|insert|replace|create) rule (\w+) (\S+) (\S+) (.+)", s):
                if (m.group(1), m.group(2)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                elif chain_ok(m.group(3), line):
                    rule_ok(m.group(3), re.sub(r"^(?:position|handle|index) \d+ ", "", m.group(4)), line)
            elif m := re.fullmatch(r"delete rule (\w+) (\S+) (\S+) handle \d+", s):
                if (m.group(1), m.group(2)) != ("inet", "netchange"):
                    problems.append(("table other than inet netchange", line))
                else:
                    chain_ok(m.group(3), line)
            else:
                problems.append(("nft statement of no object", line))
            continue
        if top[0] == "table":
            if m := re.fullmatch(r"chain (\S+) \{", s):
                name = m.group(1)
                ok = chain_ok(name, line)
                stack.append(("chain", name if ok else ""))
                if ok and _HOOK.match(name) and running and name in running and name not in reported and (replaced_all or name in flushed):
                    if not running[name].plain_jumps_only:
                        reported.add(name)
                        problems.append(("base chain rewritten without its unmodelled rules", f"{line}  (chain {name})"))
            else:
                problems.append(("table member other than a chain", line))
                if s.endswith("{"):
                    stack.append(("chain", ""))
            continue
        chain = top[1]
        if not chain:
            continue  # inside a chain already reported
        if m := _HEADER.match(s):
            want = _HOOK.match(chain)
            if not want or want.group(1) != m.group("hook"):
                problems.append(("hook declaration in a chain that is not its base chain", line))
            elif running and chain in running and running[chain].policy and m.group("policy") != running[chain].policy:
                problems.append(("base chain policy changed", f"{line}  (running: policy {running[chain].policy})"))
            continue
        rule_ok(chain, s, line)
    if stack:
        problems.append(("unclosed block at the end", lines[-1] if lines else ""))
    return problems


# ------------------------------------------------------------------ entry points

CHECKERS = {"frr": check_ios_style, "cisco_ios": check_ios_style, "arista_eos": check_ios_style,
            "aruba_aoscx": check_ios_style, "juniper_junos": check_junos, "nftables": check_nft,
            "cisco_nxos": lambda lines, scope: check_ios_style(lines, scope, nxos=True)}

_REFRESH = _p(rf"clear bgp (?P<afi>ipv4|ipv6) unicast (?P<nbr>{ADDR}) soft (?P<dir>in|out)",
              rf"clear (?P<afi2>ip|ipv6) bgp (?P<nbr2>{ADDR}) soft (?P<dir2>in|out)")
# Read-only commands the observers send: `show`, then keywords, addresses and prefixes only (whatever the
# platform's phrasing), so a value carrying a second command or a line break cannot pass.
_SHOW_WORDS = frozenset("bgp ip ipv4 ipv6 unicast neighbors neighbor received-routes routes summary json all all-vrfs vrf "
                        "default | display route exact protocol detail".split())
_SHOW_ADDR = re.compile(rf"(?:{ADDR}|{PFX})\Z")


def check_lines(platform: str, lines: list[str], scope: Scope) -> list[tuple[str, str]]:
    return CHECKERS[platform](lines, scope) + check_in_use(lines, scope)


# Whole-object removals (not one entry): IOS-style `no <list|route-map> NAME`, Junos `delete ... NAME`.
_DELETES = [
    (re.compile(r"no route-map (?P<name>\S+)\Z"), "route_map"),
    (re.compile(r"no ip(?:v6)? prefix-list (?P<name>\S+)\Z"), "prefix_list"),
    (re.compile(r"no (?:bgp|ip) (?:large-)?community-list (?:standard |expanded |regexp )?(?P<name>\S+)\Z"), "community_list"),
    (re.compile(r"no (?:bgp as-path access-list|ip as-path access-list|ip aspath-list) (?P<name>\S+)\Z"), "as_path_list"),
    (re.compile(r"delete policy-options policy-statement (?P<name>\S+)\Z"), "route_map"),
    (re.compile(r"delete policy-options (?:prefix-list|route-filter-list) (?P<name>\S+)\Z"), "prefix_list"),
    (re.compile(r"delete policy-options community (?P<name>\S+)\Z"), "community_list"),
    (re.compile(r"delete policy-options as-path-group (?P<name>\S+)\Z"), "as_path_list"),
]


# ... and lines that define one again (a list without addressable entries is rewritten: `no` + the new entries).
_DEFINES = {
    "route_map": re.compile(r"(?:route-map|set policy-options policy-statement) (?P<name>\S+)"),
    "prefix_list": re.compile(r"(?:ip(?:v6)? prefix-list|set policy-options (?:prefix-list|route-filter-list)) (?P<name>\S+)"),
    "community_list": re.compile(r"(?:(?:bgp|ip) (?:large-)?community-list (?:standard |expanded |regexp )?|set policy-options community )(?P<name>\S+)"),
    "as_path_list": re.compile(r"(?:bgp as-path access-list|ip as-path access-list|ip aspath-list|set policy-options as-path-group) (?P<name>\S+)"),
}


def check_in_use(lines: list[str], scope: Scope) -> list[tuple[str, str]]:
    """A plan must not remove an object the device keeps using: a binding the change leaves in place, or a
    route-map the change does not touch that matches the list (issue 11: refused, with who uses it).
    A removal the same command list defines again (a rewrite) is not a removal."""
    running = scope.running
    if running is None:
        return []
    problems = []
    for i, line in enumerate(lines):
        for pattern, kind in _DELETES:
            m = pattern.match(line)
            if not m:
                continue
            name = m.group("name")
            if running.get(kind, name) is None:  # not on the device (a rollback removing what the change added)
                break
            if any((d := _DEFINES[kind].match(later)) and d.group("name") == name for later in lines[i + 1:]):
                break
            users = []
            if kind == "route_map":
                users = [f"neighbor {k[0]} {k[1]} {k[2]}" for k, b in running.bindings.items()
                         if b.route_map == name and (norm_addr(k[0]), k[1], k[2]) not in scope.bindings]
            else:
                users = [f"route-map {rm.name}" for rm in running.route_maps.values()
                         if (kind, name) in rm.references() and not scope.has("route_map", rm.name)]
            if users:
                problems.append((f"deletes a {kind} still in use", f"{line}  (used by {', '.join(users)})"))
            break
    return problems


def check_refresh(commands: list[str], scope: Scope) -> list[tuple[str, str]]:
    problems = []
    for c in commands:
        m = _REFRESH.match(c) if not _CONTROL.search(c) else None
        if not m:
            problems.append(("refresh command of an unexpected shape", c))
            continue
        nbr = m.group("nbr") or m.group("nbr2")
        afi = m.group("afi") or {"ip": "ipv4", "ipv6": "ipv6"}[m.group("afi2")]
        direction = m.group("dir") or m.group("dir2")
        if (norm_addr(nbr), afi, direction) not in scope.refresh:
            problems.append(("refresh of a session the change does not affect", c))
    return problems


def _is_address(word: str) -> bool:
    """An address or prefix as ipaddress reads it (`::` included); the scope-id form only as ADDR allows it."""
    if not _SHOW_ADDR.match(word):
        return False
    try:
        ipaddress.ip_network(word.split("%")[0], strict=False)
        return True
    except ValueError:
        return False


def check_show_commands(commands: list[str]) -> list[tuple[str, str]]:
    """Commands sent to a device to read state: one clean line of a known shape each."""
    def ok(c: str) -> bool:
        words = c.split(" ")
        return (not _CONTROL.search(c) and words[0] == "show" and len(words) > 1
                and all(w in _SHOW_WORDS or _is_address(w) for w in words[1:]))
    return [("device command of an unexpected shape", c) for c in commands if not ok(c)]
