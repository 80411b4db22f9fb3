"""Refresh confirmation without an Adj-RIB-In, route expectations against a converged table, and dead-session
detection, against scripted observers and transports (no lab; the lab tests are tests/deploy/)."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.deploy import checks
from pipeline.drivers.observers.base import Counters
from pipeline.drivers.observers.frr import counters_from_frr_json
from pipeline.liveness import SessionLost, lost, watch
from pipeline.model.policy import DevicePolicy
from pipeline.model.route import Route


class Scripted:
    """An observer whose counters and routes change from one read to the next, as bgpd's do."""

    platform = "frr"
    answers = frozenset({"sessions", "route", "received", "accepted", "counters"})
    route_families = frozenset({"ipv4", "ipv6"})

    def __init__(self, counters=(), routes=()):
        self._counters, self._routes = list(counters), list(routes)
        self.reads = 0

    def counters(self, neighbor):
        return self._counters.pop(0) if len(self._counters) > 1 else self._counters[0]

    def accepted(self, neighbor, afi):
        return [Route("203.0.113.0/24", local_pref=250)]

    def received(self, neighbor, afi):
        return None

    def route(self, prefix):
        self.reads += 1
        return self._routes.pop(0) if len(self._routes) > 1 else self._routes[0]


BEFORE = Counters(refresh_sent=3, refresh_received=6, updates_received=10, enhanced=True)


def test_counters_come_from_frr_json_with_the_adj_rib_in_families():
    data = {"198.18.1.3": {"messageStats": {"routeRefreshSent": 1, "routeRefreshRecv": 2, "updatesRecv": 7},
                           "neighborCapabilities": {"enhancedRouteRefresh": "advertisedAndReceived"},
                           "addressFamilyInfo": {"ipv4Unicast": {"inboundSoftConfigPermit": True}, "ipv6Unicast": {}}}}
    assert counters_from_frr_json(data, "198.18.1.3") == Counters(1, 2, 7, True, frozenset({"ipv4"}))
    assert counters_from_frr_json({}, "198.18.1.3") is None


def test_inbound_refresh_without_adj_rib_in_is_confirmed_by_the_peers_eorr():
    obs = Scripted([BEFORE, Counters(4, 6, 10, True), Counters(4, 7, 11, True), Counters(4, 8, 11, True)])
    c = checks.confirm_refresh_in(obs, DevicePolicy(), "198.18.1.3", "ipv4", 5.0, before=BEFORE)
    assert c.ok and "EoRR" in c.detail and "no Adj-RIB-In" in c.detail, c
    assert "not confirmable" not in c.detail  # what it said before: "sent; not confirmable"


def test_a_refresh_that_never_went_out_fails():
    obs = Scripted([BEFORE])
    c = checks.confirm_refresh_in(obs, DevicePolicy(), "198.18.1.3", "ipv4", 0.3, before=BEFORE)
    assert not c.ok and "no ROUTE-REFRESH was sent" in c.detail


def test_a_peer_that_never_finishes_its_resend_fails():
    obs = Scripted([Counters(4, 7, 11, True)])
    c = checks.confirm_refresh_in(obs, DevicePolicy(), "198.18.1.3", "ipv4", 0.3, before=BEFORE)
    assert not c.ok and "End-of-RIB" in c.detail


def test_without_enhanced_route_refresh_the_table_must_be_stable():
    before = Counters(0, 0, 5, False)
    obs = Scripted([Counters(1, 0, 6, False)])
    c = checks.confirm_refresh_in(obs, DevicePolicy(), "198.18.1.3", "ipv4", 5.0, before=before)
    assert c.ok and "table stable" in c.detail


def expect_lp(lp: int):
    from pipeline.model.change import ChangeRequest

    return ChangeRequest.model_validate({
        "id": "CHG-1", "title": "t", "requested_by": "t", "targets": {"hosts": ["r1"]},
        "verify": {"routes": [{"device": "r1", "prefix": "203.0.113.0/24", "attributes": {"local_preference": lp}}]}})


def test_route_expectation_waits_for_bgpd_to_apply_the_policy():
    # issue 12: one read right after the refresh saw `local-preference None != 250`; 0.2 s later it held
    change = expect_lp(250)
    obs = Scripted(routes=[Route("203.0.113.0/24", local_pref=None), Route("203.0.113.0/24", local_pref=None),
                           Route("203.0.113.0/24", local_pref=250)])
    [r] = checks.route_expectations(obs, change, "r1", deadline=5.0, poll=0.01)
    assert r.ok and obs.reads == 3 and "held after" in r.detail


def test_route_expectation_that_never_holds_fails_at_the_deadline():
    obs = Scripted(routes=[Route("203.0.113.0/24", local_pref=100)])
    [r] = checks.route_expectations(obs, expect_lp(250), "r1", deadline=0.2, poll=0.01)
    assert not r.ok and "local-preference 100 != 250" in r.detail and "still failing after" in r.detail


class Transport:
    def __init__(self):
        self.active, self.keepalive, self.saved_exception, self.sock = True, None, None, None

    def is_active(self):
        return self.active

    def set_keepalive(self, s):
        self.keepalive = s


def test_a_closed_session_is_reported_at_once_not_after_the_read_timeout():
    t = Transport()
    chan = SimpleNamespace(get_transport=lambda: t, closed=False, eof_received=False)
    conn = SimpleNamespace(channel=SimpleNamespace(remote_conn=chan, read_buffer=lambda: ""), remote_conn=chan)
    watch(conn, "r2")
    assert t.keepalive == 1 and conn.channel.read_buffer() == "" and lost(conn) is None
    t.active = False  # sshd killed, link dropped: paramiko closes the transport
    assert "SSH connection lost" in lost(conn)
    try:
        conn.channel.read_buffer()
    except SessionLost as e:
        assert str(e).startswith("r2: unreachable: SSH connection lost")
    else:
        raise AssertionError("an empty read on a dead session must raise")
