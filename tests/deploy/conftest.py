"""Deploy tests run against the real lab (session fixture `lab`); each test leaves devices as it found them."""

from __future__ import annotations

import pytest

from lab_env import restored


@pytest.fixture
def env(lab, tmp_path):
    with restored(lab, tmp_path) as e:
        yield e


@pytest.fixture(scope="module", params=["careful", "production"])
def lab_profile(lab, request):
    """Run a test on each lab profile (inventory/topology.yaml `profiles:`): `careful` keeps every Adj-RIB-In
    and delay-timer 0; `production` neither (a refresh is a ROUTE-REFRESH, FRR's 5 s delay timer). The lab is
    switched back to `careful` afterwards (what every other test expects)."""
    lab.lab.apply_profile(request.param)
    try:
        yield request.param
    finally:
        lab.lab.apply_profile("careful")
