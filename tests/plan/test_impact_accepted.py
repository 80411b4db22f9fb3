"""Impact preview on a router without an Adj-RIB-In (no `soft-reconfiguration inbound`, as most production
routers run): the plan says so in every format and previews what can be known from the routes the router
accepted now: which it would drop, which attributes change, and what cannot be known.

On the old code such a session's preview was silently absent (`impact: []`), and a live plan read only
`received-routes`: every test below fails on it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from fleetdata import FLEET, ROOT
from pipeline.cli import main
from pipeline.drivers import get_driver
from pipeline.inventory import Inventory
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.impact import UNKNOWN, AcceptedRoutes
from pipeline.plan.planner import plan_device
from pipeline.plan.run import fetch_received_routes

RUNNING = """\
ip prefix-list PL-R3-IN seq 10 permit 203.0.113.0/24
ip prefix-list PL-R3-IN seq 20 permit 198.18.3.0/24
route-map RM-R3-IN permit 10
 match ip address prefix-list PL-R3-IN
 set local-preference 200
 set metric 50
router bgp 65001
 neighbor 198.51.100.6 remote-as 65003
 address-family ipv4 unicast
  neighbor 198.51.100.6 route-map RM-R3-IN in
 exit-address-family
"""

CHANGE = textwrap.dedent("""\
    id: CHG-0300
    title: Filter and prefer r3's own prefixes
    requested_by: noc@example.net
    targets: {hosts: [r1]}
    routing:
      prefix_lists:
        - name: PL-R3-IN
          afi: ipv4
          entries:
            - {seq: 10, action: permit, prefix: 203.0.113.0/24}
      route_maps:
        - name: RM-R3-IN
          entries:
            - seq: 10
              action: permit
              match: {prefix_list: PL-R3-IN}
              set: {local_preference: 250}
    """)

# `show bgp ipv4 unicast neighbors 198.51.100.6 routes json` on FRR 8.4: after RM-R3-IN (local-pref 200, MED 50)
ACCEPTED = {"vrfId": 0, "vrfName": "default", "tableVersion": 7, "routerId": "198.18.255.1", "defaultLocPrf": 100,
            "localAS": 65001, "routes": {
                "203.0.113.0/24": [{"valid": True, "bestpath": True, "pathFrom": "external", "prefix": "203.0.113.0",
                                    "prefixLen": 24, "network": "203.0.113.0/24", "metric": 50, "locPrf": 200,
                                    "weight": 0, "peerId": "198.51.100.6", "path": "65003", "origin": "IGP",
                                    "nexthops": [{"ip": "198.51.100.6", "afi": "ipv4", "used": True}]}],
                "198.18.3.0/24": [{"valid": True, "bestpath": True, "pathFrom": "external", "prefix": "198.18.3.0",
                                   "prefixLen": 24, "network": "198.18.3.0/24", "metric": 50, "locPrf": 200,
                                   "weight": 0, "peerId": "198.51.100.6", "path": "65003", "origin": "IGP",
                                   "nexthops": [{"ip": "198.51.100.6", "afi": "ipv4", "used": True}]}]}}


@pytest.fixture(scope="module")
def r1():
    return Inventory(FLEET).hosts["r1"]


def _plan(r1, received):
    change = ChangeRequest.model_validate(__import__("yaml").safe_load(CHANGE))
    return plan_device(r1, get_driver(r1.platform), RUNNING, change, ObjectStore(), received=received)


def test_accepted_routes_preview_drops_changes_and_unknowns(r1):
    from pipeline.drivers.observers.frr import routes_from_frr_json

    plan = _plan(r1, {("198.51.100.6", "ipv4"): AcceptedRoutes(routes_from_frr_json(ACCEPTED))})
    [imp] = plan.impact
    assert imp["basis"] == "accepted" and "soft-reconfiguration inbound is off" in imp["note"]
    assert imp["routes"] == 2
    assert imp["newly_rejected"] == ["198.18.3.0/24"]  # PL-R3-IN loses seq 20
    assert imp["newly_accepted"] == []  # not knowable: the router did not keep what it rejected
    changed = imp["changed"]["203.0.113.0/24"]
    assert changed["local_pref"] == [200, 250]
    assert changed["med"] == [50, UNKNOWN]  # set by the old policy, left alone by the new: the neighbor's value


def test_no_routes_read_is_said_not_silent(r1):
    plan = _plan(r1, None)
    [imp] = plan.impact
    assert imp["basis"] == "none" and "r1.routes" in imp["note"]


class _FakeFrr:
    """The two answers of an FRR router without soft-reconfiguration inbound."""

    def __init__(self):
        self.sent = []

    def send_command(self, command, **_):
        self.sent.append(command)
        if command.endswith("received-routes json"):
            return json.dumps({"warning": "Inbound soft reconfiguration not enabled"})
        if command == "show bgp ipv4 unicast neighbors 198.51.100.6 routes json":
            return json.dumps(ACCEPTED)
        return json.dumps({})


def test_live_plan_reads_the_accepted_table_without_adj_rib_in(r1):
    change = ChangeRequest.model_validate(__import__("yaml").safe_load(CHANGE))
    conn = _FakeFrr()
    routes = fetch_received_routes(r1, change, conn)
    got = routes[("198.51.100.6", "ipv4")]
    assert isinstance(got, AcceptedRoutes) and {r.prefix for r in got} == {"203.0.113.0/24", "198.18.3.0/24"}
    assert any(c.endswith("routes json") and "received" not in c for c in conn.sent)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", root / "policies" / "objects")
    shutil.copytree(FLEET, root / "inventory")
    (root / "policies" / "changes" / "CHG-0300.yaml").write_text(CHANGE)
    (root / "snaps" / "r1.routes").mkdir(parents=True)
    (root / "snaps" / "r1.cfg").write_text(RUNNING)
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_every_plan_format_says_there_is_no_adj_rib_in(proj, capsys, fmt):
    (proj / "snaps" / "r1.routes" / "198.51.100.6_ipv4.json").write_text(json.dumps(ACCEPTED))
    code = main(["plan", str(proj / "policies" / "changes" / "CHG-0300.yaml"), "--snapshots", str(proj / "snaps"),
                 "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "soft-reconfiguration inbound is off" in out
    if fmt == "json":
        [imp] = json.loads(out)["devices"][0]["impact"]
        assert imp["basis"] == "accepted" and imp["newly_rejected"] == ["198.18.3.0/24"]
    else:
        assert "drops 198.18.3.0/24" in out and "local_pref 200 -> 250" in out


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_every_plan_format_says_when_nothing_could_be_previewed(proj, capsys, fmt):
    shutil.rmtree(proj / "snaps" / "r1.routes")
    code = main(["plan", str(proj / "policies" / "changes" / "CHG-0300.yaml"), "--snapshots", str(proj / "snaps"),
                 "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no routes could be read for this session" in out
