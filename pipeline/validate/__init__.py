"""Validation of change requests: schema, semantics, shadowing, guardrails, reports."""
