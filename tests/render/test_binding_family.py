"""A binding by address without `afi` is in the address's own family: an IPv6 neighbor's route-map goes
under its IPv6 unicast family on every BGP platform (the long fuzz run found it under IPv4)."""

from __future__ import annotations

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.model.change import ChangeRequest

from .conftest import PLATFORM_HOST, render_change

BGP_PLATFORMS = [p for p in PLATFORM_HOST if "binding" in get_driver(p).kinds]


def change(neighbor: str, afi: str | None = None) -> ChangeRequest:
    binding = {"neighbor": neighbor, "direction": "out", "route_map": "RM-OUT"} | ({"afi": afi} if afi else {})
    return ChangeRequest.model_validate({
        "id": "CHG-9300", "title": "t", "requested_by": "tests", "targets": {"hosts": ["x"]},
        "routing": {"route_maps": [{"name": "RM-OUT", "entries": [{"seq": 10, "action": "permit"}]}],
                    "bindings": [binding]}})


def test_the_key_and_resolved_family_follow_the_address():
    assert change("2001:db8:12::2").routing.bindings[0].key == ("2001:db8:12::2", "ipv6", "out")
    assert change("198.51.100.2").routing.bindings[0].key == ("198.51.100.2", "ipv4", "out")
    assert change("2001:db8:12::2", "ipv4").routing.bindings[0].key == ("2001:db8:12::2", "ipv4", "out")


@pytest.mark.parametrize("platform", BGP_PLATFORMS)
def test_an_ipv6_neighbor_without_afi_is_bound_in_ipv6(platform, fleet, store):
    text = render_change(change("2001:db8:12::2"), PLATFORM_HOST[platform], fleet, store)
    if platform == "juniper_junos":  # per-neighbor policies: an IPv6 neighbor cannot be bound "in ipv4" at all
        with pytest.raises(UnsupportedConstruct, match="bind the neighbor in its own family"):
            render_change(change("2001:db8:12::2", "ipv4"), PLATFORM_HOST[platform], fleet, store)
    else:
        said_v4 = render_change(change("2001:db8:12::2", "ipv4"), PLATFORM_HOST[platform], fleet, store)
        assert text != said_v4, "omitting afi must not mean ipv4 for an IPv6 neighbor"
    assert text == render_change(change("2001:db8:12::2", "ipv6"), PLATFORM_HOST[platform], fleet, store)
