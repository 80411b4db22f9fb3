"""Talking to one device during a deploy: fetch, push / confirm / revert through the platform's commit mode,
run a command.

One netmiko session per device for the whole deploy phase (edits to one device are serialized: two
sessions in config mode on one FRR both apply). How a platform commits is its driver's business
(`Driver.commit_mode_for`, drivers/commit.py); this module only carries commands to the device.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..drivers.base import Driver, get_driver
from ..drivers.commit import MODES, CommitMode, Held
from ..errors import DeviceError
from ..inventory import Host
from ..liveness import SessionLost, lost

READ_TIMEOUT = 60  # seconds netmiko waits for one command's answer


@dataclass
class PushResult:
    sent: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    held: Held | None = None  # the commit waits on the device for `confirm` (or reverts by itself)


class DeviceSession:
    """A device session in the shape drivers/commit.py's `Cli` needs, over a (gated) netmiko connection."""

    def __init__(self, host: Host, conn: Any, mode: CommitMode | None = None):
        self.host = host
        self.conn = conn
        self.driver: Driver = get_driver(host.platform)
        # How this device commits; the deploy guard picks it from the running configuration.
        self.mode: CommitMode = mode or self.driver.commit_mode_for(None)

    @property
    def name(self) -> str:
        return self.host.name

    # -- reading
    def _send(self, command: str) -> str:
        try:
            return self.conn.send_command(command, read_timeout=READ_TIMEOUT)
        except DeviceError:
            raise
        except Exception as e:  # a write on a dead socket, netmiko's ReadTimeout: say it is the session if it is
            raise self._lost_or(e) from None

    def _lost_or(self, e: Exception) -> Exception:
        why = lost(self.conn)
        return SessionLost(f"{self.host.name}: unreachable: {why}") if why else e

    def fetch(self) -> str:
        text = self._send(self.driver.fetch_command)
        refused = self.driver.fetch_error(text)
        if refused:  # never mistaken for an empty device
            raise DeviceError(f"{self.host.name}: `{self.driver.fetch_command}` was answered with an error, "
                              f"not a configuration: {refused!r}")
        return text

    def run(self, command: str) -> str:
        return self.execute(command)

    # -- the Cli of drivers/commit.py
    def execute(self, command: str, *, checked: bool = True) -> str:
        out = self._send(command)
        bad = self.driver.error_in(out) if checked else None
        if bad:
            raise DeviceError(f"{self.host.name}: `{command}` failed: {bad}")
        return out

    def configure(self, lines: Sequence[str], *, enter: str | None = None, leave: bool = True) -> str:
        from netmiko.exceptions import ConfigInvalidException

        pattern = "|".join(f"(?:{p})" for p in self.driver.error_patterns)
        kwargs: dict[str, Any] = {"error_pattern": pattern, "exit_config_mode": leave, "read_timeout": READ_TIMEOUT}
        if enter is not None:
            kwargs["config_mode_command"] = enter
        try:
            out = self.conn.send_config_set(list(lines), **kwargs)
        except ConfigInvalidException as e:
            raise DeviceError(f"{self.host.name}: device refused a command: {_first_error(str(e), self.driver)}") from None
        except DeviceError:
            raise
        except Exception as e:
            why = lost(self.conn)
            if why:
                raise SessionLost(f"{self.host.name}: unreachable: {why}") from None
            raise DeviceError(f"{self.host.name}: push failed: {type(e).__name__}: {e}") from e
        bad = self.driver.error_in(out)
        if bad:
            raise DeviceError(f"{self.host.name}: device refused a command: {bad}")
        return out

    def abandon(self, commands: Sequence[str]) -> None:
        with contextlib.suppress(Exception):
            for c in commands:
                self.conn.send_command_timing(c)
        with contextlib.suppress(Exception):
            self.conn.exit_config_mode()

    def upload(self, path: str, text: str) -> None:
        import paramiko

        transport = self.conn.remote_conn.get_transport()
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise DeviceError(f"{self.host.name}: the device refused an SFTP channel for {path}")
        with sftp:
            with sftp.open(path, "w") as f:
                f.write(text)

    # -- the lifecycle
    def push(self, commands: list[str], tag: str, hold: float | None = None) -> PushResult:
        """Send commands with the platform's commit semantics; raise DeviceError at the first refusal. With
        *hold* (seconds), the commit waits on the device for `confirm` where the platform can hold one."""
        if not commands:
            return PushResult()
        t0 = time.monotonic()
        output, held = self.mode.push(self, commands, tag, hold if self.mode.holds() else None)
        return PushResult(sent=list(commands), output=output, seconds=time.monotonic() - t0, held=held)

    def confirm(self, held: Held) -> str:
        """Make a held commit permanent (by the mode that held it, also when a resumed deploy found it)."""
        return MODES[held.mode]().confirm(self, held)

    def revert(self, held: Held) -> bool:
        """Undo a held commit with the platform's own mechanism; False where it has none."""
        return MODES[held.mode]().revert(self, held)


def _first_error(msg: str, driver: Driver) -> str:
    return driver.error_in(msg) or msg.strip().splitlines()[-1][:300]
