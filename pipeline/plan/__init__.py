"""Plan: running config -> model, object diff, dependency-ordered remediation per device."""
