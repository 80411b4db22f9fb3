"""One gate for every command sent to a device: a command with a control character or line break is
refused before anything is written, whichever code path builds it (issue 11 item 1: the observer's
`show bgp ... neighbors <addr> ...` took the scoped address straight to the device)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline import connect as connect_mod
from pipeline.cmdgate import CommandRefused, GatedConnection, check_command
from pipeline.deploy.device import DeviceSession
from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.observers.frr import FrrObserver
from pipeline.errors import DeviceError
from pipeline.model.change import ChangeRequest
from pipeline.model.routing import NeighborBinding
from pipeline.plan.run import fetch_received_routes
from pipeline.telemetry.attribution import route_decision

CRAFTED = "show bgp ipv6 unicast neighbors fe80::1%x\nclear bgp * soft"


class FakeNetmiko:
    """Records what reached the 'device'; answers like FRR does (JSON for show commands)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.remote_conn = "transport"  # what the nftables upload reaches through the gate

    def send_command(self, command_string: str, **kwargs: Any) -> str:
        self.sent.append(command_string)
        return "{}"

    def send_command_timing(self, command_string: str, **kwargs: Any) -> str:
        self.sent.append(command_string)
        return ""

    def send_config_set(self, config_commands, **kwargs: Any) -> str:
        self.sent.extend(config_commands)
        return ""

    def write_channel(self, out_data: str) -> None:
        self.sent.append(out_data)

    def exit_config_mode(self) -> str:
        return ""

    def disconnect(self) -> None:
        pass


@pytest.fixture
def device(monkeypatch, fleet):
    """(fake netmiko session, connect() context for r1): connect() with the SSH part replaced."""
    fake = FakeNetmiko()
    monkeypatch.setattr(connect_mod, "netmiko_params", lambda host, creds: {"host": host.hostname, "port": 22, "username": "u"})
    monkeypatch.setattr(connect_mod, "_open", lambda params, sock=None: fake)  # the SSH session itself
    return fake, connect_mod.connect(fleet.hosts["r1"])


def test_connect_hands_out_only_gated_sessions(device):
    fake, cm = device
    with cm as conn:
        assert isinstance(conn, GatedConnection)
        with pytest.raises(CommandRefused, match="r1: refusing to send a command with a control character"):
            conn.send_command(CRAFTED)
        assert conn.send_command("show bgp summary json") == "{}"  # a clean command goes through unchanged
        assert conn.remote_conn == "transport"  # everything that is not a command passes through
    assert fake.sent == ["show bgp summary json"]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x85b", "a\u2028b", "a\tb", "a\x1b[2Jb", "a\x00b", "a\x7fb"])
def test_every_line_breaking_or_control_character_is_refused(bad):
    with pytest.raises(CommandRefused):
        check_command(f"show {bad}", "r1")


def test_config_push_is_refused_whole_before_the_first_line(device):
    """A bad line anywhere in a push: nothing is sent, not even the clean lines before it."""
    fake, cm = device
    with cm as conn:
        with pytest.raises(CommandRefused):
            conn.send_config_set(["route-map RM1 permit 10", " set ipv6 next-hop fe80::1%x\nno router bgp 65001"])
        with pytest.raises(CommandRefused):  # netmiko would split a string on newlines itself
            conn.send_config_set("route-map RM1 permit 10\nno router bgp 65001")
        with pytest.raises(CommandRefused):
            conn.write_channel("show run\nconfigure terminal\n")
        conn.write_channel("show run\n")
    assert fake.sent == ["show run\n"]


def test_deploy_push_leaves_the_device_untouched(device, fleet):
    fake, cm = device
    with cm as conn:
        session = DeviceSession(fleet.hosts["r1"], conn)
        with pytest.raises(DeviceError, match="control character"):
            session.push(["route-map RM1 permit 10", " set ipv6 next-hop fe80::1%x\nno router bgp 65001", "exit"], "CHG-1")
        with pytest.raises(CommandRefused):
            session.run("clear bgp ipv6 unicast fe80::1%x\nno router bgp 65001 soft in")
    assert fake.sent == []


@pytest.mark.parametrize("platform", [p for p in all_platforms() if get_driver(p).observer_class is not None])
def test_observer_show_commands_are_gated(device, platform):
    """Every platform's observer: a crafted neighbor or prefix never reaches the device (refused by the gate,
    or by the observer's own address parsing before any command is built)."""
    fake, cm = device
    bad = "fe80::1%x\nclear bgp *"
    with cm as conn:
        obs = get_driver(platform).observer(conn, "r1")
        calls = {"accepted": lambda: obs.accepted(bad, "ipv4"), "received": lambda: obs.received(bad, "ipv4"),
                 "updates_sent": lambda: obs.updates_sent(bad), "route": lambda: obs.route(bad),
                 "best_path": lambda: obs.best_path(bad)}
        for name, call in calls.items():
            if name not in obs.answers:
                continue
            try:
                call()
            except (CommandRefused, ValueError):
                pass
    assert not any("\n" in c for c in fake.sent), fake.sent


def test_plan_received_routes_are_gated(device, fleet):
    """plan's live path: a binding built without validation cannot reach `... neighbors <addr> received-routes`."""
    fake, cm = device
    bad = NeighborBinding.model_construct(neighbor="fe80::1%x\nclear bgp *", afi="ipv6", direction="in",
                                          route_map="RM1", state="present")
    change = ChangeRequest.model_validate({"id": "CHG-1", "title": "t", "requested_by": "t", "targets": {"hosts": ["r1"]}})
    change = change.model_copy(update={"routing": change.routing.model_copy(update={"bindings": (bad,)})})
    with cm as conn:
        with pytest.raises(CommandRefused):
            fetch_received_routes(fleet.hosts["r1"], change, conn)
    assert not any("\n" in c for c in fake.sent)


def test_attribution_show_command_is_gated(device):
    fake, cm = device
    with cm as conn:
        with pytest.raises(CommandRefused):
            route_decision("r1", None, FrrObserver(conn, "r1"), "2001:db8::1%x\nclear bgp *")
    assert fake.sent == []
