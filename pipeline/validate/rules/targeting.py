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
    _object_scopes(ctx)
    _attachments(ctx)


def _bindings(ctx: Context) -> None:
    # Routing objects go to the targets that speak BGP (pipeline.model.resolve.applies_to); others skip them.
    from ...model.resolve import binding_applies, named_neighbors

    speakers = [h for h in ctx.hosts if h.data.bgp is not None]
    for bi, b in enumerate(ctx.change.routing.bindings):
        base = ("routing", "bindings", bi)
        if not speakers:
            ctx.report("NC140", f"no targeted host speaks BGP, so none has neighbor {b.neighbor}", base + ("neighbor",))
        if b.scope is not None:
            _scope(ctx, b.scope, base + ("scope",), f"binding for neighbor {b.neighbor}")
        applies = [h for h in speakers if binding_applies(b, h)]
        if speakers and not applies:
            ctx.report("NC154", f"binding for neighbor {b.neighbor} applies on no targeted BGP speaker "
                                f"(scope: {b.scope.describe() if b.scope else 'every target'})", base + ("scope",) if b.scope else base)
        for h in applies:
            if b.by_name:
                found = named_neighbors(h, str(b.neighbor), ctx.inventory.hosts)
                if not found:
                    ctx.report("NC140", f"host {h.name} has no BGP neighbor named {b.neighbor} (no neighbor with that "
                                        "description, and no single inventory host of that name whose AS it peers with)",
                               base + ("neighbor",))
                elif b.afi and not any(_AFI[b.afi] in n.afis for n in found):
                    ctx.report("NC141", f"neighbor {b.neighbor} on {h.name} is configured for "
                                        f"{', '.join(sorted({a for n in found for a in n.afis}))}, not {_AFI[b.afi]}",
                               base + ("afi",))
                continue
            assert h.data.bgp is not None  # a speaker
            n = h.data.bgp.neighbor(str(b.neighbor))
            afi = b.address_afi
            if n is None:
                ctx.report("NC140", f"host {h.name} has no BGP neighbor {b.neighbor}", base + ("neighbor",))
            elif _AFI[afi] not in n.afis:
                ctx.report("NC141", f"neighbor {b.neighbor} on {h.name} is configured for {', '.join(n.afis)}, not {_AFI[afi]}",
                           base + ("afi",) if "afi" in _keys(ctx, base) else base)


def _scope(ctx: Context, scope, path: tuple, what: str) -> None:
    """A scope narrows the targets: every host it names must exist and be a target; a selector must select one."""
    targeted = {h.name for h in ctx.hosts}
    for i, h in enumerate(scope.hosts):
        if h not in ctx.inventory.hosts:
            ctx.report("NC151", f"{what}: scoped host '{h}' is not in the inventory", path + ("hosts", i))
        elif h not in targeted:
            ctx.report("NC153", f"{what}: scoped host '{h}' is not a target of the change", path + ("hosts", i))
    for sel, attr in (("groups", lambda h: h.groups), ("roles", lambda h: (h.data.role,)), ("sites", lambda h: (h.data.site,))):
        for i, v in enumerate(getattr(scope, sel)):
            if not any(v in attr(h) for h in ctx.hosts):
                ctx.report("NC153", f"{what}: {sel[:-1]} '{v}' selects no target of the change", path + (sel, i))


def _object_scopes(ctx: Context) -> None:
    c = ctx.change
    for attr in ("prefix_lists", "community_lists", "as_path_lists", "route_maps"):
        for i, o in enumerate(getattr(c.routing, attr)):
            if o.scope is not None:
                _scope(ctx, o.scope, ("routing", attr, i, "scope"), f"{attr[:-1].replace('_', '-')} {o.name}")
    for i, f in enumerate(c.firewall.filters):
        if f.scope is not None:
            _scope(ctx, f.scope, ("firewall", "filters", i, "scope"), f"filter {f.name}")


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
        filtering = [h for h in ctx.hosts if h.data.firewall.attachments and (f.scope is None or f.scope.selects(h))]
        for ai, a in enumerate(f.attach):
            missing = [h.name for h in filtering if a not in h.data.firewall.attachments]
            where = ("firewall", "filters", fi, "attach", ai)
            if not filtering:
                ctx.report("NC142", f"filter {f.name}: no targeted host has attachment points, so none has '{a}'", where)
            elif missing:
                ctx.report("NC142", f"filter {f.name}: attachment point '{a}' is not defined on {', '.join(sorted(missing))}", where)
