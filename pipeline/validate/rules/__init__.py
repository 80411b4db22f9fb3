"""Semantic checks, one module per area. Each check is `check(ctx: Context) -> None` and reports into ctx."""

from . import guardrail_rules, references, shadowing, structure, targeting

CHECKS = (
    ("structure", structure.check),
    ("references", references.check),
    ("targeting", targeting.check),
    ("shadowing", shadowing.check),
    ("guardrails", guardrail_rules.check),
)
