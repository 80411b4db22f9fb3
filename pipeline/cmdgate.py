"""The one gate every command passes on its way to a device.

`connect()` hands out a `GatedConnection`, never the bare netmiko session, so no call site (deploy pushes,
`run`, the BGP observer's `show bgp ... neighbors <addr> ...`, plan's live fetch and received routes,
traffic attribution) can send a command that holds a control character or line break. A CLI would take
such a command as two (netmiko's `send_config_set` even splits a string on newlines itself), so it is
refused before anything is written to the session: the device is untouched.

Everything that is not a way to send a command (prompts, config-mode state, the SSH transport for the
nftables file upload, whose lines come from the printer's own line gate) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import DeviceError
from .names import control_char, shown


class CommandRefused(DeviceError):
    """A command with a control character or line break was about to be sent; nothing was sent."""


def check_command(command: object, host: str = "") -> str:
    """*command* if it is one clean line, else CommandRefused naming the host and the character."""
    if not isinstance(command, str):
        raise CommandRefused(f"{host}: refusing to send a command that is not text: {type(command).__name__}")
    bad = control_char(command)
    if bad is not None:
        raise CommandRefused(f"{host}: refusing to send a command with a control character or line break "
                             f"({bad!r} at position {command.index(bad)}); nothing was sent: {shown(command, 120)}")
    return command


class GatedConnection:
    """A netmiko connection whose command-sending methods check every command first."""

    def __init__(self, conn: Any, host: str):
        self._conn = conn
        self._host = host

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @property
    def unwrapped(self) -> Any:
        return self._conn

    def _check_all(self, commands: Iterable[Any]) -> list[str]:
        return [check_command(c, self._host) for c in commands]

    def send_command(self, command_string: str, *args: Any, **kwargs: Any) -> Any:
        return self._conn.send_command(check_command(command_string, self._host), *args, **kwargs)

    def send_command_timing(self, command_string: str, *args: Any, **kwargs: Any) -> Any:
        return self._conn.send_command_timing(check_command(command_string, self._host), *args, **kwargs)

    def send_command_expect(self, command_string: str, *args: Any, **kwargs: Any) -> Any:
        return self._conn.send_command_expect(check_command(command_string, self._host), *args, **kwargs)

    def send_config_set(self, config_commands: str | Iterable[str] | None = None, *args: Any, **kwargs: Any) -> Any:
        # netmiko splits a string on newlines: a string is one command here, and must be one line
        commands = [config_commands] if isinstance(config_commands, str) else list(config_commands or [])
        return self._conn.send_config_set(self._check_all(commands), *args, **kwargs)

    def send_multiline(self, commands: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        checked = [self._check_all(c) if isinstance(c, (list, tuple)) else check_command(c, self._host) for c in commands]
        return self._conn.send_multiline(checked, *args, **kwargs)

    def send_multiline_timing(self, commands: Iterable[str], *args: Any, **kwargs: Any) -> Any:
        return self._conn.send_multiline_timing(self._check_all(commands), *args, **kwargs)

    def send_config_from_file(self, config_file: str, **kwargs: Any) -> Any:
        with open(config_file, encoding="utf-8") as f:
            lines = f.read().split("\n")  # not splitlines(): a CR or U+2028 inside a line is refused, not split
        return self.send_config_set([ln for ln in lines if ln], **kwargs)

    def write_channel(self, out_data: str) -> None:
        # raw writes end with the line terminator; anything inside must still be one clean line
        check_command(out_data.removesuffix("\n").removesuffix("\r"), self._host)
        self._conn.write_channel(out_data)

    def config_mode(self, config_command: str = "", *args: Any, **kwargs: Any) -> Any:
        if config_command:
            return self._conn.config_mode(check_command(config_command, self._host), *args, **kwargs)
        return self._conn.config_mode(*args, **kwargs)

    def commit(self, *args: Any, **kwargs: Any) -> Any:
        # Junos/EOS netmiko commit(comment=...) builds `commit comment "..."`: the comment is a command too
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, str):
                check_command(value, self._host)
        return self._conn.commit(*args, **kwargs)


def gated(conn: Any, host: str) -> GatedConnection:
    return conn if isinstance(conn, GatedConnection) else GatedConnection(conn, host)
