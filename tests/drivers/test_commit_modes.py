"""Every commit mode against a fake connection that records what reaches netmiko: the exact calls of a push
(held with its revert timer, or for good), of its confirmation, of the platform's revert, and of the discard
after a refused line. The command text is each platform's (vendor documentation, NAPALM's drivers)."""

from __future__ import annotations

import pytest

from pipeline.deploy.device import DeviceSession
from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.commit import MODES, Held
from pipeline.errors import DeviceError

from .fakes import FakeConnection, gated

LINES = ["ip prefix-list PL-A seq 10 permit 198.51.100.0/24"]
JUNOS = ["set policy-options prefix-list PL-A 198.51.100.0/24"]
ARCHIVE = "hostname ios1\narchive\n path flash:archive\n maximum 14\n!\n"


class RecordingSession(DeviceSession):
    """The nftables upload (SFTP) recorded as a call instead."""

    def upload(self, path: str, text: str) -> None:
        self.conn.calls.append(("upload", path, text))


def session(fleet, host: str, fake: FakeConnection, running: str | None = None) -> RecordingSession:
    h = fleet.hosts[host]
    return RecordingSession(h, gated(fake, host), get_driver(h.platform).commit_mode_for(running))


def test_line_mode_sends_the_lines_and_holds_nothing(fleet):
    fake = FakeConnection()
    res = session(fleet, "r1", fake).push(LINES, "CHG-1-r1", hold=300)
    assert fake.calls == [("config", None, tuple(LINES), True)] and res.held is None


def test_ios_without_archive_is_line_by_line(fleet):
    fake = FakeConnection()
    res = session(fleet, "ios1", fake, running="hostname ios1\n!\n").push(LINES, "CHG-1-ios1", hold=300)
    assert fake.calls == [("config", None, tuple(LINES), True)] and res.held is None


def test_ios_with_archive_holds_under_a_revert_timer(fleet):
    fake = FakeConnection()
    s = session(fleet, "ios1", fake, running=ARCHIVE)
    res = s.push(LINES, "CHG-1-ios1", hold=301)  # rounded up to whole minutes: it must outlast the checks
    assert fake.calls == [("config", "configure terminal revert timer 6", tuple(LINES), True)]
    assert res.held == Held("revert_timer", "", 360)
    s.confirm(res.held)
    assert fake.calls[-1] == ("exec", "configure confirm")
    assert s.revert(res.held) is True
    assert fake.calls[-1] == ("exec", "configure revert now")


def test_ios_timer_refuses_a_hold_longer_than_the_platform_allows(fleet):
    with pytest.raises(ValueError, match="at most 7200 s"):
        session(fleet, "ios1", FakeConnection(), running=ARCHIVE).mode.timer_value(7201)


def test_eos_session_commit_timer_confirm_and_abort(fleet):
    fake = FakeConnection()
    s = session(fleet, "eos1", fake)
    res = s.push(LINES, "CHG-1-eos1", hold=330)
    assert fake.calls == [("config", "configure session CHG-1-eos1", (*LINES, "commit timer 00:05:30"), True)]
    assert res.held == Held("session", "CHG-1-eos1", 330)
    s.confirm(res.held)
    assert fake.calls[-1] == ("exec", "configure session CHG-1-eos1 commit")
    assert s.revert(res.held) is True
    assert fake.calls[-1] == ("exec", "configure session CHG-1-eos1 abort")


def test_eos_session_for_good_and_abort_on_refusal(fleet):
    fake = FakeConnection()
    session(fleet, "eos1", fake).push(LINES, "CHG-1-eos1")
    assert fake.calls == [("config", "configure session CHG-1-eos1", (*LINES, "commit"), True)]
    fake = FakeConnection(refuse=LINES[0])
    with pytest.raises(DeviceError, match="refused"):
        session(fleet, "eos1", fake).push(LINES, "CHG-1-eos1", hold=330)
    assert fake.calls[1:] == [("timing", "abort"), ("exit",)]  # the session is thrown away, nothing applied


def test_junos_commit_check_then_commit_confirmed_then_commit(fleet):
    fake = FakeConnection()
    s = session(fleet, "junos1", fake)
    res = s.push(JUNOS, "CHG-1-junos1", hold=330)
    assert fake.calls == [("config", "configure exclusive", (*JUNOS, "commit check", "commit confirmed 6"), True)]
    assert res.held == Held("candidate", "", 360)
    s.confirm(res.held)  # held until now: the plain commit confirms
    assert fake.calls[-1] == ("config", "configure exclusive", ("commit",), True)
    assert s.revert(res.held) is True
    assert fake.calls[-1] == ("config", "configure exclusive", ("rollback 1", "commit"), True)


def test_junos_failed_commit_check_discards_the_candidate(fleet):
    fake = FakeConnection({"commit check": "error: configuration check-out failed"})
    with pytest.raises(DeviceError, match="configuration check-out failed"):
        session(fleet, "junos1", fake).push(JUNOS, "CHG-1-junos1", hold=330)
    assert fake.calls[1:] == [("timing", "rollback 0"), ("exit",)]
    assert not any("commit confirmed" in str(c) for c in fake.calls[1:])


def test_junos_for_good(fleet):
    fake = FakeConnection()
    session(fleet, "junos1", fake).push(JUNOS, "CHG-1-junos1")
    assert fake.calls == [("config", "configure exclusive", (*JUNOS, "commit check", "commit"), True)]


def test_aoscx_auto_checkpoint_and_confirm(fleet):
    fake = FakeConnection()
    s = session(fleet, "cx1", fake)
    res = s.push(LINES, "CHG-1-cx1", hold=330)
    assert fake.calls == [("exec", "checkpoint auto 6"), ("config", None, tuple(LINES), True)]
    assert res.held == Held("auto_checkpoint", "", 360)
    s.confirm(res.held)
    assert fake.calls[-1] == ("exec", "checkpoint auto confirm")
    assert s.revert(res.held) is False and len(fake.calls) == 3  # no revert command: the deployer restores by diff


def test_nxos_checkpoint_session_confirm_and_rollback(fleet):
    fake = FakeConnection()
    s = session(fleet, "nx1", fake)
    res = s.push(LINES, "CHG-1-nx1", hold=330)
    assert fake.calls == [("exec", "checkpoint nc-CHG-1-nx1"),
                          ("config", "configure session nc-CHG-1-nx1", (*LINES, "verify", "commit"), True)]
    assert res.held == Held("checkpoint_session", "nc-CHG-1-nx1", 0)  # no timer: never reverts by itself
    s.confirm(res.held)
    assert fake.calls[-1] == ("exec", "no checkpoint nc-CHG-1-nx1")
    assert s.revert(res.held) is True
    assert fake.calls[-2:] == [("exec", "rollback running-config checkpoint nc-CHG-1-nx1"),
                               ("exec", "no checkpoint nc-CHG-1-nx1")]


MKTEMP = "mktemp -d /tmp/netchange.XXXXXXXXXX"
TMPDIR = "/tmp/netchange.q3ZrT8xKp1"
LOAD = f"nft -c -f {TMPDIR}/CHG-1-fw1.nft && echo NC-CHECK-OK && nft -f {TMPDIR}/CHG-1-fw1.nft && echo NC-APPLY-OK"


def test_nftables_file_goes_to_a_private_directory_is_checked_then_applied_then_removed(fleet):
    fake = FakeConnection({MKTEMP: f"{TMPDIR}\n", LOAD: "NC-CHECK-OK\nNC-APPLY-OK"})
    res = session(fleet, "fw1", fake).push(["add table inet netchange"], "CHG-1-fw1", hold=300)
    assert fake.calls == [("exec", MKTEMP), ("upload", f"{TMPDIR}/CHG-1-fw1.nft", "add table inet netchange\n"),
                          ("exec", LOAD), ("exec", f"rm -rf {TMPDIR}")]
    assert res.held is None


def test_nftables_rejected_file_is_never_applied(fleet):
    fake = FakeConnection({MKTEMP: TMPDIR, LOAD: f"{TMPDIR}/CHG-1-fw1.nft:1:1-3: Error: syntax error"})
    with pytest.raises(DeviceError, match="nft rejected the ruleset"):
        session(fleet, "fw1", fake).push(["bad"], "CHG-1-fw1")
    assert [c[1] for c in fake.calls if c[0] == "exec"] == [MKTEMP, LOAD, f"rm -rf {TMPDIR}"]


@pytest.mark.parametrize("reply", ["mktemp: failed to create directory via template", "/tmp/netchange.XXXXXXXXXX",
                                   "/tmp/netchange.ab; reboot", "/etc"])
def test_nftables_without_a_private_directory_uploads_nothing(fleet, reply):
    fake = FakeConnection({MKTEMP: reply})
    with pytest.raises(DeviceError, match="private directory"):
        session(fleet, "fw1", fake).push(["add table inet netchange"], "CHG-1-fw1")
    assert fake.calls == [("exec", MKTEMP)]


def test_every_commit_mode_is_tested_here_and_used_by_a_driver():
    """A mode no driver uses is dead code; a mode without a sequence test above fails here."""
    used = {get_driver(p).commit_mode.name for p in all_platforms()} | {"revert_timer"}  # IOS with its archive
    tested = {"line", "revert_timer", "session", "candidate", "auto_checkpoint", "checkpoint_session", "atomic_file"}
    assert set(MODES) == used == tested
