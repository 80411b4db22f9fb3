"""Golden files: the example change requests on every host they target, and each construct on every platform."""

from __future__ import annotations

import pytest

from pipeline.drivers.render import UnsupportedConstruct

from pipeline.drivers import all_platforms

from .cases import CASES, REFUSED
from .conftest import EXAMPLE_HOSTS, PLATFORM_HOST, assert_golden, render_change


def test_examples_render_on_every_platform(fleet):
    """The example change requests (targeting the fleet by role and name) reach a host of every driver."""
    assert {fleet.hosts[h].platform.value for _, h in EXAMPLE_HOSTS} == set(all_platforms())


@pytest.mark.parametrize("change_id,host", EXAMPLE_HOSTS)
def test_example_golden(change_id, host, fleet, store):
    from .conftest import EXAMPLES

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
