"""A netmiko connection that records every call netchange makes (scrapli-style replay: the test states the
exact calls), plus a Junos device that keeps a configuration of set lines with candidate, commit confirmed
and rollback, for deploys without a device."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Callable

from pipeline.cmdgate import GatedConnection

class FakeConnection:
    """Records ("config", enter, lines, leave), ("exec", command), ("timing", command), ("exit",) and, through
    RecordingSession, ("upload", path, text). `answer(command) -> output`; `refuse`: a line the device
    refuses (netmiko's ConfigInvalidException, as with error_pattern)."""

    def __init__(self, answer: Callable[[str], str] | dict[str, str] | None = None, refuse: str | None = None):
        self.calls: list[tuple] = []
        self.answer = answer if callable(answer) else (lambda c, a=answer or {}: a.get(c, ""))
        self.refuse = refuse

    def send_config_set(self, config_commands, exit_config_mode: bool = True, error_pattern: str = "",
                        read_timeout: float | None = None, config_mode_command: str | None = None, **kw: Any) -> str:
        from netmiko.exceptions import ConfigInvalidException

        lines = list(config_commands)
        self.calls.append(("config", config_mode_command, tuple(lines), exit_config_mode))
        out = []
        for line in lines:
            if self.refuse is not None and line == self.refuse:
                raise ConfigInvalidException(f"Invalid input detected at '^' marker.\n% Invalid input: {line}")
            out.append(self.answer(line))
        return "\n".join(o for o in out if o)

    def send_command(self, command_string: str, read_timeout: float | None = None, **kw: Any) -> str:
        self.calls.append(("exec", command_string))
        return self.answer(command_string)

    def send_command_timing(self, command_string: str, **kw: Any) -> str:
        self.calls.append(("timing", command_string))
        return ""

    def exit_config_mode(self) -> str:
        self.calls.append(("exit",))
        return ""

    def disconnect(self) -> None:
        pass


def gated(fake: FakeConnection, host: str) -> GatedConnection:
    return GatedConnection(fake, host)


class JunosDevice:
    """Junos as a configuration of `set` lines: the candidate takes set/delete lines, `commit check` passes,
    `commit confirmed N` / `commit` activate it (keeping the previous one as rollback 1), `rollback 1` loads the
    previous one into the candidate. Show commands answer from `shows` (command -> text or callable)."""

    def __init__(self, running: list[str], shows: dict[str, Any] | None = None):
        self.active = list(running)
        self.previous: list[str] | None = None
        self.candidate: list[str] | None = None
        self.shows = shows or {}
        self.conn = FakeConnection(self.answer)

    def answer(self, command: str) -> str:
        if command == "show configuration | display set":
            return "\n".join(self.active) + "\n"
        if command.startswith(("set ", "delete ")):
            self._edit(command)
            return ""
        if command.startswith("commit"):
            if command == "commit check":
                return "configuration check succeeds"
            if self.candidate is not None and self.candidate != self.active:
                self.previous, self.active = self.active, list(self.candidate)
            return "commit complete"
        if command == "rollback 1":
            self.candidate = list(self.previous or self.active)
            return "load complete"
        if command == "rollback 0":
            self.candidate = list(self.active)
            return ""
        show = self.shows.get(command)
        if show is None:
            return ""
        return show() if callable(show) else show

    def _edit(self, line: str) -> None:
        if self.candidate is None:
            self.candidate = list(self.active)
        if line.startswith("set "):
            if line not in self.candidate:
                self.candidate.append(line)
            return
        path = "set " + line.removeprefix("delete ")
        self.candidate = [ln for ln in self.candidate if ln != path and not ln.startswith(path + " ")]

    @contextlib.contextmanager
    def connect(self, host) -> Any:
        self.candidate = None
        yield gated(self.conn, host.name)


def json_text(data: Any) -> str:
    return json.dumps(data, indent=4)
