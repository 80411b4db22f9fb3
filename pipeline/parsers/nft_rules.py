"""One `nft -j` rule (its `expr` list) -> what the model can say about it.

A rule reads into an `NftRule`: addresses (and `!=` exclusions), protocols/ports, ICMP types and code,
`ct state`, TCP flags (`tcp flags & MASK == VALUE`), fragments, DSCP, TTL / hop limit, counter/log (and a
`limit` in front of a log), verdict, and two lists of reasons: `blockers` (the rule cannot be modelled at
all: named sets, maps, NAT, jumps, no verdict) and `unmodelled` (conditions the model has no field for,
e.g. `meta mark`: the modelled rule matches more than on the host).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from ..model.base import AFI, Network
from ..model.firewall import PORTED, PROTOCOL_NUMBERS, ServiceSpec
from ..model.matches import CONN_STATES, TCP_FLAG_BITS, TCP_FLAGS, ByteRange, LogRate, TcpFlags
from .nft_words import NFT_DSCP, NFT_ICMP_CODES, NFT_ICMP_TYPES, nft_number

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
    source_excludes: list[Network] = field(default_factory=list)  # `ip saddr != ...`
    destination_excludes: list[Network] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)  # from meta l4proto / ip protocol / ip6 nexthdr
    ports: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # protocol or "th" -> sport/dport -> ports
    icmp: dict[str, list[int]] = field(default_factory=dict)  # icmp|icmpv6 -> types ([] when only a code is matched)
    icmp_code: int | None = None
    states: tuple[str, ...] = ()
    tcp_flags: TcpFlags | None = None
    fragment: str | None = None
    dscp: tuple[int, ...] = ()
    hop_limit: ByteRange | None = None
    limit: LogRate | None = None  # `limit rate N/unit` (in front of a log)
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
            elif kind == "limit" and _log_limit(body) is not None:
                r.limit = _log_limit(body)
            else:  # limit, quota, ct helper, ... : shape traffic without changing which packets match
                r.unmodelled.append(f"statement {kind}")
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:  # a member of an unexpected JSON type
            r.blockers.append(f"{kind}: {e}")
    if "th" in r.ports and not r.protocols:
        r.unmodelled.append("th (any transport) ports without a protocol")
        del r.ports["th"]
    if r.action is None and r.jump is None and not r.blockers and not (r.log and r.limit is not None):
        r.blockers.append("no verdict (the packet continues to the next rule)")
    if r.fragment in ("offset0", "more"):
        r.unmodelled.append("frag " + ("frag-off 0" if r.fragment == "offset0" else "more-fragments 1"))
        r.fragment = None
    if r.limit is not None and not r.log:
        r.unmodelled.append(f"limit rate {r.limit} (without a log)")
        r.limit = None
    for proto in r.icmp:
        if proto not in r.protocols:
            r.protocols.append(proto)
    return r


def _log_limit(body: Any) -> LogRate | None:
    """`limit rate N/unit` as nft -j gives it (burst left at its default); None for byte rates, `over`, ..."""
    if not isinstance(body, dict) or body.get("inv") or body.get("rate_unit", "packets") != "packets":
        return None
    try:
        return LogRate(count=body["rate"], per=body.get("per", "second"))
    except (KeyError, ValueError, TypeError):
        return None


def _match(r: NftRule, m: dict) -> None:
    op, left, right = m.get("op", "=="), m.get("left"), m.get("right")
    what = _describe(left)
    if _is_named_ref(right) or (isinstance(right, dict) and ("map" in right or "vmap" in right)):
        r.blockers.append(f"{what} uses named set/map {right if isinstance(right, str) else 'map'}")
        return
    if _special(r, op, left, right):
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


def _special(r: NftRule, op: str, left: Any, right: Any) -> bool:
    """The matches beyond addresses, protocols and ports (and address exclusions); True when read."""
    if not isinstance(left, dict) or len(left) != 1:
        return False
    kind, body = next(iter(left.items()))
    if kind == "ct" and isinstance(body, dict) and body.get("key") == "state" and body.get("dir") is None \
            and op in ("==", "in"):
        states = [str(v) for v in (right if isinstance(right, list) else _elements(right))]
        if not states or any(s not in CONN_STATES for s in states):
            return False
        r.states = tuple(s for s in CONN_STATES if s in states or s in r.states)
        return True
    if kind == "payload" and isinstance(body, dict):
        proto, fld = body.get("protocol"), body.get("field")
        if proto in ("ip", "ip6") and fld in ("saddr", "daddr") and op == "!=":
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            (r.source_excludes if fld == "saddr" else r.destination_excludes).extend(_networks(right))
            return True
        if op not in ("==", "in"):
            return False
        if proto in ("icmp", "icmpv6") and fld == "type":
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            r.icmp.setdefault(proto, []).extend(nft_number(v, NFT_ICMP_TYPES[proto]) for v in _elements(right))
            return True
        if proto in ("icmp", "icmpv6") and fld == "code" and not isinstance(right, dict):
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            r.icmp.setdefault(proto, [])
            r.icmp_code = nft_number(right, NFT_ICMP_CODES[proto])
            return True
        if proto in ("ip", "ip6") and fld == "dscp":
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            r.dscp = tuple(sorted({*r.dscp, *(nft_number(v, NFT_DSCP) for v in _elements(right))}))
            return True
        if proto in ("ip", "ip6") and (proto, fld) in (("ip", "ttl"), ("ip6", "hoplimit")):
            r.families.add(_FAMILY_OF_PAYLOAD[proto])
            if isinstance(right, dict) and "range" in right:
                lo, hi = right["range"]
                r.hop_limit = ByteRange(lo=int(lo), hi=int(hi))
            elif isinstance(right, int) and not isinstance(right, bool):
                r.hop_limit = ByteRange(lo=right, hi=right)
            else:
                return False
            return True
        return False
    if kind == "&" and isinstance(body, list) and len(body) == 2:
        field_, mask = body
        inner = field_.get("payload") if isinstance(field_, dict) else None
        if inner == {"protocol": "tcp", "field": "flags"} and op == "==":
            m, v = _flag_bits(mask), _flag_bits(right)
            if m is None or v is None or v & ~m or not m:
                return False
            names = [f for f in TCP_FLAGS if TCP_FLAG_BITS[f] & m]
            r.tcp_flags = TcpFlags(**{f: bool(TCP_FLAG_BITS[f] & v) for f in names})
            if "tcp" not in r.protocols:
                r.protocols.append("tcp")
            return True
        if inner == {"protocol": "ip", "field": "frag-off"}:
            r.families.add("ipv4")
            if mask == 0x1FFF and op == "!=" and right == 0:
                r.fragment = "non-first"
                return True
            if mask == 0x3FFF and op == "==" and right == 0x2000:
                r.fragment = "first"
                return True
        return False
    if kind == "exthdr" and isinstance(body, dict) and body.get("name") == "frag":
        fld = body.get("field")
        if fld == "frag-off" and op == "!=" and right == 0:
            r.families.add("ipv6")
            r.fragment = "non-first"
            return True
        if fld == "frag-off" and op == "==" and right == 0:  # with more-fragments 1: the first fragment
            r.families.add("ipv6")
            r.fragment = "first" if r.fragment == "more" else "offset0"
            return True
        if fld == "more-fragments" and op == "==" and right == 1:
            r.families.add("ipv6")
            r.fragment = "first" if r.fragment == "offset0" else "more"
            return True
    return False


def _flag_bits(value: Any) -> int | None:
    """`syn`, ["syn", "ack"], {"|": [...]} or a number -> the flag bits; None if not understood."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value & ~0x3F == 0 else None
    if isinstance(value, str):
        return TCP_FLAG_BITS.get(value)
    if isinstance(value, dict) and len(value) == 1 and "|" in value:
        value = value["|"]
    if isinstance(value, list):
        bits = [_flag_bits(v) for v in value]
        return None if any(b is None for b in bits) else sum({b for b in bits if b is not None})
    return None


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
        specs = [ServiceSpec(protocol=p, icmp_types=tuple(sorted(set(r.icmp.get(p, ())))),
                             icmp_code=r.icmp_code if p in r.icmp else None) for p in dict.fromkeys(r.protocols)]
    wrong_icmp = "icmpv6" if family == "ipv4" else "icmp"
    kept = tuple(s for s in specs if s.protocol != wrong_icmp)
    if specs and not kept:
        return None
    return kept
