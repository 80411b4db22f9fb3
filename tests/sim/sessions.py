"""Configure sessions (EOS, NX-OS): edits staged in a named copy of the running configuration, applied at
once by `commit`, discarded by `abort`; nothing typed inside a session is live before its commit.

Sources:
- [EOS-SES] EOS User Manual, "Configuration sessions": `configure session NAME`, `commit`, `abort`,
  `commit timer hh:mm:ss` (rolled back unless `configure session NAME commit` confirms in time).
- [NX-SES] Cisco Nexus 9000 NX-OS System Management Configuration Guide, "Configuring Session Manager":
  `configure session NAME`, `verify`, `commit` (all or nothing: a failed commit leaves the running
  configuration as it was), `abort`; and "Configuring Rollback": `checkpoint NAME`, `rollback
  running-config checkpoint NAME`, `no checkpoint NAME`.
"""

from __future__ import annotations

import re
from typing import Iterator

from .errors import Rejected
from .ioslike import State
from .policy import View


class Sessions:
    """Mixin before an IOS-family simulator: `self.running` is what the device runs, `self.state` what is
    being edited (the session's copy inside a session)."""

    commit_timer = False  # EOS: `commit timer hh:mm:ss` and `configure session NAME commit`
    session_end: tuple[str, ...] = ("commit",)  # what the deployer sends after the lines
    checkpoints_exec = False  # NX-OS: `checkpoint NAME` / `rollback running-config checkpoint NAME`
    revert_timer = False  # IOS's archive revert timer is not theirs

    def __init__(self, text: str = ""):
        self.sessions: dict[str, State] = {}
        self.session: str | None = None
        self.pending: State | None = None  # what `commit timer` rolls back to
        self.checkpoints: dict[str, State] = {}
        super().__init__(text)  # type: ignore[call-arg]
        self.running = self.state

    def enter_with(self, line: str) -> bool:
        """`configure session NAME`: into the session (created from the running configuration)."""
        m = re.fullmatch(r"configure session (\S+)", line)
        if not m:
            return super().enter_with(line)  # type: ignore[misc]
        name = m.group(1)
        if name not in self.sessions:
            self.sessions[name] = self.running.clone()
        self.session = name
        self.state = self.sessions[name]
        self.stack = [("global",)]
        self.in_config = True
        return True

    def exec_command(self, line: str) -> bool:
        """EOS `configure session NAME commit` (confirms a commit timer); NX-OS checkpoints [NX-SES]."""
        if self.commit_timer and re.fullmatch(r"configure session (\S+) commit", line):
            self.pending = None
            return True
        m = re.fullmatch(r"(no )?checkpoint (\S+)|rollback running-config checkpoint (\S+)", line)
        if self.checkpoints_exec and self.session is None and m:
            no, name, back = m.groups()
            if back:
                if back not in self.checkpoints:
                    raise Rejected(line, f"ERROR: checkpoint {back} does not exist")
                self.running = self.state = self.checkpoints[back].clone()
            elif no:
                self.checkpoints.pop(name, None)
            else:
                self.checkpoints[name] = self.running.clone()
            return True
        return super().exec_command(line)  # type: ignore[misc]

    def apply(self, command: str) -> None:
        line = " ".join(command.strip().split())
        if re.fullmatch(r"configure session (\S+)", line):
            self.log.append(line)
            self.enter_with(line)
            return
        if re.fullmatch(r"configure session (\S+) commit", line) or self.session is None and re.fullmatch(
                r"(no )?checkpoint (\S+)|rollback running-config checkpoint (\S+)", line):
            self.log.append(line)
            if self.exec_command(line):
                return
        if self.session is not None:
            if line == "commit" or self.commit_timer and re.fullmatch(r"commit timer (\d+):(\d+):(\d+)", line):
                self.log.append(line)
                if line != "commit":
                    self.pending = self.running
                self.running = self.sessions.pop(self.session)
                self.state = self.running
                self.session = None
                self.in_config = False
                return
            if line == "abort":
                self.log.append(line)
                self.sessions.pop(self.session)
                self.session, self.state, self.in_config = None, self.running, False
                return
            if line == "verify" or line.startswith("show session-config"):
                self.log.append(line)
                return
        super().apply(line)  # type: ignore[misc]

    def leave_config(self) -> None:
        """`end`: a session left uncommitted stays pending (not live); editing goes back to the running config."""
        self.session, self.state = None, self.running
        super().leave_config()  # type: ignore[misc]

    def expire_timer(self) -> None:
        """The commit timer ran out unconfirmed: EOS restores the configuration from before the commit."""
        if self.pending is not None:
            self.running = self.state = self.pending
            self.pending = None

    def push(self, commands: list[str], tag: str) -> Iterator[str]:
        """As the deployer does: `configure session TAG`, the lines, then `session_end` (EOS `commit`, NX-OS
        `verify` + `commit`); yields after each command."""
        self.enter_config()  # type: ignore[attr-defined]
        self.apply(f"configure session {tag}")
        for c in commands:
            self.apply(c)
            yield c
        for c in self.session_end:
            self.apply(c)
            yield c

    def live_view(self) -> View:
        saved = self.state
        self.state = self.running
        try:
            return self.view()  # type: ignore[attr-defined]
        finally:
            self.state = saved

    def show(self) -> str:
        saved = self.state
        self.state = self.running
        try:
            return super().show()  # type: ignore[misc]
        finally:
            self.state = saved

    def fork(self):
        other = type(self)()
        other.state = other.running = self.running.clone()
        return other

    def snapshot(self) -> State:
        return self.running.clone()
