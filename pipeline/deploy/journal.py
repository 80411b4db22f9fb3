"""An append-only journal on disk, so a deploy killed between phases is resumed or rolled back.

One JSON object per line: {"t": time, "step": ..., "device": ..., ...}. The pre-change policy of every
device is recorded before anything is sent, so a later run can restore it without the original process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

FINAL_STEPS = {"done", "rolled_back", "refused", "no_op"}


@dataclass
class Journal:
    path: Path
    records: list[dict] = field(default_factory=list)

    @classmethod
    def open(cls, directory: Path, change: str, shard: str = "") -> "Journal":
        directory.mkdir(parents=True, exist_ok=True)
        name = change + (f".shard{shard.replace('/', 'of')}" if shard else "")
        j = cls(directory / f"{name}.jsonl")
        if j.path.exists():
            j.records = [json.loads(line) for line in j.path.read_text().splitlines() if line.strip()]
        return j

    def write(self, step: str, device: str | None = None, **data) -> None:
        rec = {"t": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"), "step": step}
        if device:
            rec["device"] = device
        rec.update(data)
        self.records.append(rec)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())

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

    def archive(self) -> None:
        """Keep finished journals for the audit trail, out of the way of the next run."""
        if self.path.exists():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
            self.path.rename(self.path.with_suffix(f".{stamp}.jsonl"))
