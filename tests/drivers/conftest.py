"""The unit-test fleet (one host per driver) for driver tests."""

from __future__ import annotations

import pytest

from pipeline.inventory import Inventory

from fleetdata import FLEET


@pytest.fixture(scope="session")
def fleet() -> Inventory:
    return Inventory(FLEET)
