"""An append-only journal on disk, so a deploy killed between phases is resumed or rolled back.

One JSON object per line: {"t": time, "step": ..., "device": ..., ...}. The pre-change policy of every
device is recorded before anything is sent, so a later run can restore it without the original process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .. import safefiles
from ..errors import InputError, Location

FINAL_STEPS = {"done", "rolled_back", "refused", "no_op", "undone"}


@dataclass
class Journal:
    path: Path
    records: list[dict] = field(default_factory=list)
    # Devices write from worker threads at once: one lock keeps each record's line whole (a policy record is
    # larger than one write), and the sync is a group commit: a record is on disk when write() returns, but
    # one fsync covers every record written before it (50 devices each fsyncing alone cost seconds).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _sync: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _written: int = field(default=0, repr=False, compare=False)
    _synced: int = field(default=0, repr=False, compare=False)

    @classmethod
    def open(cls, directory: Path, change: str, shard: str = "") -> "Journal":
        name = safefiles.safe_name(change, "change id") + (f".shard{shard.replace('/', 'of')}" if shard else "")
        path = safefiles.named_path(directory, name, ".jsonl", "journal name")
        safefiles.make_dir(directory, "the journal folder")
        j = cls(path)
        if j.path.exists() or j.path.is_symlink():
            j.records = read_records(j.path)
        return j

    def write(self, step: str, device: str | None = None, *, sync: bool = True, **data) -> None:
        """Append a record; with *sync* (the default) it is on disk when this returns. `sync=False`: in the
        file (a killed process loses nothing) but made durable by the next synced write or `sync()`, for
        records nothing may wait on before then (the caller says where that point is)."""
        rec = {"t": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "step": step}
        if device:
            rec["device"] = device
        rec.update(data)
        line = json.dumps(rec) + "\n"
        with self._lock:
            self.records.append(rec)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
            self._written += 1
            mine = self._written
        if sync:
            self._fsync(mine)

    def sync(self) -> None:
        """Every record written so far is on disk when this returns."""
        with self._lock:
            mine = self._written
        self._fsync(mine)

    def _fsync(self, mine: int) -> None:
        with self._sync:
            if self._synced >= mine:  # another writer's fsync already covered this record
                return
            upto = self._written
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._synced = upto

    @property
    def unfinished(self) -> bool:
        return bool(self.records) and self.records[-1]["step"] not in FINAL_STEPS

    def last_run(self) -> list[dict]:
        """Records since the last 'start'."""
        starts = [i for i, r in enumerate(self.records) if r["step"] == "start"]
        return self.records[starts[-1]:] if starts else []

    def devices_with(self, step: str) -> set[str]:
        return {r["device"] for r in self.last_run() if r["step"] == step and "device" in r}

    def originals(self) -> dict[str, dict]:
        return {r["device"]: r["policy"] for r in self.last_run() if r["step"] == "original"}

    def refresh_targets(self) -> dict[str, list[dict]]:
        return {r["device"]: r["refresh"] for r in self.last_run() if r["step"] == "committed"}

    def last_outcome(self) -> str | None:
        """How the newest archived run of this journal (same change and shard) ended, or None."""
        stamped = re.compile(re.escape(self.path.stem) + r"\.\d{8}T\d{6,12}\.jsonl")
        if not self.path.parent.is_dir():
            return None
        for path in sorted((p for p in self.path.parent.iterdir() if stamped.fullmatch(p.name)), reverse=True):
            return next((r["step"] for r in reversed(read_records(path)) if r["step"] in FINAL_STEPS), None)
        return None

    def archive(self) -> None:
        """Keep finished journals for the audit trail, out of the way of the next run."""
        if self.path.exists():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")  # (µs: two runs in one second)
            self.path.rename(self.path.with_suffix(f".{stamp}.jsonl"))


def completed_deploy(directory: Path, change: str) -> tuple[Path | None, list[dict]]:
    """The archived journal of *change*'s last completed deploy that has not been undone since, with its
    records; (None, []) if there is none. Runs that changed nothing (no-op, refused, rolled back) are
    skipped; an undo ends the search."""
    name = safefiles.safe_name(change, "change id")
    stamped = re.compile(re.escape(name) + r"\.\d{8}T\d{6,12}\.jsonl")
    if not directory.is_dir():
        return None, []
    for path in sorted((p for p in directory.iterdir() if stamped.fullmatch(p.name)), reverse=True):
        records = read_records(path)
        last = next((r["step"] for r in reversed(records) if r["step"] in FINAL_STEPS), None)
        if last == "done":
            return path, records
        if last == "undone":
            return None, []
    return None, []


# What later runs read from a record, by step: a journal missing them cannot be resumed or rolled back.
_NEEDS = {"original": ("device", "policy"), "committed": ("device", "refresh"), "applied": ("device", "policy")}


def read_records(path: Path) -> list[dict]:
    """A journal's records. Anything malformed (a line cut short by a crash, an edited file) stops the
    deploy with the line to look at: guessing what a half-read journal meant could roll back the wrong thing."""
    records = []
    text = safefiles.read_text(path, safefiles.JSON_MAX)
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            raise InputError("journal line is not JSON (cut short by a crash?); check the devices, then move the "
                             "journal aside", Location(str(path), n)) from None
        if not isinstance(rec, dict) or not isinstance(rec.get("step"), str):
            raise InputError("journal record is not an object with a 'step'", Location(str(path), n, field="step"))
        if "device" in rec and not isinstance(rec["device"], str):
            raise InputError("journal record's device is not a name", Location(str(path), n, field="device"))
        missing = [k for k in _NEEDS.get(rec["step"], ()) if k not in rec]
        if missing:
            raise InputError(f"journal record '{rec['step']}' lacks {', '.join(missing)}", Location(str(path), n, field=missing[0]))
        records.append(rec)
    return records
