"""What tests need to share one lab safely: its prefix, whether namespaces work here, and a lock per prefix.

A plain module (not conftest.py) so test files can import it by a name no other file shares."""

from __future__ import annotations

import contextlib
import os
import time

import pytest

TEST_LAB_PREFIX = os.environ.get("NETCHANGE_TEST_LAB_PREFIX", "nclt")  # not `nc`: never touch a developer's lab


def lab_unavailable_reason() -> str | None:
    from pipeline.lab import namespaces_available

    ok, reason = namespaces_available()
    return None if ok else reason


@contextlib.contextmanager
def _exclusive(prefix: str, timeout: float = 600):
    """flock on /run/lock/netchange-lab-<prefix>.lock; released by the kernel even if pytest is killed."""
    import fcntl

    with open(f"/run/lock/netchange-lab-{prefix}.lock", "w") as f:
        t0 = time.monotonic()
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - t0 > timeout:
                    pytest.fail(f"lab prefix {prefix} busy for {timeout:.0f}s (another test session holds it)")
                time.sleep(0.5)
        yield
