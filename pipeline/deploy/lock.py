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

from .. import safefiles
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
        for dev in self.devices:  # every name checked before the first lock is taken
            safefiles.safe_name(dev, "device name")
        safefiles.make_dir(self.directory, "the lock folder")
        me = {"pid": os.getpid(), "machine": socket.gethostname(), "change": self.change,
              "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        self.held = []
        try:
            for dev in sorted(self.devices):
                path = safefiles.named_path(self.directory, dev, ".lock", "device name")
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
            owner = json.loads(safefiles.read_text(path, safefiles.SMALL_MAX))
            if not isinstance(owner, dict) or not isinstance(owner.get("machine"), str):
                raise ValueError("not a lock of ours")
            pid = int(owner.get("pid", 0))
        except (NetchangeError, ValueError, TypeError):
            return f"{dev} is locked by an unreadable lock file {path}; check and remove it by hand"
        who = f"change {owner.get('change')} (pid {owner.get('pid')} on {owner.get('machine')} since {owner.get('since')})"
        if owner.get("machine") == socket.gethostname() and 0 < pid < 2**31 and not _alive(pid):
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
    path = safefiles.named_path(directory, device, ".lock", "device name")
    if path.exists() or path.is_symlink():
        path.unlink()
        return True
    return False
