"""A finding: one rule broken at one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Location
from .catalogue import RULES, Severity


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    location: Location
    severity: Severity = field(default="error")
    related: tuple[str, ...] = ()  # e.g. the earlier terms that shadow this one

    @classmethod
    def of(cls, rule: str, message: str, location: Location, related: tuple[str, ...] = ()) -> "Finding":
        return cls(rule, message, location, RULES[rule].severity, related)

    @property
    def name(self) -> str:
        return RULES[self.rule].name

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line or 0, loc.column or 0, self.rule, self.message)


def is_error(rule: str) -> bool:
    return RULES[rule].severity == "error"
