"""Terms and prefix-list entries that can never match, or that change nothing (see shadow.py)."""

from __future__ import annotations

import ipaddress
import itertools

from ...errors import InputError
from ...model.base import AFI
from ...model.firewall import PROTOCOL_NUMBERS
from ...model.matches import CONN_STATES, TCP_FLAGS
from ...model.policy import Rule
from ...model.resolve import term_rules
from ...model.routing import PrefixList, RouteMap
from ...drivers.render.aces import remaining
from ..boxes import Box, Budget
from ..context import Context
from ..shadow import Item, Result, analyse
from .references import term_resolvable
from .structure import length_range

_WIDTH = {"ipv4": 32, "ipv6": 128}
# Box dimensions of a firewall rule: source, destination, protocol, source port, destination port, then the
# match dimensions a filter's terms use (EXTRA_DIMS, in this order; a filter that uses none of them keeps
# the five-dimension boxes): ICMP type and code, connection state, one per TCP flag, fragment (0 not a
# fragment, 1 first, 2 later), DSCP, hop limit / TTL. Sources and destinations are CIDR prefixes (after
# exclusions), so the first two dimensions can be indexed.
FW_PREFIX_DIMS = {fam: ((0, w), (1, w)) for fam, w in _WIDTH.items()}
EXTRA_DIMS = ("icmp_type", "icmp_code", "state", *(f"flag_{f}" for f in TCP_FLAGS), "fragment", "dscp", "hop_limit")
_ANY_PORT = ((0, 65535),)
_FULL = {"icmp_type": (0, 255), "icmp_code": (0, 255), "state": (0, len(CONN_STATES) - 1),
         **{f"flag_{f}": (0, 1) for f in TCP_FLAGS}, "fragment": (0, 2), "dscp": (0, 63), "hop_limit": (0, 255)}
_FRAGMENT = {"first": (1, 1), "non-first": (2, 2)}


def _span(n: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    lo = int(n.network_address)
    return lo, lo | ((1 << (n.max_prefixlen - n.prefixlen)) - 1)  # not n.hostmask: it builds an address object


def _runs(values) -> list[tuple[int, int]]:
    """Sorted distinct integers as maximal intervals: {0, 8, 9, 10} -> [(0, 0), (8, 10)]."""
    out: list[list[int]] = []
    for v in sorted(set(values)):
        if out and v == out[-1][1] + 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return [(lo, hi) for lo, hi in out]


def _addresses(nets, excludes, family: AFI) -> list[tuple[int, int]]:
    full = (0, (1 << _WIDTH[family]) - 1)
    if not excludes:
        return [_span(n) for n in nets] or [full]
    return [_span(n) for n in remaining(nets, excludes, family)]  # may be empty: everything excluded


def used_dims(rules) -> tuple[str, ...]:
    """The extra dimensions any of `rules` matches on (the others would be full in every box)."""
    used: set[str] = set()
    for r in rules:
        if any(s.icmp_types for s in r.specs):
            used.add("icmp_type")
        if any(s.icmp_code is not None for s in r.specs):
            used.add("icmp_code")
        if r.states:
            used.add("state")
        if r.tcp_flags is not None:
            used.update(f"flag_{f}" for f in r.tcp_flags.set + r.tcp_flags.clear)
        if r.fragment:
            used.add("fragment")
        if r.dscp:
            used.add("dscp")
        if r.hop_limit is not None:
            used.add("hop_limit")
    return tuple(d for d in EXTRA_DIMS if d in used)


def _rule_dims(rule: Rule, dims: tuple[str, ...]) -> list[list[tuple[int, int]]]:
    """Intervals per extra dimension that is not per service (ICMP type and code are, see _l4)."""
    out = []
    for d in dims:
        if d in ("icmp_type", "icmp_code"):
            continue
        if d == "state":
            out.append(_runs(CONN_STATES.index(s) for s in rule.states) if rule.states else [_FULL[d]])
        elif d.startswith("flag_"):
            v = getattr(rule.tcp_flags, d[5:]) if rule.tcp_flags is not None else None
            out.append([(int(v), int(v))] if v is not None else [_FULL[d]])
        elif d == "fragment":
            out.append([_FRAGMENT[rule.fragment]] if rule.fragment else [_FULL[d]])
        elif d == "dscp":
            out.append(_runs(rule.dscp) if rule.dscp else [_FULL[d]])
        elif d == "hop_limit":
            out.append([(rule.hop_limit.lo, rule.hop_limit.hi)] if rule.hop_limit is not None else [_FULL[d]])
    return out


def _l4(rule: Rule, dims: tuple[str, ...]) -> list[tuple[int, ...]]:
    """(protocol, source port, destination port[, ICMP type][, ICMP code]) intervals of each service."""
    icmp_t, icmp_c = "icmp_type" in dims, "icmp_code" in dims
    out: list[tuple[int, ...]] = []
    for s in rule.specs or ():
        p = PROTOCOL_NUMBERS.get(s.protocol)
        p = int(s.protocol) if p is None else p
        types = _runs(s.icmp_types) if s.icmp_types else [_FULL["icmp_type"]]
        code = (s.icmp_code, s.icmp_code) if s.icmp_code is not None else _FULL["icmp_code"]
        for sp in [(r.lo, r.hi) for r in s.source_ports] or _ANY_PORT:
            for dp in [(r.lo, r.hi) for r in s.destination_ports] or _ANY_PORT:
                for t in (types if icmp_t else [()]):
                    out.append((p, p) + sp + dp + t + (code if icmp_c else ()))
    if not rule.specs:
        out = [(0, 255, 0, 65535, 0, 65535) + (_FULL["icmp_type"] if icmp_t else ()) + (_FULL["icmp_code"] if icmp_c else ())]
    return out


def rule_boxes(rule: Rule, dims: tuple[str, ...] = ()) -> tuple[Box, ...]:
    """A resolved rule as a union of boxes over the five base dimensions and `dims` (see used_dims); empty
    tuples mean 'any'. No boxes: the rule matches nothing (its exclusions cover its addresses)."""
    srcs = _addresses(rule.sources, rule.source_excludes, rule.family)
    dsts = _addresses(rule.destinations, rule.destination_excludes, rule.family)
    tails: list[tuple[int, ...]] = [()]
    for intervals in _rule_dims(rule, dims):
        tails = [t + iv for t in tails for iv in intervals]
    l4 = _l4(rule, dims)
    return tuple(s + d + x + t for s in srcs for d in dsts for x in l4 for t in tails)


# Reachability is advice (NC2xx): a list too large for it is analysed partly and says so (NC209), never
# a hang. Boxes are counted before they are built (60 sources x 60 destinations x 60 ports is one
# 2 KB term and 216,000 boxes), and each list's analysis has a share of the change's work limit.
MAX_BOXES = 50_000
LIST_SHARE = 2_000_000


def _address_count(nets, excludes, family: str) -> int:
    if not excludes:
        return max(1, len(nets))
    # at most one prefix per bit of each excluded prefix, per address: counted without building them
    return max(1, len(nets)) * (1 + sum(x.prefixlen for x in excludes))


def rule_box_count(rule: Rule, dims: tuple[str, ...] = ()) -> int:
    """An upper bound of len(rule_boxes(rule, dims)), cheap to compute."""
    icmp = "icmp_type" in dims
    l4 = sum(max(1, len(s.source_ports)) * max(1, len(s.destination_ports))
             * (max(1, len(_runs(s.icmp_types))) if icmp else 1) for s in rule.specs) or 1
    rest = 1
    for intervals in _rule_dims(rule, dims):
        rest *= len(intervals)
    return (_address_count(rule.sources, rule.source_excludes, rule.family)
            * _address_count(rule.destinations, rule.destination_excludes, rule.family) * l4 * rest)


def check(ctx: Context) -> None:
    for fi, f in enumerate(ctx.change.firewall.filters):
        if f.state == "present" and f.terms:
            ctx.working_on(("firewall", "filters", fi, "name"), f"filter {f.name}")
            _filter(ctx, fi, f)
    for pi, pl in enumerate(ctx.change.routing.prefix_lists):
        if pl.state == "present" and pl.entries:
            ctx.working_on(("routing", "prefix_lists", pi, "name"), f"prefix-list {pl.name}")
            _prefix_list(ctx, pi, pl)
    for ri, rm in enumerate(ctx.change.routing.route_maps):
        if rm.state == "present":
            _route_map(ctx, ri, rm)


def _share(ctx: Context) -> Budget:
    """A list's share: at most half of what is left, so advice never uses up what the guardrails need."""
    return Budget(min(LIST_SHARE, ctx.work.left // 2), parent=ctx.work)


def _incomplete(ctx: Context, what: str, names: list[str], path: tuple) -> None:
    """One NC209 per list: which entries were not analysed."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    ctx.report("NC209", f"{what}: reachability analysis stopped at its work limit; not analysed: {shown}", path)


def _filter(ctx: Context, fi: int, f) -> None:
    if not all(term_resolvable(t, ctx) for t in f.terms):
        return  # NC101/NC102 already reported; analysing a partial filter would mislead
    per_family: dict[str, list[tuple[int, Rule]]] = {"ipv4": [], "ipv6": []}
    try:
        for ti, t in enumerate(f.terms):
            for r in term_rules(t, ctx.store):
                per_family[r.family].append((ti, r))
    except (InputError, KeyError):
        return
    verdicts: dict[int, dict[str, Result]] = {}
    for fam, rules in per_family.items():
        dims = used_dims(r for _, r in rules)
        sizes = [rule_box_count(r, dims) for _, r in rules]
        if sum(sizes) > MAX_BOXES:
            big = max(range(len(rules)), key=sizes.__getitem__)
            ti = rules[big][0]
            ctx.report("NC209", f"filter {f.name} ({fam}): reachability analysis skipped: its terms expand to "
                       f"{sum(sizes):,} address x port combinations (limit {MAX_BOXES:,}); term {f.terms[ti].name} "
                       f"alone has {sizes[big]:,}", ("firewall", "filters", fi, "terms", ti, "name"))
            continue
        items = []
        for _ti, r in rules:
            match_all = not r.sources and not r.destinations and not r.specs and not r.matches_beyond_l4
            items.append(Item(rule_boxes(r, dims), r.action, keep=r.log or r.counter or (match_all and r.action == "deny")))
        for res in analyse(items, "deny", FW_PREFIX_DIMS[fam], _share(ctx)):
            ti = rules[res.index][0]
            by = tuple(dict.fromkeys(rules[j][0] for j in res.by))
            verdicts.setdefault(ti, {})[fam] = Result(ti, res.verdict, by)
    stopped = [ti for ti, fams in verdicts.items() if all(r.verdict == "incomplete" for r in fams.values())]
    if stopped:
        _incomplete(ctx, f"filter {f.name}", [f.terms[ti].name for ti in stopped],
                    ("firewall", "filters", fi, "terms", stopped[0], "name"))
    for ti, fams in verdicts.items():
        t = f.terms[ti]
        if ti in stopped:
            continue
        n_fams = sum(1 for _, rules in per_family.items() if any(x == ti for x, _ in rules))
        where = "" if len(fams) == n_fams else f" (its {'/'.join(sorted(fams))} part)"
        path = ("firewall", "filters", fi, "terms", ti, "name")
        worst = min(fams.values(), key=lambda r: ("shadowed", "redundant", "fallthrough", "incomplete").index(r.verdict))
        by = tuple(dict.fromkeys(x for r in fams.values() for x in r.by))
        names = tuple(f.terms[j].name for j in by)
        cover = ", ".join(names)
        if worst.verdict == "shadowed":
            ctx.report("NC201", f"term {t.name} of {f.name}{where} can never match: earlier term(s) {cover} cover it "
                       f"and decide differently", path, names)
        elif worst.verdict == "redundant":
            ctx.report("NC202", f"term {t.name} of {f.name}{where} can never match: earlier term(s) {cover} cover it "
                       f"with the same action; remove it", path, names)
        elif worst.verdict == "fallthrough":
            ctx.report("NC203", f"term {t.name} of {f.name}{where} is redundant: without it the same packets get "
                       f"'{t.action}' anyway (from later terms or the filter's implicit deny)", path)
        else:  # incomplete in one family, decided in the other
            ctx.report("NC209", f"term {t.name} of {f.name}{where}: reachability analysis stopped at its work limit", path)


def prefix_entry_box(prefix, ge: int | None, le: int | None) -> Box | None:
    """A prefix-list entry over (route network address, route length); exact for valid routes."""
    lo, hi = _span(prefix)
    shortest, longest = length_range(prefix.prefixlen, prefix.max_prefixlen, ge, le)
    if shortest > longest or shortest < prefix.prefixlen or longest > prefix.max_prefixlen:
        return None
    return (lo, hi, shortest, longest)


def _prefix_list(ctx: Context, pi: int, pl: PrefixList) -> None:
    for fam in ("ipv4", "ipv6"):
        entries = [(ei, e) for ei, e in enumerate(pl.entries) if e.prefix.version == (4 if fam == "ipv4" else 6)]
        items, idx = [], []
        for ei, e in entries:
            b = prefix_entry_box(e.prefix, e.ge, e.le)
            if b is None:
                continue  # NC130 reported it
            match_all = e.prefix.prefixlen == 0 and b[2] == 0 and b[3] == e.prefix.max_prefixlen
            items.append(Item((b,), e.action, keep=match_all))
            idx.append(ei)
        results = analyse(items, "deny", ((0, _WIDTH[fam]),), _share(ctx))
        stopped = [idx[r.index] for r in results if r.verdict == "incomplete"]
        if stopped:
            _incomplete(ctx, f"prefix-list {pl.name}", [f"seq {pl.entries[ei].seq}" for ei in stopped],
                        ("routing", "prefix_lists", pi, "entries", stopped[0], "seq"))
        for res in results:
            e = pl.entries[idx[res.index]]
            path = ("routing", "prefix_lists", pi, "entries", idx[res.index], "seq")
            seqs = tuple(str(pl.entries[idx[j]].seq) for j in res.by)
            if res.verdict == "shadowed":
                ctx.report("NC205", f"prefix-list {pl.name} entry {e.seq} can never match: earlier entries {', '.join(seqs)} "
                           f"cover it and decide differently", path, seqs)
            elif res.verdict == "redundant":
                ctx.report("NC206", f"prefix-list {pl.name} entry {e.seq} can never match: earlier entries {', '.join(seqs)} "
                           f"cover it with the same action", path, seqs)
            elif res.verdict == "fallthrough":
                ctx.report("NC206", f"prefix-list {pl.name} entry {e.seq} is redundant: the routes it matches get "
                           f"'{e.action}' anyway (later entries or the implicit deny)", path)


def _route_map(ctx: Context, ri: int, rm: RouteMap) -> None:
    """An entry is unreachable when an earlier entry that ends evaluation (no continue) matches on a
    subset of its conditions: whatever reaches the later entry has already been decided. The earlier
    terminal entries are kept by condition set, and each entry looks up the subsets of its own (a match
    has at most five conditions): linear in the number of entries."""
    order = sorted(range(len(rm.entries)), key=lambda i: rm.entries[i].seq)
    terminal: dict[frozenset, int] = {}  # condition set -> first (lowest seq) terminal entry with it
    for i in order:
        e = rm.entries[i]
        conds = tuple(e.match.model_dump(exclude_none=True).items())
        hits = [terminal[k] for k in _subsets(conds) if k in terminal]
        if hits:
            j = min(hits, key=lambda x: rm.entries[x].seq)
            earlier = rm.entries[j]
            what = "matches every route" if not earlier.match.model_dump(exclude_none=True) else "matches on a subset of its conditions"
            ctx.report("NC204", f"route-map {rm.name} entry {e.seq} is never reached: entry {earlier.seq} {what} "
                       f"and ends evaluation", ("routing", "route_maps", ri, "entries", i, "seq"), (str(earlier.seq),))
        if e.continue_ is None:
            terminal.setdefault(frozenset(conds), i)


def _subsets(items: tuple) -> list[frozenset]:
    return [frozenset(c) for n in range(len(items) + 1) for c in itertools.combinations(items, n)]
