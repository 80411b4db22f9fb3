"""Checks that need only the change itself: identity, duplicates, prefix-length bounds, dates, continue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...model.base import afi_of
from ..context import Context

_ROUTING_LISTS = (("prefix_lists", "prefix-list"), ("community_lists", "community-list"),
                  ("as_path_lists", "as-path list"), ("route_maps", "route-map"))


def check(ctx: Context) -> None:
    c = ctx.change
    if c.id != Path(ctx.file).stem:
        ctx.report("NC003", f"id '{c.id}' must equal the file name '{Path(ctx.file).stem}'", ("id",))
    if c.window is not None and c.window._aware(c.window.not_after) < ctx.now:
        ctx.report("NC161", f"the change window ended {c.window.not_after.isoformat()}; renew it before deploying",
                   ("window", "not_after"))
    _duplicates(ctx)
    _filters(ctx)
    _prefix_lists(ctx)
    _route_maps(ctx)


def _dupes(names: list) -> set:
    return {n for n, k in Counter(names).items() if k > 1}


def _report_dupes(ctx: Context, values: list, base: tuple, key: str, rule: str, what: str) -> None:
    seen: set = set()
    dup = _dupes(values)
    for i, v in enumerate(values):
        if v in dup:
            if v in seen:
                ctx.report(rule, f"{what} {v} appears more than once", base + (i, key))
            seen.add(v)


def _duplicates(ctx: Context) -> None:
    c = ctx.change
    _report_dupes(ctx, [f.name for f in c.firewall.filters], ("firewall", "filters"), "name", "NC111", "filter")
    for attr, what in _ROUTING_LISTS:
        objs = getattr(c.routing, attr)
        _report_dupes(ctx, [o.name for o in objs], ("routing", attr), "name", "NC111", what)
        for i, o in enumerate(objs):
            seqs = [e.seq for e in o.entries]
            present = [s for s in seqs if s is not None]
            if _dupes(present):
                _report_dupes(ctx, seqs, ("routing", attr, i, "entries"), "seq", "NC110", f"{what} {o.name}: seq")
    seen_keys: set = set()
    for i, b in enumerate(c.routing.bindings):
        k = b.key + ((b.scope.describe(),) if b.scope else ())
        if k in seen_keys:
            ctx.report("NC111", f"binding for neighbor {k[0]} {k[1]} {k[2]} appears more than once", ("routing", "bindings", i))
        seen_keys.add(k)


def _filters(ctx: Context) -> None:
    for fi, f in enumerate(ctx.change.firewall.filters):
        _report_dupes(ctx, [t.name for t in f.terms], ("firewall", "filters", fi, "terms"), "name", "NC111",
                      f"filter {f.name}: term")
        for ti, t in enumerate(f.terms):
            if t.expires is not None and t.expires < ctx.today:
                ctx.report("NC160", f"term {t.name} of {f.name} expired on {t.expires.isoformat()}; remove it or extend it",
                           ("firewall", "filters", fi, "terms", ti, "expires"))


def length_range(prefixlen: int, maxlen: int, ge: int | None, le: int | None) -> tuple[int, int]:
    """Route lengths an entry matches (IOS/FRR semantics): exact without ge/le; ge alone runs to the max."""
    if ge is None and le is None:
        return prefixlen, prefixlen
    return (ge if ge is not None else prefixlen), (le if le is not None else maxlen)


def _prefix_lists(ctx: Context) -> None:
    for pi, pl in enumerate(ctx.change.routing.prefix_lists):
        fams = {afi_of(e.prefix) for e in pl.entries}
        for ei, e in enumerate(pl.entries):
            base = ("routing", "prefix_lists", pi, "entries", ei)
            fam = afi_of(e.prefix)
            if pl.afi and fam != pl.afi:
                ctx.report("NC120", f"prefix-list {pl.name} is {pl.afi} but entry {e.seq} is the {fam} prefix {e.prefix}",
                           base + ("prefix",))
            elif not pl.afi and len(fams) > 1 and fam != pl.family:
                ctx.report("NC120", f"prefix-list {pl.name} mixes IPv4 and IPv6 entries (entry {e.seq}: {e.prefix}); "
                           f"split it or set afi", base + ("prefix",))
            plen, mx = e.prefix.prefixlen, e.prefix.max_prefixlen
            for key, val in (("ge", e.ge), ("le", e.le)):
                if val is not None and not (plen < val <= mx):
                    ctx.report("NC130", f"prefix-list {pl.name} entry {e.seq}: {key} {val} must be greater than the prefix "
                               f"length {plen} and at most {mx} (len < ge <= le <= {mx})", base + (key,))
            if e.ge is not None and e.le is not None and e.ge > e.le:
                ctx.report("NC130", f"prefix-list {pl.name} entry {e.seq}: ge {e.ge} is greater than le {e.le}", base + ("ge",))


def _route_maps(ctx: Context) -> None:
    for ri, rm in enumerate(ctx.change.routing.route_maps):
        seqs = {e.seq for e in rm.entries}
        for ei, e in enumerate(rm.entries):
            if e.continue_ is None:
                continue
            if e.continue_ <= e.seq:
                ctx.report("NC170", f"route-map {rm.name} entry {e.seq} continues to {e.continue_}, which is not after it",
                           ("routing", "route_maps", ri, "entries", ei, "continue"))
            elif e.continue_ not in seqs:
                ctx.report("NC170", f"route-map {rm.name} entry {e.seq} continues to {e.continue_}, which does not exist "
                           f"(platforms differ on where that goes)", ("routing", "route_maps", ri, "entries", ei, "continue"))
