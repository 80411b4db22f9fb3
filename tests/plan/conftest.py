from pathlib import Path

import pytest

from pipeline.inventory import Inventory
from pipeline.model import ObjectStore
from pipeline.project import load_change

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fleet() -> Inventory:
    return Inventory(ROOT / "tests" / "fixtures" / "fleet")


@pytest.fixture(scope="session")
def store() -> ObjectStore:
    return ObjectStore.load(ROOT / "policies" / "objects")


@pytest.fixture
def example():
    def load(cid: str):
        return load_change(ROOT / "policies" / "changes" / "examples" / f"{cid}.yaml")[0]
    return load
