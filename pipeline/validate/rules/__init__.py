"""Semantic checks, one module per area. Each check is `check(ctx: Context) -> None` and reports into ctx."""

from . import guardrail_rules, platforms, references, shadowing, structure, targeting

CHECKS = (
    ("structure", structure.check),
    ("references", references.check),
    ("targeting", targeting.check),
    ("platforms", platforms.check),
    ("shadowing", shadowing.check),
    ("guardrails", guardrail_rules.check),
)
