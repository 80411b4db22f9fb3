"""A term whose cross product (sources x destinations x services x ports) is beyond MAX_TERM_ACES is refused
by name on line-per-match ACL platforms instead of printed: the fuzz suite's 60 x 60 x 60 term held
`render --host ios1` for a minute (216,000 ACL lines). nftables keeps it as one rule with sets."""

from __future__ import annotations

import pytest

from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.aces import MAX_TERM_ACES
from pipeline.model.change import ChangeRequest

from .conftest import render_change


def _change(n_src: int, n_dst: int, n_ports: int) -> ChangeRequest:
    term = {"name": "wide", "action": "accept", "protocols": ["tcp"],
            "sources": [f"198.18.{i // 256}.{i % 256}" for i in range(n_src)],
            "destinations": [f"198.19.{i // 256}.{i % 256}" for i in range(n_dst)],
            "destination_ports": list(range(1000, 1000 + n_ports))}
    return ChangeRequest.model_validate({"id": "CHG-1", "title": "t", "requested_by": "x",
                                         "targets": {"hosts": ["ios1", "eos1", "cx1", "nx1", "fw1"]},
                                         "firewall": {"filters": [{"name": "F1", "attach": ["server-edge"], "terms": [term]}]}})


@pytest.mark.parametrize("host", ["ios1", "eos1", "cx1", "nx1"])
def test_a_term_beyond_the_limit_is_refused_by_name(fleet, store, host):
    with pytest.raises(UnsupportedConstruct, match=r"filter F1 term wide expands to 216,000 ACL entries"):
        render_change(_change(60, 60, 60), host, fleet, store)


def test_a_term_at_the_limit_renders(fleet, store):
    assert MAX_TERM_ACES == 10_000
    text = render_change(_change(100, 10, 10), "ios1", fleet, store)
    assert text.count(" permit tcp host 198.18.") == 10_000


def test_nftables_keeps_the_wide_term_as_sets(fleet, store):
    assert "198.19.0.59" in render_change(_change(60, 60, 60), "fw1", fleet, store)
