"""IOS-style ACL entries: `permit|deny ...` tokens -> Rule fields, or the reason the model cannot hold them."""

from __future__ import annotations

from functools import lru_cache


from ..model.base import AFI
from ..model.matches import ByteRange, TcpFlags
from .acl_words import FLAG_WORDS, ICMP_WORDS, dscp_value
from .ios_ports import Ports, parse_ports, protocol, service_spec
from .ios_values import Unsupported, _address, _host_network, _reason, _slash_network, _wildcard_network


# (sources, destinations, specs, action, log, counter, other Rule fields as (name, value) pairs) of one entry
AceFields = tuple[tuple, tuple, tuple, str, bool, bool, tuple]
_GROUP_WORDS = ("addrgroup", "object-group", "net-group", "addressgroup", "address-group", "portgroup")
_TTL_WORDS = ("ttl", "hop-limit")


@lru_cache(maxsize=65536)
def parse_ace(tokens: tuple[str, ...], family: AFI, standard: bool, wildcard_masks: bool,
              counter_words: tuple[str, ...]) -> AceFields | str:
    """`permit|deny ...` tokens (no sequence number) -> Rule fields, or the reason it cannot be modelled.

    Cached on the entry text: fleets repeat the same entries across ACLs and devices, and a cached
    entry costs a dict lookup instead of ~5 us of tokenising. Reasons are returned, not raised, so
    that they are cached too.
    """
    try:
        return _ace_fields(tokens, family, standard, wildcard_masks, counter_words)
    except (Unsupported, ValueError, IndexError) as e:
        return _reason(e)


def _ace_fields(tokens: tuple[str, ...], family: AFI, standard: bool, wildcard_masks: bool,
                counter_words: tuple[str, ...]) -> AceFields:
    action = "accept" if tokens[0] == "permit" else "deny"
    i = 1
    proto = ""
    if not standard:
        if tokens[1] in _GROUP_WORDS:
            raise Unsupported(f"{tokens[1]} references are not modelled")
        p = protocol(tokens[1], family)
        if p is None:
            raise Unsupported(f"protocol '{tokens[1]}' not modelled")
        proto, i = p, 2
    sources, i = _operand(tokens, i, family, wildcard_masks)
    sports, i = parse_ports(tokens, i, proto)
    destinations: tuple = ()
    dports: Ports = ()
    if not standard:
        destinations, i = _operand(tokens, i, family, wildcard_masks)
        dports, i = parse_ports(tokens, i, proto)
    icmp, i = _icmp_message(tokens, i, proto, family)
    log = counter = False
    extra: dict = {}
    flags: dict[str, bool] = {}
    rest = tokens[i:]
    j = 0
    while j < len(rest):
        option = rest[j]
        arg = rest[j + 1] if j + 1 < len(rest) else None
        if option in ("log", "log-input"):
            log = True
        elif option in counter_words:
            counter = True
        elif option == "established" and proto == "tcp":
            extra["states"] = ("established",)
        elif option in FLAG_WORDS and proto == "tcp":
            flags[option] = True
        elif option == "match-all" and proto == "tcp":
            while j + 1 < len(rest) and rest[j + 1][:1] in "+-" and rest[j + 1][1:] in FLAG_WORDS:
                j += 1
                flags[rest[j][1:]] = rest[j][0] == "+"
            if not flags:
                raise Unsupported("match-all without flags")
        elif option in ("fragments", "fragment"):
            extra["fragment"] = "non-first"
        elif option == "dscp" and arg is not None:
            value = dscp_value(arg)
            if value is None:
                raise Unsupported(f"dscp '{arg}' not modelled")
            extra["dscp"] = (value,)
            j += 1
        elif option in _TTL_WORDS and arg is not None:
            extra["hop_limit"], used = _ttl(rest[j + 1:])
            j += used
        else:
            raise Unsupported(f"option '{option}' not modelled")
        j += 1
    if flags:
        extra["tcp_flags"] = _tcp_flags(tuple(sorted(flags.items())))
    if icmp is not None and not proto:
        raise Unsupported("an ICMP message without protocol icmp")
    specs = (service_spec(proto, sports, dports, *(icmp or (None, None))),) if proto else ()
    return sources, destinations, specs, action, log, counter, tuple(sorted(extra.items()))


def _icmp_message(tokens: tuple[str, ...], i: int, proto: str, family: AFI) -> tuple[tuple[int, int | None] | None, int]:
    """An ICMP message after the destination: a name (IOS/EOS words), `TYPE [CODE]` numbers, or AOS-CX's
    `icmp-type T [icmp-code C]` -> ((type, code), next index)."""
    if proto not in ("icmp", "icmpv6") or i >= len(tokens):
        return None, i
    tok = tokens[i]
    if tok == "icmp-type" and i + 1 < len(tokens) and tokens[i + 1].isdigit():
        itype, i = int(tokens[i + 1]), i + 2
        icode = None
        if i + 1 < len(tokens) and tokens[i] == "icmp-code" and tokens[i + 1].isdigit():
            icode, i = int(tokens[i + 1]), i + 2
        return _icmp_checked(itype, icode), i
    if tok.isdigit():
        itype, i = int(tok), i + 1
        icode = None
        if i < len(tokens) and tokens[i].isdigit():
            icode, i = int(tokens[i]), i + 1
        return _icmp_checked(itype, icode), i
    word = ICMP_WORDS[family].get(tok.lower())
    if word is not None:
        return word, i + 1
    return None, i


def _icmp_checked(itype: int, icode: int | None) -> tuple[int, int | None]:
    if itype > 255 or (icode is not None and icode > 255):
        raise Unsupported("ICMP type or code above 255")
    return itype, icode


def _ttl(args: tuple[str, ...]) -> tuple[ByteRange, int]:
    """`eq N`, `gt N`, `lt N`, `range A B` or a bare `N` (AOS-CX) -> (range, tokens used)."""
    op = args[0]
    if op.isdigit():
        return ByteRange(lo=int(op), hi=int(op)), 1
    n = int(args[1]) if len(args) > 1 and args[1].isdigit() else None
    if n is None or n > 255:
        raise Unsupported(f"ttl '{' '.join(args[:2])}' not modelled")
    if op == "eq":
        return ByteRange(lo=n, hi=n), 2
    if op == "gt" and n < 255:
        return ByteRange(lo=n + 1, hi=255), 2
    if op == "lt" and n > 0:
        return ByteRange(lo=0, hi=n - 1), 2
    if op == "range" and len(args) > 2 and args[2].isdigit() and n <= int(args[2]) <= 255:
        return ByteRange(lo=n, hi=int(args[2])), 3
    raise Unsupported(f"ttl '{' '.join(args[:3])}' not modelled")


@lru_cache(maxsize=256)
def _tcp_flags(flags: tuple[tuple[str, bool], ...]) -> TcpFlags:
    return TcpFlags(**dict(flags))


def _operand(tokens: tuple[str, ...], i: int, family: AFI, wildcard_masks: bool) -> tuple[tuple, int]:
    """One source/destination operand at tokens[i] -> (networks, next index); () means any."""
    tok = tokens[i]
    version = 4 if family == "ipv4" else 6
    if tok == "any":
        return (), i + 1
    if tok == "host":
        addr = _address(tokens[i + 1])
        if addr is None or addr.version != version:
            raise Unsupported(f"host '{tokens[i + 1]}' is not an {family} address")
        return (_host_network(addr),), i + 2
    if tok in _GROUP_WORDS:
        raise Unsupported(f"{tok} references are not modelled")
    if "/" in tok:
        net = _slash_network(tok)
        if net is None or net.version != version:
            raise Unsupported(f"'{tok}' is not an {family} prefix")
        return (net,), i + 1
    addr = _address(tok)
    if addr is None or addr.version != version:
        raise Unsupported(f"operand '{tok}' not modelled")
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if wildcard_masks and version == 4 and (w := _address(nxt)) is not None and w.version == 4:
        net = _wildcard_network(tok, nxt)
        if net is None:
            raise Unsupported(f"non-contiguous wildcard {tok} {nxt}")
        return (net,), i + 2
    return (_host_network(addr),), i + 1  # a bare address is a host (IOS standard ACLs, AOS-CX)
