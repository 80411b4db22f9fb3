"""How each platform commits, confirms and undoes a change: its commit mode, as data plus a few lines of
sequence (in the spirit of NAPALM's `commit_config(revert_in=)` / `confirm_commit` / `rollback`).

A mode talks to the device only through `Cli` (deploy/device.py implements it over netmiko), so its exact
command sequence can be replayed against a fake connection (tests/drivers/test_commit_modes.py).

`hold`: a commit that the device reverts by itself unless it is confirmed within `hold` seconds (Junos
`commit confirmed N`, EOS `commit timer`, IOS `configure terminal revert timer N`, AOS-CX `checkpoint auto
N`). The deployer confirms only after the post-checks passed, so a deploy killed half-way leaves every held
device reverting on its own. `hold=None` commits for good (rollback pushes, GC, `--phase commit`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar, Protocol, Sequence

from ..errors import DeviceError


class Cli(Protocol):
    """What a commit mode needs of a device session."""

    @property
    def name(self) -> str:
        """The host, for messages."""
        ...

    def configure(self, lines: Sequence[str], *, enter: str | None = None, leave: bool = True) -> str:
        """Send *lines* in configuration mode (entered with *enter*, the platform's default when None),
        leaving it afterwards when *leave*. Raises DeviceError at the first line the device refuses (the
        session is then still in configuration mode: see `abandon`)."""
        ...

    def execute(self, command: str, *, checked: bool = True) -> str:
        """One command outside configuration mode; DeviceError if the device refuses it (*checked*: its
        output matches the platform's error patterns)."""
        ...

    def abandon(self, commands: Sequence[str]) -> None:
        """After a refusal: send *commands* (discard the candidate, abort the session) and leave
        configuration mode, whatever state the session is in. Never raises."""
        ...

    def upload(self, path: str, text: str) -> None:
        """Write *text* to *path* on the device (SFTP)."""
        ...


@dataclass(frozen=True)
class Held:
    """A commit waiting on the device for its confirmation (journaled: a resumed deploy finds it)."""

    mode: str
    name: str  # session or checkpoint name on the device
    seconds: int  # the device reverts by itself this long after the commit (0: it never does)

    def as_dict(self) -> dict:
        return {"mode": self.mode, "name": self.name, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, d: dict) -> "Held":
        return cls(str(d["mode"]), str(d["name"]), int(d["seconds"]))


def device_name(tag: str, limit: int = 40) -> str:
    """A session or checkpoint name from a deploy tag (change id + host): letters, digits, `-`, `_`."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", tag)[:limit]


class CommitMode:
    """Line by line: every line is live as it is sent; nothing to confirm, nothing the device undoes."""

    name: ClassVar[str] = "line"
    # Lines apply together (session, candidate, file) rather than each as it is typed: the driver then need
    # not stage list edits so that every intermediate list is one of the two versions.
    atomic: ClassVar[bool] = False
    # The device reverts a held commit by itself: (unit in seconds, smallest, largest) of its timer.
    timer: ClassVar[tuple[int, int, int] | None] = None
    # Commands that discard a half-sent edit after a refusal (inside configuration mode).
    discard: ClassVar[tuple[str, ...]] = ()

    def holds(self) -> bool:
        return self.timer is not None

    def timer_value(self, seconds: float) -> int:
        """The platform's timer setting that lasts at least *seconds* (rounded up to its unit); a
        ValueError naming the range when the platform cannot hold that long."""
        assert self.timer is not None
        unit, lo, hi = self.timer
        value = max(lo, math.ceil(seconds / unit))
        if value > hi:
            raise ValueError(f"{self.name} commits can be held at most {hi * unit} s on this platform "
                             f"(asked for {math.ceil(seconds)} s)")
        return value

    def push(self, cli: Cli, lines: Sequence[str], tag: str, hold: float | None = None) -> tuple[str, Held | None]:
        return self._send(cli, list(lines)), None

    def confirm(self, cli: Cli, held: Held) -> str:
        """Make a held commit permanent."""
        return ""

    def revert(self, cli: Cli, held: Held) -> bool:
        """Undo a held commit with the platform's own mechanism; False where there is none (the caller then
        restores the recorded policy by diff, and confirms what it restored)."""
        return False

    def _send(self, cli: Cli, lines: list[str], *, enter: str | None = None, leave: bool = True) -> str:
        try:
            return cli.configure(lines, enter=enter, leave=leave)
        except DeviceError:
            cli.abandon(self.discard)
            raise


class RevertTimerMode(CommitMode):
    """IOS / IOS-XE with the configuration archive (`archive` + `path`): `configure terminal revert timer N`
    keeps the lines live for N minutes, `configure confirm` keeps them for good, `configure revert now`
    restores the archived configuration at once. Without an archive IOS refuses the timer: such devices
    are driven line by line (the driver picks the mode from the running configuration)."""

    name = "revert_timer"
    timer = (60, 1, 120)  # minutes, 1-120

    def push(self, cli, lines, tag, hold=None):
        if hold is None:
            return self._send(cli, list(lines)), None
        minutes = self.timer_value(hold)
        out = self._send(cli, list(lines), enter=f"configure terminal revert timer {minutes}")
        return out, Held(self.name, "", minutes * 60)

    def confirm(self, cli, held):
        return cli.execute("configure confirm")

    def revert(self, cli, held):
        cli.execute("configure revert now")
        return True


class SessionMode(CommitMode):
    """Arista EOS configure sessions: the lines are staged in a named session and applied at once on
    `commit`; `commit timer HH:MM:SS` applies them until `configure session NAME commit` confirms, or the
    timer runs out and EOS rolls them back; `configure session NAME abort` rolls back at once."""

    name = "session"
    atomic = True
    timer = (1, 1, 24 * 3600 - 1)  # HH:MM:SS
    discard = ("abort",)

    def push(self, cli, lines, tag, hold=None):
        session = device_name(tag)
        if hold is None:
            return self._send(cli, [*lines, "commit"], enter=f"configure session {session}"), None
        seconds = self.timer_value(hold)
        stamp = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        out = self._send(cli, [*lines, f"commit timer {stamp}"], enter=f"configure session {session}")
        return out, Held(self.name, session, seconds)

    def confirm(self, cli, held):
        return cli.execute(f"configure session {held.name} commit")

    def revert(self, cli, held):
        cli.execute(f"configure session {held.name} abort")
        return True


class CandidateMode(CommitMode):
    """Junos: set/delete lines into an exclusive candidate, `commit check`, then `commit confirmed N` (held)
    or `commit`. A held commit is confirmed by a plain `commit`, undone by `rollback 1` + `commit` (the
    configuration before it); unconfirmed, Junos rolls back by itself after N minutes."""

    name = "candidate"
    atomic = True
    timer = (60, 1, 65535)  # minutes
    enter = "configure exclusive"  # nobody else's uncommitted edits ride along with ours
    check = "commit check"
    discard = ("rollback 0",)

    def push(self, cli, lines, tag, hold=None):
        if hold is None:
            return self._send(cli, [*lines, self.check, "commit"], enter=self.enter), None
        minutes = self.timer_value(hold)
        out = self._send(cli, [*lines, self.check, f"commit confirmed {minutes}"], enter=self.enter)
        return out, Held(self.name, "", minutes * 60)

    def confirm(self, cli, held):
        return self._send(cli, ["commit"], enter=self.enter)

    def revert(self, cli, held):
        self._send(cli, ["rollback 1", "commit"], enter=self.enter)
        return True


class AutoCheckpointMode(CommitMode):
    """Aruba AOS-CX: `checkpoint auto N` before the lines; `checkpoint auto confirm` keeps them, otherwise
    the switch restores the configuration from before after N minutes (1-60). There is no command to
    restore at once: a failed deploy restores by diff, then confirms what it restored."""

    name = "auto_checkpoint"
    timer = (60, 1, 60)

    def push(self, cli, lines, tag, hold=None):
        if hold is None:
            return self._send(cli, list(lines)), None
        minutes = self.timer_value(hold)
        cli.execute(f"checkpoint auto {minutes}")
        return self._send(cli, list(lines)), Held(self.name, "", minutes * 60)

    def confirm(self, cli, held):
        return cli.execute("checkpoint auto confirm")


class CheckpointSessionMode(CommitMode):
    """Cisco NX-OS: a named checkpoint of the running configuration, then the lines in a configure session
    (`verify`, then `commit`: all or nothing). NX-OS has no revert timer for merged edits (its
    `commit-timeout` exists only for `configure replace` of a whole file), so a held commit never reverts by
    itself: it is undone with `rollback running-config checkpoint NAME`, confirmed by deleting the
    checkpoint. A deploy killed half-way leaves the edits in place; the journal's rollback restores them."""

    name = "checkpoint_session"
    atomic = True
    discard = ("abort",)

    def push(self, cli, lines, tag, hold=None):
        name = device_name(f"nc-{tag}")
        if hold is None:
            return self._send(cli, [*lines, "verify", "commit"], enter=f"configure session {name}"), None
        cli.execute(f"checkpoint {name}")
        out = self._send(cli, [*lines, "verify", "commit"], enter=f"configure session {name}")
        return out, Held(self.name, name, 0)

    def holds(self) -> bool:
        return True  # a checkpoint to go back to, though no timer

    def confirm(self, cli, held):
        return cli.execute(f"no checkpoint {held.name}")

    def revert(self, cli, held):
        cli.execute(f"rollback running-config checkpoint {held.name}")
        cli.execute(f"no checkpoint {held.name}")
        return True


class FileMode(CommitMode):
    """nftables: the edits are one file, uploaded, checked with `nft -c -f` and loaded with `nft -f` in one
    transaction (a bad file leaves the old ruleset intact). Nothing to hold or confirm.

    The file goes into a directory `mktemp -d` makes for this push (mode 0700, a name nobody can guess): a fixed
    name in /tmp would let two deploys to one host (or two labs on one machine) overwrite each other's ruleset,
    and would let any local user swap the file between the check and the load."""

    name = "atomic_file"
    atomic = True
    mkdir = "mktemp -d /tmp/netchange.XXXXXXXXXX"
    load = "nft -c -f {path} && echo NC-CHECK-OK && nft -f {path} && echo NC-APPLY-OK"
    remove = "rm -rf {dir}"
    _made = re.compile(r"^(/tmp/netchange\.(?!X{10})[A-Za-z0-9]{10})[ \t]*$", re.M)

    def push(self, cli, lines, tag, hold=None):
        made = cli.execute(self.mkdir, checked=False)
        m = self._made.search(made)
        if m is None:
            raise DeviceError(f"{cli.name}: could not make a private directory for the ruleset: {made.strip()[:300]}")
        path = f"{m.group(1)}/{device_name(tag, 80)}.nft"  # letters, digits, ., - and _ only: no quoting needed
        try:
            cli.upload(path, "\n".join(lines) + "\n")
            out = cli.execute(self.load.format(path=path), checked=False)
            if "NC-CHECK-OK" not in out:
                raise DeviceError(f"{cli.name}: nft rejected the ruleset: {out.strip()[:300]}")
            if "NC-APPLY-OK" not in out:
                raise DeviceError(f"{cli.name}: nft -f failed: {out.strip()[:300]}")
        finally:
            try:
                cli.execute(self.remove.format(dir=m.group(1)), checked=False)
            except Exception:  # a leftover temporary file must not hide the real outcome
                pass
        return out, None


MODES: dict[str, type[CommitMode]] = {m.name: m for m in (CommitMode, RevertTimerMode, SessionMode, CandidateMode,
                                                          AutoCheckpointMode, CheckpointSessionMode, FileMode)}
