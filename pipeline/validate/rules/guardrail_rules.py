"""policies/guardrails.yaml applied to a change: rules that hold whoever approves the merge request."""

from __future__ import annotations

from ...model.resolve import term_rules
from ...model.routing import PrefixList, RouteMap
from ..boxes import BoxIndex, Budget, BudgetExceeded, covered
from ..context import Context
from .references import term_resolvable
from .shadowing import _span, prefix_entry_box

_KIND_ATTR = {"prefix_list": "prefix_lists", "community_list": "community_lists", "as_path_list": "as_path_lists",
              "route_map": "route_maps"}


def check(ctx: Context) -> None:
    g = ctx.guardrails
    if g.forbid_accept_any_any:
        _accept_any_any(ctx)
    _external_lengths(ctx)
    for pp in g.protected_prefixes:
        if "denied" in pp.never:
            _protected_denied(ctx, pp)
        if "announced" in pp.never:
            _protected_announced(ctx, pp)
    _protected_objects(ctx)


def _terms(ctx: Context):
    for fi, f in enumerate(ctx.change.firewall.filters):
        if f.state != "present":
            continue
        for ti, t in enumerate(f.terms):
            if term_resolvable(t, ctx):
                try:
                    yield fi, f, ti, t, term_rules(t, ctx.store)
                except Exception:  # self-referencing objects: reported by references
                    continue


def _accept_any_any(ctx: Context) -> None:
    for fi, f, ti, t, rules in _terms(ctx):
        for r in rules:
            anysrc = not r.sources or any(n.prefixlen == 0 for n in r.sources)
            anydst = not r.destinations or any(n.prefixlen == 0 for n in r.destinations)
            # a state, flags, fragment, DSCP or TTL match narrows it (`ct state established,related accept` is
            # the stateful firewall's first rule, not an open door); an exclusion does not
            narrowed = r.states or r.tcp_flags or r.fragment or r.dscp or r.hop_limit
            if r.action == "accept" and anysrc and anydst and not r.specs and not narrowed:
                ctx.report("NC301", f"term {t.name} of {f.name} accepts any protocol from any source to any destination "
                           f"({r.family})", ("firewall", "filters", fi, "terms", ti, "action"))
                break


class _ListBoxes:
    """One prefix-list's entries as boxes over (address, length), with an index per family: 'is this
    route decided by entry i?' looks only at the earlier entries that overlap it."""

    def __init__(self, pl: PrefixList):
        self.boxes = [prefix_entry_box(e.prefix, e.ge, e.le) for e in pl.entries]
        self.index: dict[int, tuple[BoxIndex, list[int]]] = {}
        for fam, width in ((4, 32), (6, 128)):
            ids = [i for i, e in enumerate(pl.entries) if e.prefix.version == fam and self.boxes[i] is not None]
            self.index[fam] = (BoxIndex.build([b for i in ids if (b := self.boxes[i]) is not None], ((0, width),)), ids)


def _boxes_of(ctx: Context, pl: PrefixList) -> _ListBoxes:
    cache = ctx.memo.setdefault("list_boxes", {})
    if id(pl) not in cache:
        ctx.work.spend(len(pl.entries))
        cache[id(pl)] = (pl, _ListBoxes(pl))
    return cache[id(pl)][1]


def _decided_here(ctx: Context, pl: PrefixList, ei: int, box) -> bool:
    """Does entry ei decide some route of *box* (i.e. is box not covered by earlier entries)?"""
    lb = _boxes_of(ctx, pl)
    index, ids = lb.index[pl.entries[ei].prefix.version]
    budget = Budget(200_000, parent=ctx.work)
    try:
        earlier = [(index.boxes[k], ids[k]) for k in index.overlapping(box, budget, lambda k: ids[k] < ei)]
        return not covered(box, earlier, budget)
    except BudgetExceeded:
        return True  # undecided counts as decided here: a guardrail errs on the side of reporting


def _permitted_within(ctx: Context, pl: PrefixList, target) -> list[int]:
    """Permit entries of pl that decide some route inside the box *target* (address range x lengths)."""
    lb = _boxes_of(ctx, pl)
    ctx.work.spend(len(pl.entries))
    out = []
    for ei, e in enumerate(pl.entries):
        b = lb.boxes[ei]
        if e.action != "permit" or b is None or len(b) != len(target):
            continue
        x = (max(b[0], target[0]), min(b[1], target[1]), max(b[2], target[2]), min(b[3], target[3]))
        if x[0] <= x[1] and x[2] <= x[3] and _decided_here(ctx, pl, ei, x):
            out.append(ei)
    return out


def _pl_path(ctx: Context, pl: PrefixList, ei: int, key: str) -> tuple:
    for pi, p in enumerate(ctx.change.routing.prefix_lists):
        if p is pl:
            return ("routing", "prefix_lists", pi, "entries", ei, key)
    return ()


def _rm_index(ctx: Context, rm: RouteMap) -> int:
    return next(i for i, r in enumerate(ctx.change.routing.route_maps) if r is rm)


def _external_lengths(ctx: Context) -> None:
    limits = ctx.guardrails.max_prefix_length_from_external
    seen: set = set()
    for bi, b in enumerate(ctx.change.routing.bindings):
        if b.state != "present" or b.direction != "in" or not b.route_map:
            continue
        rm = ctx.route_map(b.route_map)
        if rm is None:
            continue
        for afi in ("ipv4", "ipv6"):
            external = sorted({h.name for h, n, f in ctx.binding_neighbors(b) if f == afi and h.data.bgp is not None and h.data.bgp.is_external(n)})
            if external and afi in limits:
                _external_length(ctx, limits, seen, bi, b, rm, afi, external)


def _external_length(ctx: Context, limits, seen: set, bi: int, b, rm, afi: str, external: list[str]) -> None:
    limit, maxlen = limits[afi], (32 if afi == "ipv4" else 128)
    who = f"external neighbor {b.neighbor} ({afi}, on {', '.join(external)})"
    ri = _rm_index(ctx, rm)
    ctx.working_on(("routing", "bindings", bi, "route_map"), f"route-map {rm.name} against external neighbor {b.neighbor}")
    for ei, e in enumerate(rm.entries):
        if e.action != "permit":
            continue
        if e.match.prefix_list is None:
            key: tuple[object, ...] = (rm.name, e.seq, afi, None)
            if key not in seen:
                seen.add(key)
                ctx.report("NC302", f"route-map {rm.name} entry {e.seq} permits routes of any length from {who}: "
                           f"match a prefix-list that stops at /{limit}", ("routing", "route_maps", ri, "entries", ei, "seq"))
            continue
        pl = ctx.prefix_list(e.match.prefix_list)
        if pl is None or pl.family != afi:
            continue
        too_long = (0, (1 << maxlen) - 1, limit + 1, maxlen)
        for pe in _permitted_within(ctx, pl, too_long):
            key = (rm.name, e.seq, afi, pl.name, pe)
            if key in seen:
                continue
            seen.add(key)
            entry = pl.entries[pe]
            path = _pl_path(ctx, pl, pe, "le" if entry.le is not None else "prefix") or \
                ("routing", "route_maps", ri, "entries", ei, "match", "prefix_list")
            ctx.report("NC302", f"prefix-list {pl.name} entry {entry.seq} ({entry.prefix}"
                       f"{f' ge {entry.ge}' if entry.ge is not None else ''}{f' le {entry.le}' if entry.le is not None else ''}) "
                       f"permits prefixes longer than /{limit} from {who} via route-map {rm.name} entry {e.seq}", path)


def _protected_box(pp):
    lo, hi = _span(pp.prefix)
    return (lo, hi, pp.prefix.prefixlen, pp.prefix.max_prefixlen)


def _protected_denied(ctx: Context, pp) -> None:
    prot = pp.prefix
    why = f" ({pp.reason})" if pp.reason else ""
    for fi, f, ti, t, rules in _terms(ctx):
        if t.action not in ("deny", "reject"):
            continue
        hits = {str(n) for r in rules for n in r.sources + r.destinations
                if n.version == prot.version and n.prefixlen > 0 and n.overlaps(prot)}
        if hits:
            ctx.report("NC303", f"term {t.name} of {f.name} {t.action}s traffic of protected prefix {prot}{why} "
                       f"(matches {', '.join(sorted(hits))})", ("firewall", "filters", fi, "terms", ti, "action"))
    for ri, rm in enumerate(ctx.change.routing.route_maps):
        if rm.state != "present":
            continue
        ctx.working_on(("routing", "route_maps", ri, "name"), f"route-map {rm.name} against protected prefix {prot}")
        for ei, e in enumerate(rm.entries):
            pl = ctx.prefix_list(e.match.prefix_list) if e.action == "deny" and e.match.prefix_list else None
            if pl is None or pl.family != ("ipv4" if prot.version == 4 else "ipv6"):
                continue
            entries_hit = [pe for pe in _permitted_within(ctx, pl, _protected_box(pp)) if pl.entries[pe].prefix.prefixlen > 0]
            if entries_hit:
                ctx.report("NC303", f"route-map {rm.name} entry {e.seq} denies protected prefix {prot}{why} "
                           f"(prefix-list {pl.name} entry {', '.join(str(pl.entries[h].seq) for h in entries_hit)})",
                           ("routing", "route_maps", ri, "entries", ei, "action"))


def _protected_announced(ctx: Context, pp) -> None:
    prot = pp.prefix
    fam = "ipv4" if prot.version == 4 else "ipv6"
    why = f" ({pp.reason})" if pp.reason else ""
    done: set[str] = set()
    for b in ctx.change.routing.bindings:
        if b.state != "present" or b.direction != "out" or b.afi not in (None, fam) or not b.route_map or b.route_map in done:
            continue
        done.add(b.route_map)
        rm = ctx.route_map(b.route_map)
        if rm is None:
            continue
        ri = _rm_index(ctx, rm)
        ctx.working_on(("routing", "route_maps", ri, "name"), f"route-map {rm.name} against protected prefix {prot}")
        for ei, e in enumerate(rm.entries):
            if e.action != "permit":
                continue
            path = ("routing", "route_maps", ri, "entries", ei, "seq")
            conditions = e.match.model_dump(exclude_none=True)
            if not conditions:
                ctx.report("NC304", f"route-map {rm.name} (bound out to {b.neighbor}) entry {e.seq} permits every route, "
                           f"so it would announce protected prefix {prot}{why}; match a prefix-list", path)
                continue
            pl = ctx.prefix_list(e.match.prefix_list) if e.match.prefix_list else None
            if pl is None or pl.family != fam:
                continue  # attribute-only matches (communities, AS path) are not judged
            hits = _permitted_within(ctx, pl, _protected_box(pp))
            if hits:
                ctx.report("NC304", f"route-map {rm.name} (bound out to {b.neighbor}) entry {e.seq} announces protected "
                           f"prefix {prot}{why} (prefix-list {pl.name} entry "
                           f"{', '.join(str(pl.entries[h].seq) for h in hits)})", path)


def _protected_objects(ctx: Context) -> None:
    protected = {(o.kind, o.name): o for o in ctx.guardrails.protected_objects}
    host_filters = {f: h.name for h in ctx.hosts for f in h.data.firewall.protected_filters}
    for fi, f in enumerate(ctx.change.firewall.filters):
        if ("filter", f.name) in protected or f.name in host_filters:
            where = "policies/guardrails.yaml" if ("filter", f.name) in protected else f"the inventory of {host_filters[f.name]}"
            ctx.report("NC305", f"filter {f.name} is protected by {where}; no change request may touch it",
                       ("firewall", "filters", fi, "name"))
    for kind, attr in _KIND_ATTR.items():
        for i, o in enumerate(getattr(ctx.change.routing, attr)):
            if (kind, o.name) in protected:
                ctx.report("NC305", f"{kind.replace('_', '-')} {o.name} is protected by policies/guardrails.yaml; "
                           f"no change request may touch it", ("routing", attr, i, "name"))
    for bi, b in enumerate(ctx.change.routing.bindings):
        if b.route_map and ("route_map", b.route_map) in protected:
            ctx.report("NC305", f"binding for {b.neighbor} uses protected route-map {b.route_map}",
                       ("routing", "bindings", bi, "route_map"))
