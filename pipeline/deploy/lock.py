"""Deployment locks: one deploy at a time per device. A stale lock is reported, never silently broken.

A lock is a file created with O_EXCL per device (sorted, so two deploys cannot deadlock), holding the
owner's pid, host name, change id and start time. Across CI runners GitLab's `resource_group` is the
mutex; these files guard one machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from ..errors import NetchangeError


class LockError(NetchangeError):
    exit_code = 3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class DeployLock:
    directory: Path
    devices: list[str]
    change: str
    held: list[Path] | None = None

    def acquire(self) -> "DeployLock":
        self.directory.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "machine": socket.gethostname(), "change": self.change,
              "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        self.held = []
        try:
            for dev in sorted(self.devices):
                path = self.directory / f"{dev}.lock"
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:
                    raise LockError(self._describe(path, dev)) from None
                with os.fdopen(fd, "w") as f:
                    json.dump(me, f)
                self.held.append(path)
        except BaseException:
            self.release()
            raise
        return self

    def _describe(self, path: Path, dev: str) -> str:
        try:
            owner = json.loads(path.read_text())
        except (OSError, ValueError):
            return f"{dev} is locked by an unreadable lock file {path}; check and remove it by hand"
        who = f"change {owner.get('change')} (pid {owner.get('pid')} on {owner.get('machine')} since {owner.get('since')})"
        if owner.get("machine") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
            return (f"{dev} has a STALE deploy lock from {who}: that process is gone. Its journal decides what "
                    f"happens next; once you have checked the device, remove {path} (netchange deploy --break-lock {dev})")
        return f"{dev} is being deployed by {who}; one deploy at a time per device"

    def release(self) -> None:
        for p in self.held or []:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self.held = []

    def __enter__(self) -> "DeployLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def break_lock(directory: Path, device: str) -> bool:
    path = directory / f"{device}.lock"
    if path.exists():
        path.unlink()
        return True
    return False
