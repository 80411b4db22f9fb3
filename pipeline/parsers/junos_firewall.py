"""JunOS `firewall family inet|inet6 filter` + interface `filter input|output` -> ConcreteFilter.

Filters of the same name in `family inet` and `family inet6` become one ConcreteFilter with rules of both
families (how netchange models a dual-stack filter). Match conditions and actions the model cannot express
are listed in `skipped` per term; such a rule is kept, and the note says it is broader than on the device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..inventory import Attachment
from ..model.base import AFI, Network, afi_of
from ..model.firewall import PORTED, PROTOCOL_NUMBERS, ServiceSpec
from ..model.matches import ICMP_PROTOCOLS, ICMP_TYPES, TCP_FLAGS, ByteRange, TcpFlags
from ..model.policy import ConcreteFilter, Rule
from .acl_words import dscp_value
from .junos_common import bad_name, build, junos_prefix
from .junos_setlines import Node
from .notes import Notes

FAMILIES: dict[str, AFI] = {"inet": "ipv4", "inet6": "ipv6"}
# JunOS protocol keywords -> IANA numbers (the model stores names it knows, numbers otherwise).
PROTOCOLS = {"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17, "ipv6": 41, "rsvp": 46, "gre": 47,
             "esp": 50, "ah": 51, "icmp6": 58, "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "l2tp": 115,
             "sctp": 132}
# JunOS port keywords (the subset `show configuration` prints instead of numbers).
PORTS = {"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "tacacs": 49, "domain": 53, "bootps": 67,
         "dhcp": 67, "bootpc": 68, "tftp": 69, "finger": 79, "http": 80, "kerberos-sec": 88, "pop3": 110,
         "sunrpc": 111, "ident": 113, "nntp": 119, "ntp": 123, "netbios-ns": 137, "netbios-dgm": 138,
         "netbios-ssn": 139, "imap": 143, "snmp": 161, "snmptrap": 162, "xdmcp": 177, "bgp": 179, "ldap": 389,
         "https": 443, "exec": 512, "biff": 512, "login": 513, "who": 513, "cmd": 514, "syslog": 514,
         "printer": 515, "talk": 517, "ntalk": 518, "rip": 520, "timed": 525, "msdp": 639, "ldp": 646,
         "socks": 1080, "radius": 1812, "radacct": 1813, "pptp": 1723, "nfsd": 2049, "cvspserver": 2401}
_ADDRESS_KEYS = {"source-address": "sources", "destination-address": "destinations"}
_PREFIX_LIST_KEYS = {"source-prefix-list": "sources", "destination-prefix-list": "destinations"}
_PROTOCOL_KEYS = ("protocol", "next-header", "payload-protocol")
_PORT_KEYS = {"source-port": "source_ports", "destination-port": "destination_ports"}
_TERMINATING = {"accept": "accept", "discard": "deny", "reject": "reject"}
_HARMLESS_THEN = {"count", "log", "syslog"}


_FRAGMENT_KEYS = {"is-fragment": "non-first", "first-fragment": "first"}
_DSCP_KEYS = ("dscp", "traffic-class")
_HOP_KEYS = ("ttl", "hop-limit")
# ICMP names Junos accepts besides the model's own (model/matches.py), per family.
_ICMP_NAMES = {"ipv4": {"router-solicit": 10, "timestamp": 13, "info-request": 15, "info-reply": 16},
               "ipv6": {"membership-query": 130, "membership-report": 131, "membership-termination": 132,
                        "neighbor-advertisement": 136, "node-information-reply": 140}}


@dataclass
class _Match:
    sources: list[Network] = field(default_factory=list)
    destinations: list[Network] = field(default_factory=list)
    source_excludes: list[Network] = field(default_factory=list)
    destination_excludes: list[Network] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    source_ports: list[str] = field(default_factory=list)
    destination_ports: list[str] = field(default_factory=list)
    icmp_types: list[int] = field(default_factory=list)
    icmp_code: int | None = None
    states: tuple[str, ...] = ()
    tcp_flags: TcpFlags | None = None
    fragment: str | None = None
    dscp: list[int] = field(default_factory=list)
    hop_limit: ByteRange | None = None
    unmodelled: list[str] = field(default_factory=list)


def _icmp_type(word: str, family: AFI) -> int | None:
    if word.isdigit():
        return int(word) if int(word) <= 255 else None
    proto = "icmp" if family == "ipv4" else "icmpv6"
    return ICMP_TYPES[proto].get(word, _ICMP_NAMES[family].get(word))


def _tcp_flags(expr: str) -> TcpFlags | None:
    """`syn & !ack` (an AND of flags, each possibly negated) -> TcpFlags; None for anything else (`|`, ...)."""
    text = expr.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    flags: dict[str, bool] = {}
    for part in text.split("&"):
        word = part.strip()
        neg = word.startswith("!")
        word = word.lstrip("!").strip()
        if word not in TCP_FLAGS or word in flags:
            return None
        flags[word] = not neg
    return TcpFlags(**flags) if flags else None


def _protocol(word: str) -> str:
    """JunOS keyword or number -> the model's protocol name (its own names where it has one, else the number)."""
    num = PROTOCOLS.get(word, int(word) if word.isdigit() else None)
    if num is None:
        return word  # unknown keyword: the model refuses it and the term notes why
    return next((name for name, n in PROTOCOL_NUMBERS.items() if n == num), str(num))


def _port(word: str) -> str:
    if word in PORTS:
        return str(PORTS[word])
    lo, _, hi = word.partition("-")
    return f"{PORTS.get(lo, lo)}-{PORTS.get(hi, hi)}" if hi else word


def _hop(word: str) -> ByteRange | None:
    try:
        return ByteRange.model_validate(word)
    except ValueError:
        return None


def _no_any(nets: list[Network]) -> tuple[Network, ...]:
    """`0.0.0.0/0` (or `::/0`) among a term's addresses is any address (a term carries one to say `except`)."""
    return () if any(n.prefixlen == 0 for n in nets) else tuple(nets)


class FirewallMapper:
    def __init__(self, tree: Node, prefix_lists: dict[str, list[Network]], notes: Notes):
        self.tree = tree
        self.prefix_lists = prefix_lists  # policy-options prefix-lists, for (source|destination)-prefix-list
        self.notes = notes

    def filters(self) -> dict[str, ConcreteFilter]:
        rules: dict[str, list[Rule]] = {}
        fw = self.tree.child("firewall")
        if fw is None:
            return {}
        for fam in fw.keys("family"):
            if fam not in FAMILIES:
                for name in fw.keys("family", fam, "filter"):
                    self.notes.append(f"firewall family {fam} filter {name}: only inet/inet6 filters are modelled")
                continue
            for name in fw.keys("family", fam, "filter"):
                self._filter(name, FAMILIES[fam], fw.at("family", fam, "filter", name), rules)
        for name in fw.keys("filter"):  # family-less `firewall filter` is an inet filter
            self._filter(name, "ipv4", fw.at("filter", name), rules)
        attachments = self._attachments(set(rules))
        out: dict[str, ConcreteFilter] = {}
        for name, rs in rules.items():
            with self.notes.inside("filter", name):
                f = build(self.notes, f"firewall filter {name}",
                          lambda: ConcreteFilter(name=name, rules=tuple(rs), attachments=tuple(attachments.get(name, ()))))
            if f:
                out[name] = f
        return out

    def _filter(self, name: str, family: AFI, node: Node, rules: dict[str, list[Rule]]) -> None:
        with self.notes.inside("filter", name):
            self._filter_in(name, family, node, rules)

    def _filter_in(self, name: str, family: AFI, node: Node, rules: dict[str, list[Rule]]) -> None:
        where = f"firewall {family} filter {name}"
        if reason := bad_name(name):
            self.notes.append(f"{where}: name not usable ({reason})")
            return
        for stmt in node.keys():
            if stmt != "term":
                self.notes.append(f"{where}: filter option '{stmt}' not modelled")
        out = rules.setdefault(name, [])
        for term in node.keys("term"):
            rule = self._term(f"{where} term {term}", term, family, node.at("term", term))
            if rule:
                out.append(rule)

    def _term(self, where: str, term: str, family: AFI, node: Node) -> Rule | None:
        for stmt in node.keys():
            if stmt not in ("from", "then"):  # e.g. `term X { filter OTHER; }` jumps to another filter
                self.notes.append(f"{where}: '{stmt} {' '.join(node.keys(stmt))}' not modelled, term skipped")
                return None
        then = node.child("then") or Node()
        action = next((_TERMINATING[a] for a in then.keys() if a in _TERMINATING), None)
        if then.has("next", "term"):
            self.notes.append(f"{where}: 'then next term' (non-terminating term) not modelled, term skipped")
            return None
        if action is None:
            self.notes.info(f"{where}: no terminating action; JunOS accepts, modelled as accept")
            action = "accept"
        extra = [a for a in then.keys() if a not in _TERMINATING and a not in _HARMLESS_THEN]
        if extra:
            self.notes.append(f"{where}: actions not modelled: {', '.join(extra)}")
        m = self._match(where, family, node.child("from") or Node())
        if m is None:
            return None
        if m.unmodelled:
            self.notes.append(f"{where}: match conditions not modelled (rule is broader than on the device): "
                              f"{', '.join(m.unmodelled)}")
        specs = self._specs(where, m)
        return build(self.notes, where, lambda: Rule(
            name=term, family=family, sources=_no_any(m.sources), destinations=_no_any(m.destinations),
            source_excludes=tuple(m.source_excludes), destination_excludes=tuple(m.destination_excludes), specs=specs,
            states=m.states, tcp_flags=m.tcp_flags, fragment=m.fragment, dscp=tuple(m.dscp), hop_limit=m.hop_limit,
            action=action, log=then.has("log") or then.has("syslog"), counter=then.has("count")))

    def _match(self, where: str, family: AFI, frm: Node) -> _Match | None:
        m = _Match()
        for key in frm.keys():
            values = frm.keys(key)
            if key in _ADDRESS_KEYS:
                side = _ADDRESS_KEYS[key]
                nets = self._networks(where, family, frm.at(key), m,
                                      m.source_excludes if side == "sources" else m.destination_excludes)
                if nets is None:
                    return None
                getattr(m, _ADDRESS_KEYS[key]).extend(nets)
            elif key in _PREFIX_LIST_KEYS:
                for pl in values:
                    if pl not in self.prefix_lists:
                        self.notes.append(f"{where}: {key} {pl} is not a static policy-options prefix-list, term skipped")
                        return None
                    if frm.has(key, pl, "except"):
                        m.unmodelled.append(f"{key} {pl} except")
                        continue
                    getattr(m, _PREFIX_LIST_KEYS[key]).extend(n for n in self.prefix_lists[pl] if afi_of(n) == family)
            elif key in _PROTOCOL_KEYS:
                m.protocols.extend(values)
            elif key in _PORT_KEYS:
                getattr(m, _PORT_KEYS[key]).extend(values)
            elif key in ("icmp-type", "icmp6-type") and all(_icmp_type(v, family) is not None for v in values):
                m.icmp_types.extend(t for v in values if (t := _icmp_type(v, family)) is not None)
            elif key in ("icmp-code", "icmp6-code") and len(values) == 1 and values[0].isdigit():
                m.icmp_code = int(values[0])
            elif key == "tcp-established" and not values:
                m.states = ("established",)
            elif key == "tcp-initial" and not values:
                m.tcp_flags = TcpFlags(syn=True, ack=False)
            elif key == "tcp-flags" and len(values) == 1 and _tcp_flags(values[0]) is not None:
                m.tcp_flags = _tcp_flags(values[0])
            elif key in _FRAGMENT_KEYS and not values and family == "ipv4":
                m.fragment = _FRAGMENT_KEYS[key]
            elif key in _DSCP_KEYS and values and all(dscp_value(v) is not None for v in values):
                m.dscp.extend(d for v in values if (d := dscp_value(v)) is not None)
            elif key in _HOP_KEYS and len(values) == 1 and _hop(values[0]) is not None:
                m.hop_limit = _hop(values[0])
            else:
                m.unmodelled.append(" ".join([key, *values]).strip())
        if m.icmp_code is not None and len(m.icmp_types) != 1:
            m.unmodelled.append(f"icmp-code {m.icmp_code} (with {len(m.icmp_types)} ICMP types)")
            m.icmp_code = None
        return m

    def _networks(self, where: str, family: AFI, node: Node, m: _Match, excludes: list[Network]) -> list[Network] | None:
        """The addresses of a source/destination-address statement; `except` ones go to `excludes`."""
        nets: list[Network] = []
        for text in node.keys():
            try:
                net, masked = junos_prefix(text)
            except ValueError:
                self.notes.append(f"{where}: '{text}' is not an address, term skipped")
                return None
            if afi_of(net) != family:
                self.notes.append(f"{where}: {text} is not {family}, ignored")
                continue
            if masked:  # JunOS masks them itself: a rewrite with the masked prefix is the same statement
                self.notes.info(f"{where}: host bits set in {text}, read as {net}")
            (excludes if node.has(text, "except") else nets).append(net)
        return nets

    def _specs(self, where: str, m: _Match) -> tuple[ServiceSpec, ...]:
        ports = {"source_ports": [_port(p) for p in m.source_ports],
                 "destination_ports": [_port(p) for p in m.destination_ports]}
        protocols = [_protocol(p) for p in m.protocols]
        if not protocols and (ports["source_ports"] or ports["destination_ports"]):
            self.notes.append(f"{where}: ports without a protocol, approximated as tcp and udp")
            protocols = ["tcp", "udp"]
        specs: list[ServiceSpec] = []
        if m.icmp_types and not any(p in ICMP_PROTOCOLS for p in protocols):
            self.notes.append(f"{where}: icmp-type without protocol icmp not modelled (rule is broader than on "
                              "the device)")
        for name in protocols:
            use: dict[str, Any] = ports if name in PORTED else {}
            if name in ICMP_PROTOCOLS and m.icmp_types:
                use = {"icmp_types": tuple(m.icmp_types), "icmp_code": m.icmp_code}
            if not use and (ports["source_ports"] or ports["destination_ports"]):
                self.notes.append(f"{where}: ports do not apply to protocol {name}, ignored for it")
            spec = build(self.notes, f"{where} protocol {name}", lambda: ServiceSpec(protocol=name, **use))
            if spec:
                specs.append(spec)
        return tuple(specs)

    def _attachments(self, known: set[str]) -> dict[str, list[Attachment]]:
        """interfaces IF unit U family inet|inet6 filter input|output NAME -> Attachment(IF.U, in|out)."""
        out: dict[str, list[Attachment]] = {}
        interfaces = self.tree.child("interfaces") or Node()
        for ifname in interfaces.keys():
            for unit in interfaces.keys(ifname, "unit"):
                for fam in interfaces.keys(ifname, "unit", unit, "family"):
                    filt = interfaces.child(ifname, "unit", unit, "family", fam, "filter")
                    if filt is None:
                        continue
                    for kind in filt.keys():
                        where = f"interfaces {ifname} unit {unit} family {fam} filter {kind}"
                        direction = {"input": "in", "output": "out"}.get(kind)
                        if direction is None or fam not in FAMILIES:
                            self.notes.append(f"{where}: not modelled")
                            continue
                        for name in filt.keys(kind):
                            if name not in known:  # the binding is part of that filter if a change makes it
                                self.notes.add(f"{where} {name}: filter not defined or not modelled",
                                               None if bad_name(name) else "filter", name)
                                continue
                            att = build(self.notes, where, lambda: Attachment(interface=f"{ifname}.{unit}",
                                                                              direction=direction))
                            if att and att not in out.setdefault(name, []):
                                out[name].append(att)
        return out
