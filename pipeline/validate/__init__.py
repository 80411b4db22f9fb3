"""Validation of change requests: schema, semantics, shadowing, guardrails, reports."""

from .findings import Finding
from .validator import Validator, validate_change

__all__ = ["Finding", "Validator", "validate_change"]
