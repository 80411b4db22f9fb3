"""Every validation rule as data: id, short name, severity, GitLab Code Quality severity, summary.

Checks refer to rules by id only; severities live here so a policy decision ("is this an error?")
is a one-line change that the docs, the reports and the tests all follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
CodeQualitySeverity = Literal["info", "minor", "major", "critical", "blocker"]


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str
    severity: Severity
    quality: CodeQualitySeverity
    summary: str


_RULES = (
    # Input: the file itself.
    RuleInfo("NC001", "yaml-syntax", "error", "critical", "malformed YAML, duplicate key, anchor/alias, bad encoding or oversized file"),
    RuleInfo("NC002", "schema", "error", "critical", "wrong type, missing or unknown field"),
    RuleInfo("NC003", "id-filename", "error", "major", "change id differs from the file name"),
    RuleInfo("NC004", "unsafe-text", "error", "critical", "name or text that could break a device configuration line"),
    # References.
    RuleInfo("NC101", "undefined-network", "error", "major", "network object referenced but not defined"),
    RuleInfo("NC102", "undefined-service", "error", "major", "service object referenced but not defined"),
    RuleInfo("NC103", "undefined-routing-object", "error", "critical", "route-map matches a prefix/community/AS-path list defined nowhere"),
    RuleInfo("NC104", "undefined-route-map", "warning", "minor", "binding names a route-map that neither the change nor the shared objects define"),
    RuleInfo("NC105", "removed-but-used", "error", "major", "object removed or emptied while the change or the shared baseline still uses it"),
    # Structure and consistency.
    RuleInfo("NC110", "duplicate-seq", "error", "major", "two entries with the same sequence number"),
    RuleInfo("NC111", "duplicate-name", "error", "major", "two terms, objects or bindings with the same name/key"),
    RuleInfo("NC120", "prefix-list-family", "error", "major", "prefix-list entry of another address family than its list"),
    RuleInfo("NC121", "term-family-mix", "error", "critical", "term mixes address families between sources and destinations"),
    RuleInfo("NC122", "term-matches-nothing", "error", "major", "term resolves to no rule in any address family"),
    RuleInfo("NC123", "match-needs-protocol", "error", "major", "TCP flags or ICMP types on services of another protocol"),
    RuleInfo("NC130", "prefix-length-bounds", "error", "major", "ge/le outside len < ge <= le <= max"),
    RuleInfo("NC131", "host-bits", "error", "major", "prefix with host bits set"),
    RuleInfo("NC132", "port-range", "error", "major", "bad port or port range"),
    RuleInfo("NC140", "unknown-neighbor", "error", "critical", "binding to a neighbor a targeted host does not have"),
    RuleInfo("NC141", "neighbor-afi", "error", "major", "binding in an address family the neighbor is not configured for"),
    RuleInfo("NC142", "unknown-attachment", "error", "major", "filter attached to a point a targeted host does not define"),
    RuleInfo("NC150", "no-target", "error", "critical", "targets select no host"),
    RuleInfo("NC151", "unknown-host", "error", "major", "targeted host not in the inventory"),
    RuleInfo("NC152", "empty-selector", "warning", "minor", "a group, role or site selects no host"),
    RuleInfo("NC153", "scope-outside-targets", "error", "major", "a binding's or object's scope names a host that is not a target, or selects none"),
    RuleInfo("NC154", "binding-applies-nowhere", "error", "major", "a binding's scope leaves no targeted BGP speaker to apply on"),
    RuleInfo("NC160", "expired-term", "error", "major", "term past its expiry date"),
    RuleInfo("NC161", "window-past", "warning", "minor", "change window already ended"),
    RuleInfo("NC180", "platform-cannot-express", "error", "major", "term matches on something a targeted platform cannot express"),
    RuleInfo("NC170", "bad-continue", "error", "major", "route-map continue to a missing or earlier sequence"),
    RuleInfo("NC171", "regex-super-linear", "error", "critical", "AS-path/community regex a backtracking engine runs in super-linear time"),
    # Reachability.
    RuleInfo("NC201", "shadowed-term", "error", "critical", "term can never match: earlier terms with another action cover it"),
    RuleInfo("NC202", "redundant-term", "warning", "minor", "term can never match: earlier terms with the same action cover it"),
    RuleInfo("NC203", "redundant-fallthrough", "warning", "minor", "removing the term changes nothing: what it matches gets the same action anyway"),
    RuleInfo("NC204", "unreachable-route-map-entry", "error", "major", "route-map entry after an entry that always matches first"),
    RuleInfo("NC205", "shadowed-prefix-list-entry", "error", "major", "prefix-list entry can never match: earlier entries with another action cover it"),
    RuleInfo("NC206", "redundant-prefix-list-entry", "warning", "minor", "prefix-list entry that changes nothing"),
    RuleInfo("NC209", "analysis-incomplete", "info", "info", "reachability analysis gave up (work budget exceeded)"),
    RuleInfo("NC210", "too-complex", "error", "major", "change too large to validate within the work budget (split it)"),
    # Guardrails (policies/guardrails.yaml).
    RuleInfo("NC301", "accept-any-any", "error", "blocker", "term accepts any protocol from any source to any destination"),
    RuleInfo("NC302", "external-prefix-length", "error", "blocker", "too-specific prefixes accepted from an external neighbor"),
    RuleInfo("NC303", "protected-prefix-denied", "error", "blocker", "protected prefix denied by a filter or route-map"),
    RuleInfo("NC304", "protected-prefix-announced", "error", "blocker", "protected prefix permitted by an outbound route-map"),
    RuleInfo("NC305", "protected-object", "error", "blocker", "change touches a protected object"),
    # Our own bug: a check crashed. Reported, never a traceback, and tests assert it never appears.
    RuleInfo("NC900", "internal-error", "error", "critical", "a validation check failed unexpectedly"),
)

RULES: dict[str, RuleInfo] = {r.id: r for r in _RULES}
