"""Shared fixtures for rendering tests: the unit-test fleet, the project's shared objects, golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.drivers import get_driver
from pipeline.inventory import Inventory
from pipeline.model.change import ChangeRequest
from pipeline.model.objects import ObjectStore
from pipeline.model.policy import DevicePolicy
from pipeline.model.resolve import resolve
from pipeline.project import load_change

from fleetdata import EXAMPLE_HOSTS, EXAMPLES, FLEET, PLATFORM_HOST, ROOT  # noqa: F401 (the tests' platform lists)

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("NETCHANGE_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="session")
def fleet() -> Inventory:
    return Inventory(FLEET)


@pytest.fixture(scope="session")
def store() -> ObjectStore:
    return ObjectStore.load(ROOT / "policies" / "objects")


def shared_known(store: ObjectStore) -> DevicePolicy:
    known = DevicePolicy()
    for p in store.routing.prefix_lists:
        known.put("prefix_list", p.name, p)
    for c in store.routing.community_lists:
        known.put("community_list", c.name, c)
    return known


def render_change(change: ChangeRequest | Path, host_name: str, fleet: Inventory, store: ObjectStore) -> str:
    if isinstance(change, Path):
        change, _ = load_change(change)
    host = fleet.hosts[host_name]
    return get_driver(host.platform).render(resolve(change, store, host), host, known=shared_known(store))


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/render/golden/<name>; NETCHANGE_UPDATE_GOLDEN=1 rewrites, a mismatch leaves <name>.actual."""
    path = GOLDEN / name
    actual = path.with_name(path.name + ".actual")
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no golden file {path.name}; run with NETCHANGE_UPDATE_GOLDEN=1 to create it")
        path.write_text(text)
        actual.unlink(missing_ok=True)
        return
    if path.read_text() != text:
        actual.write_text(text)
        pytest.fail(f"{name} differs from its golden file (see {actual.name}; NETCHANGE_UPDATE_GOLDEN=1 to accept)")
    actual.unlink(missing_ok=True)
