"""The standing fuzz suite, short run: part of every `pytest` run, so of `.ci/run` (docs/FUZZING.md).

Every case goes through netchange's real entry points (`validate`, `render` for each platform's host of
tests/fixtures/fleet, `plan --snapshots`, and the commands a plan and a route check send to a device)
in a watchdog worker, and fails on any of: an exception outside the NetchangeError family, an operation
over 10 s, a worker crash, a printed line or device command that belongs to no object the change names
(checker.py), or a plan that removes an object the device keeps using.

Derandomized: the same cases on every run. Sizes: NETCHANGE_FUZZ_EXAMPLES generated change requests
(default 60) and NETCHANGE_FUZZ_CONFIG_EXAMPLES mutated configs per platform (default 25), plus one
hand-written input per failure class of issue 11 (seeds.py). The long run: `python -m tests.fuzz --long`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given

from .configs import PLATFORMS
from .seeds import seed_cases
from .suite import Session, change_cases, config_cases, short_settings

EXAMPLES = int(os.environ.get("NETCHANGE_FUZZ_EXAMPLES", "60"))
CONFIG_EXAMPLES = int(os.environ.get("NETCHANGE_FUZZ_CONFIG_EXAMPLES", "25"))
SEEDS = seed_cases()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One worker for the module; reproducers of failing cases land in pytest's tmp folder."""
    with Session(out_dir=tmp_path_factory.mktemp("fuzz-findings")) as s:
        yield s


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_issue11_input(session, name):
    session.check(SEEDS[name])


def test_generated_change_requests(session):
    @short_settings(EXAMPLES)
    @given(change_cases())
    def one(case):
        session.check(case)

    one()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_mutated_running_configs(session, platform):
    @short_settings(CONFIG_EXAMPLES)
    @given(config_cases(platform))
    def one(case):
        session.check(case)

    one()
