"""One `nft -j` rule (its `expr` list) -> what the model can say about it.

A rule reads into an `NftRule`: addresses, protocols/ports, counter/log, verdict, and two lists of reasons:
`blockers` (the rule cannot be modelled at all: named sets, maps, NAT, jumps, no verdict) and `unmodelled`
(conditions the model has no field for, e.g. `ct state`: the modelled rule matches more than on the host).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from ..model.base import AFI, Network
from ..model.firewall import PORTED, PROTOCOL_NUMBERS, ServiceSpec

_VERDICTS = {"accept": "accept", "drop": "deny", "reject": "reject"}
_FLOW = ("jump", "goto", "return", "continue", "queue")
_FAMILY_OF_PAYLOAD: dict[str, AFI] = {"ip": "ipv4", "ip6": "ipv6", "icmp": "ipv4", "icmpv6": "ipv6"}
_NFPROTO: dict[str, AFI] = {"ipv4": "ipv4", "ipv6": "ipv6"}
_PROTOCOL_ALIASES = {"ipv6-icmp": "icmpv6", "icmp6": "icmpv6"}
_NOT_FILTERING = {"snat", "dnat", "masquerade", "redirect", "tproxy", "mangle", "notrack", "fwd", "dup", "set",
                  "map", "vmap", "synproxy", "xt", "queue", "meter", "objref", "flow"}


@dataclass
class NftRule:
    families: set[AFI] = field(default_factory=set)  # constraints seen (addresses, nfproto, ip protocol)
    sources: list[Network] = field(default_factory=list)
    destinations: list[Network] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)  # from meta l4proto / ip protocol / ip6 nexthdr
    ports: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # protocol or "th" -> sport/dport -> ports
    counter: bool = False
    log: bool = False
    action: str | None = None
    jump: tuple[str, str] | None = None  # (jump|goto, target chain)
    interfaces: dict[str, str] = field(default_factory=dict)  # iifname/oifname -> name
    blockers: list[str] = field(default_factory=list)
    unmodelled: list[str] = field(default_factory=list)


def _describe(left: Any) -> str:
    if isinstance(left, dict) and left:
        kind, body = next(iter(left.items()))
        if isinstance(body, dict):
            parts = [str(body.get(k)) for k in ("protocol", "field", "key") if body.get(k)]
            return f"{kind} {' '.join(parts)}".strip()
        return str(kind)
    return str(left)


def _elements(right: Any) -> list[Any]:
    if isinstance(right, dict) and "set" in right:
        return list(right["set"])
    return [right]


def _networks(right: Any) -> list[Network]:
    """Address / prefix / range / anonymous set -> networks (ranges are split into covering prefixes)."""
    out: list[Network] = []
    for el in _elements(right):
        if isinstance(el, dict) and "elem" in el:
            el = el["elem"].get("val")
        if isinstance(el, str):
            out.append(ipaddress.ip_network(el))
        elif isinstance(el, dict) and "prefix" in el:
            out.append(ipaddress.ip_network(f"{el['prefix']['addr']}/{el['prefix']['len']}", strict=False))
        elif isinstance(el, dict) and "range" in el:
            lo, hi = (ipaddress.ip_address(a) for a in el["range"])
            out.extend(ipaddress.summarize_address_range(lo, hi))
        else:
            raise ValueError(f"address value {el!r} not understood")
    return out


def _port(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if value.isdigit() else str(socket.getservbyname(value))
    if isinstance(value, dict) and "range" in value:
        lo, hi = value["range"]
        return f"{_port(lo)}-{_port(hi)}"
    raise ValueError(f"port value {value!r} not understood")


def _protocol(value: Any) -> str:
    if isinstance(value, int):
        return next((n for n, v in PROTOCOL_NUMBERS.items() if v == value), str(value))
    name = _PROTOCOL_ALIASES.get(str(value), str(value))
    if name in PROTOCOL_NUMBERS or name.isdigit():
        return name
    try:
        return _protocol(socket.getprotobyname(name))
    except OSError:
        raise ValueError(f"protocol {value!r} not understood") from None


def _is_named_ref(right: Any) -> bool:
    return isinstance(right, str) and right.startswith("@")


def read_rule(exprs: list[dict]) -> NftRule:
    r = NftRule()
    if not isinstance(exprs, list):
        r.blockers.append(f"expr is {type(exprs).__name__}, not a list of statements")
        return r
    for ex in exprs:
        if not isinstance(ex, dict) or not ex:
            continue
        kind, body = next(iter(ex.items()))
        try:
            if kind == "match":
                _match(r, body)
            elif kind == "counter":
                r.counter = True
            elif kind == "log":
                r.log = True
            elif kind in _VERDICTS:
                r.action = _VERDICTS[kind]
            elif kind in ("jump", "goto"):
                if not isinstance(body.get("target"), str):
                    raise ValueError(f"target {body.get('target')!r} is not a chain name")
                r.jump = (kind, body["target"])
            elif kind in _FLOW:
                r.blockers.append(f"verdict {kind}")
            elif kind in _NOT_FILTERING:
                r.blockers.append(f"statement {kind}")
            else:  # limit, quota, ct helper, ... : shape traffic without changing which packets match
                r.unmodelled.append(f"statement {kind}")
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:  # a member of an unexpected JSON type
            r.blockers.append(f"{kind}: {e}")
    if "th" in r.ports and not r.protocols:
        r.unmodelled.append("th (any transport) ports without a protocol")
        del r.ports["th"]
    if r.action is None and r.jump is None and not r.blockers:
        r.blockers.append("no verdict (the packet continues to the next rule)")
    return r


def _match(r: NftRule, m: dict) -> None:
    op, left, right = m.get("op", "=="), m.get("left"), m.get("right")
    what = _describe(left)
    if _is_named_ref(right) or (isinstance(right, dict) and ("map" in right or "vmap" in right)):
        r.blockers.append(f"{what} uses named set/map {right if isinstance(right, str) else 'map'}")
        return
    if op not in ("==", "in"):
        r.unmodelled.append(f"{what} {op} {_show(right)}")
        return
    payload = left.get("payload") if isinstance(left, dict) else None
    meta = left.get("meta") if isinstance(left, dict) else None
    if payload and "protocol" in payload:
        proto, fld = payload["protocol"], payload.get("field")
        if proto in ("ip", "ip6") and fld in ("saddr", "daddr"):
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            (r.sources if fld == "saddr" else r.destinations).extend(_networks(right))
            return
        if (proto, fld) in (("ip", "protocol"), ("ip6", "nexthdr")):
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            r.protocols.extend(_protocol(v) for v in _elements(right))
            return
        if proto in PORTED | {"th"} and fld in ("sport", "dport"):
            r.ports.setdefault(proto, {}).setdefault(fld, []).extend(_port(v) for v in _elements(right))
            return
        if proto in _FAMILY_OF_PAYLOAD:
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
    if meta:
        key = meta.get("key")
        if key == "l4proto":
            r.protocols.extend(_protocol(v) for v in _elements(right))
            return
        if key == "nfproto" and isinstance(right, str) and right in _NFPROTO:
            r.families.add(_NFPROTO[right])
            return
        if key in ("iifname", "oifname") and isinstance(right, str):
            r.interfaces[key] = right
            r.unmodelled.append(f"meta {key} {right}")
            return
    r.unmodelled.append(f"{what} {_show(right)}".strip())


def _show(value: Any) -> str:
    """A match value as nft prints it (short): lists and sets comma-joined, other structures elided."""
    if isinstance(value, dict) and "set" in value:
        value = value["set"]
    if isinstance(value, list):
        return ",".join(_show(v) for v in value)
    return "..." if isinstance(value, dict) else str(value)


def specs_for(r: NftRule, family: AFI) -> tuple[ServiceSpec, ...] | None:
    """ServiceSpecs of the rule in one family; None when the rule cannot match in that family."""
    specs: list[ServiceSpec] = []
    by_proto = {p: v for p, v in r.ports.items() if p != "th"}
    th = r.ports.get("th")
    if by_proto or th:
        protos = list(by_proto) or r.protocols
        if r.protocols and by_proto and not set(by_proto) & set(r.protocols):
            return None  # e.g. `meta l4proto udp tcp dport 22`: matches nothing
        for p in protos:
            ports = by_proto.get(p, th or {})
            specs.append(ServiceSpec(protocol=p, source_ports=tuple(ports.get("sport", ())),
                                     destination_ports=tuple(ports.get("dport", ()))))
    else:
        specs = [ServiceSpec(protocol=p) for p in dict.fromkeys(r.protocols)]
    wrong_icmp = "icmpv6" if family == "ipv4" else "icmp"
    kept = tuple(s for s in specs if s.protocol != wrong_icmp)
    if specs and not kept:
        return None
    return kept
