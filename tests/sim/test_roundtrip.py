"""Every corpus config of a simulated platform loads and prints back equivalent (sim/compare.py says what a
device itself changes), printing is a fixed point, and netchange reads what the simulator prints exactly as
it reads the original: every object is still there (a plan against the simulator's output is a plan against
the real config)."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver

from sim import PLATFORMS, simulator
from sim.compare import diff
from sim.conftest import corpus_files, driver_platforms
from sim.juniper_junos import tokens

CASES = [pytest.param(p, f, id=f"{p}/{f.name}") for p in PLATFORMS for f in corpus_files(p)]


@pytest.mark.parametrize("platform, path", CASES or [pytest.param(None, None, marks=pytest.mark.skip("no corpus"))])
def test_corpus_config_prints_back_equivalent(platform, path):
    text = path.read_text(errors="surrogateescape")
    sim = simulator(platform, text)
    printed = sim.show()
    again = simulator(platform, printed)
    assert again.show() == printed, "printing what the simulator printed changes it"
    assert again.view() == sim.view(), "the policy read back differs from the policy loaded"
    if platform == "juniper_junos":
        if path.suffix == ".set":  # display set in, display set out: the same statements
            lines = lambda t: sorted(tuple(tokens(ln)) for ln in t.splitlines() if ln.startswith(("set ", "deactivate ")))  # noqa: E731
            assert lines(text) == lines(printed)
        return
    gone, extra = diff(text, printed)
    assert not gone and not extra, f"lost: {gone[:5]}\nadded: {extra[:5]}"


@pytest.mark.parametrize("platform, path", [c for c in CASES if c.values[0] in driver_platforms()]
                         or [pytest.param(None, None, marks=pytest.mark.skip("no corpus"))])
def test_netchange_finds_every_object_in_the_simulator_print(platform, path):
    """The simulator prints in the device's normal form (sequence numbers added, masks applied), so the
    objects' content may be spelled differently; but not one object may go missing or appear."""
    text = path.read_text(errors="surrogateescape")
    sim = simulator(platform, text)
    driver = get_driver(platform)
    original = driver.parse(sim.show() if platform == "juniper_junos" else text)  # Junos: netchange fetches display set
    printed = driver.parse(sim.show())
    for kind in ("prefix_list", "community_list", "as_path_list", "route_map", "binding", "filter"):
        assert sorted(map(str, printed.table(kind))) == sorted(map(str, original.table(kind))), f"{kind}s differ"
