"""Golden files: the example change requests on every host they target, and each construct on every platform."""

from __future__ import annotations

import pytest

from pipeline.drivers.render import UnsupportedConstruct
from pipeline.project import load_change

from .cases import CASES, REFUSED
from .conftest import EXAMPLES, PLATFORM_HOST, assert_golden, render_change

EXAMPLE_HOSTS = [("CHG-1001", "fw1"), ("CHG-1002", "r1"), ("CHG-1004", "r1"), ("CHG-1005", "fw1"),
                 *[("CHG-1003", h) for h in ("r1", "ios1", "eos1", "cx1", "junos1")]]


def test_examples_cover_every_targeted_host(fleet):
    for f in sorted(EXAMPLES.glob("*.yaml")):
        change, _ = load_change(f)
        t = change.targets
        targeted = {h.name for h in fleet.select(t.hosts, t.groups, t.roles, t.sites)}
        assert targeted == {h for c, h in EXAMPLE_HOSTS if c == f.stem}, f.stem


@pytest.mark.parametrize("change_id,host", EXAMPLE_HOSTS)
def test_example_golden(change_id, host, fleet, store):
    text = render_change(EXAMPLES / f"{change_id}.yaml", host, fleet, store)
    assert_golden(f"{change_id}.{host}.txt", text)


@pytest.mark.parametrize("platform", sorted(PLATFORM_HOST))
@pytest.mark.parametrize("case", sorted(CASES))
def test_construct_golden(case, platform, fleet, store):
    host = PLATFORM_HOST[platform]
    if (case, platform) in REFUSED:
        with pytest.raises(UnsupportedConstruct, match=REFUSED[case, platform]):
            render_change(CASES[case], host, fleet, store)
        return
    assert_golden(f"{case}.{platform}.txt", render_change(CASES[case], host, fleet, store))
