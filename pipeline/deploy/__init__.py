"""Deploy with commit-then-refresh: guard, commit everywhere, barrier, refresh, post-check, rollback."""
