"""What the targeted platforms can express: every term is checked against each platform it goes to, with
the same capability table (`term_refusals`) the driver refuses a plan with, so validate and plan agree."""

from __future__ import annotations

from ...drivers import get_driver
from ...errors import InputError
from ...model.policy import ConcreteFilter
from ...model.resolve import applies_to, term_rules
from ..context import Context
from .references import term_resolvable


def check(ctx: Context) -> None:
    for fi, f in enumerate(ctx.change.firewall.filters):
        if f.state != "present" or not all(term_resolvable(t, ctx) for t in f.terms):
            continue
        platforms = sorted({h.platform.value for h in ctx.hosts if applies_to("filter", f, h)})
        if not platforms:
            continue
        for ti, t in enumerate(f.terms):
            try:
                rules = term_rules(t, ctx.store)
            except InputError:
                continue  # references / NC123 say why
            one = ConcreteFilter(name=f.name, rules=tuple(rules))
            for platform in platforms:
                driver = get_driver(platform)
                problems: list[str] = getattr(driver, "filter_problems", lambda _f: [])(one)
                for p in problems:
                    ctx.report("NC180", p, ("firewall", "filters", fi, "terms", ti, "name"))
