"""What a platform can match, as data: the features a term uses, keyed for a driver's `term_refusals`."""

from __future__ import annotations



from ...model.base import Network
from ...model.policy import ConcreteFilter, Rule



# Stateless ACL platforms: `established` is the TCP test (ACK or RST set), nothing else of conntrack exists.
STATELESS_REFUSALS = {
    **{f"state:{s}": f"connection_state {s} needs connection tracking, and these filters are stateless: only "
                     "established (TCP with ACK or RST set) can be expressed" for s in ("new", "related", "invalid", "untracked")},
    "state:established-not-tcp": "connection_state established means TCP with ACK or RST set on this stateless "
                                 "platform: give protocols: [tcp]",
    "fragment+established": "fragments cannot be combined with established",
    "log_rate": "log_rate: logging is rate-limited for the whole device, not per entry",
}
NO_REJECT = {"action:reject": "action reject cannot be expressed (this platform's ACLs only accept / deny)"}

def term_features(rule: Rule) -> list[str]:
    """Every match feature a rule uses beyond addresses, protocols and ports, as keys a driver's
    `term_refusals` may name (each also with `:<family>` appended: a platform may refuse it in one family)."""
    keys: list[str] = []
    if rule.action == "reject":
        keys.append("action:reject")
    for st in rule.states:
        keys.append(f"state:{st}")
    if "established" in rule.states and (not rule.specs or any(s.protocol != "tcp" for s in rule.specs)):
        keys.append("state:established-not-tcp")
    if rule.tcp_flags is not None:
        f = rule.tcp_flags
        keys += ["tcp_flags"] + (["tcp_flags:clear"] if f.clear else []) + (["tcp_flags:several-set"] if len(f.set) > 1 else [])
        if "established" in rule.states:
            keys.append("tcp_flags+established")
    if any(s.icmp_types for s in rule.specs):
        keys.append("icmp_type")
    if any(s.icmp_code is not None for s in rule.specs):
        keys.append("icmp_code")
    if rule.fragment:
        keys.append(f"fragment:{rule.fragment}")
        if "established" in rule.states:
            keys.append("fragment+established")
    if rule.source_excludes or rule.destination_excludes:
        keys.append("exclude")
    if rule.dscp:
        keys.append("dscp")
        if len(rule.dscp) > 1:
            keys.append("dscp:several")
    if rule.hop_limit is not None:
        h = rule.hop_limit
        keys.append("hop_limit")
        if h.lo != h.hi:
            keys.append("hop_limit:range")
            if h.lo != 0 and h.hi != 255:
                keys.append("hop_limit:closed-range")
    if rule.log_rate is not None:
        keys.append("log_rate")
    return keys + [f"{k}:{rule.family}" for k in keys]


def term_problems(platform: str, refusals: dict[str, str], f: ConcreteFilter) -> list[str]:
    """Every term of `f` this platform cannot express, each with the platform's reason (all of them, not
    the first: one validate run or one refused plan lists everything to fix)."""
    out: list[str] = []
    for r in f.rules:
        seen: set[str] = set()
        for key in term_features(r):
            why = refusals.get(key)
            if why is not None and why not in seen:
                seen.add(why)
                out.append(f"{platform}: filter {f.name} term {r.name} ({r.family}): {why}")
    return out


def proto(protocol_names: dict[str, dict[str, str]], protocol: str | None, family: str, any_word: str) -> str:
    """A protocol as the platform spells it: its keyword, else the IANA number."""
    from ...model.firewall import PROTOCOL_NUMBERS

    if protocol is None:
        return any_word
    names = protocol_names.get(family, {})
    if protocol in names:
        return names[protocol]
    return str(PROTOCOL_NUMBERS.get(protocol, protocol))


def is_host(net: Network | None) -> bool:
    return net is not None and net.prefixlen == net.max_prefixlen
