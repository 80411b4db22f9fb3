"""Checks against the inventory: targets select hosts, bindings name real neighbors, attach points exist."""

from __future__ import annotations

from ..context import Context

_AFI = {"ipv4": "ipv4_unicast", "ipv6": "ipv6_unicast"}


def check(ctx: Context) -> None:
    t = ctx.change.targets
    inv = ctx.inventory
    for i, h in enumerate(t.hosts):
        if h not in inv.hosts:
            ctx.report("NC151", f"host '{h}' is not in the inventory", ("targets", "hosts", i))
    known = {
        "groups": {g for h in inv.hosts.values() for g in h.groups},
        "roles": {h.data.role for h in inv.hosts.values()},
        "sites": {h.data.site for h in inv.hosts.values()},
    }
    for sel in ("groups", "roles", "sites"):
        for i, v in enumerate(getattr(t, sel)):
            if v not in known[sel]:
                ctx.report("NC152", f"{sel[:-1]} '{v}' selects no host", ("targets", sel, i))
    if not ctx.hosts:
        ctx.report("NC150", "targets select no host in the inventory; the change would do nothing", ("targets",))
        return
    _bindings(ctx)
    _attachments(ctx)


def _bindings(ctx: Context) -> None:
    # Routing objects go to the targets that speak BGP (pipeline.model.resolve.applies_to); others skip them.
    speakers = [h for h in ctx.hosts if h.data.bgp is not None]
    for bi, b in enumerate(ctx.change.routing.bindings):
        base = ("routing", "bindings", bi)
        if not speakers:
            ctx.report("NC140", f"no targeted host speaks BGP, so none has neighbor {b.neighbor}", base + ("neighbor",))
        for h in speakers:
            assert h.data.bgp is not None  # a speaker
            n = h.data.bgp.neighbor(str(b.neighbor))
            if n is None:
                ctx.report("NC140", f"host {h.name} has no BGP neighbor {b.neighbor}", base + ("neighbor",))
            elif _AFI[b.afi] not in n.afis:
                ctx.report("NC141", f"neighbor {b.neighbor} on {h.name} is configured for {', '.join(n.afis)}, not {_AFI[b.afi]}",
                           base + ("afi",) if "afi" in _keys(ctx, base) else base)


def _keys(ctx: Context, path: tuple) -> set:
    node = ctx.document()
    for k in path:
        try:
            node = node[k]
        except (KeyError, IndexError, TypeError):
            return set()
    return set(node) if isinstance(node, dict) else set()


def _attachments(ctx: Context) -> None:
    for fi, f in enumerate(ctx.change.firewall.filters):
        if f.state != "present":
            continue
        # A filter goes to the targets that filter traffic (have attachment points); routers without any
        # are skipped. A filtering target lacking the point, or no target having it, is an error.
        filtering = [h for h in ctx.hosts if h.data.firewall.attachments]
        for ai, a in enumerate(f.attach):
            missing = [h.name for h in filtering if a not in h.data.firewall.attachments]
            where = ("firewall", "filters", fi, "attach", ai)
            if not filtering:
                ctx.report("NC142", f"filter {f.name}: no targeted host has attachment points, so none has '{a}'", where)
            elif missing:
                ctx.report("NC142", f"filter {f.name}: attachment point '{a}' is not defined on {', '.join(sorted(missing))}", where)
