"""The journal under concurrent device threads: every record whole on its own line, and on disk when write()
returns, with one fsync covering every record written before it (group commit).

On the old code each write opened the file and fsynced alone, without a lock: records longer than one
buffered write (a device's pre-change policy) could interleave with another thread's, and 50 devices paid
one fsync per record each (the count assertion below fails on it: every write fsynced).
"""

from __future__ import annotations

import json
import os
import threading
import time

from pipeline.deploy import journal as journal_mod
from pipeline.deploy.journal import Journal, read_records


def test_concurrent_large_records_stay_whole_and_durable(tmp_path, monkeypatch):
    j = Journal.open(tmp_path, "CHG-1")
    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        if not calls:  # the first sync waits until every device thread has appended its record (forced overlap)
            deadline = time.monotonic() + 10  # a bound for a broken journal, not a verdict
            while len(j.path.read_text().splitlines()) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(journal_mod.os, "fsync", fsync)
    problems = []

    def device(n: int) -> None:
        j.write("original", f"d{n}", policy={"lines": ["x" * 100] * 200})  # ~20 KB: several write() calls
        if not any(r.get("device") == f"d{n}" for r in read_records(j.path)):
            problems.append(f"d{n}: its record is not in the file after write() returned")

    threads = [threading.Thread(target=device, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems
    lines = j.path.read_text().splitlines()
    assert len(lines) == 20 and {json.loads(line)["device"] for line in lines} == {f"d{n}" for n in range(20)}
    # the first sync covered one record; the next one, every record written while it ran
    assert len(calls) <= 2, f"{len(calls)} fsyncs for 20 records written at once"


def synced_sizes(j: Journal, monkeypatch) -> list[int]:
    """The journal file's size at each fsync (what each sync made durable)."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd):
        real_fsync(fd)
        synced.append(os.path.getsize(j.path))

    monkeypatch.setattr(journal_mod.os, "fsync", fsync)
    return synced


def test_a_record_is_synced_before_write_returns(tmp_path, monkeypatch):
    j = Journal.open(tmp_path, "CHG-2")
    synced = synced_sizes(j, monkeypatch)
    for n in range(3):
        j.write("committed", f"d{n}", refresh=[])
        assert synced and synced[-1] == os.path.getsize(j.path)  # everything written so far is synced
    assert len(synced) == 3  # alone, each write syncs itself


def test_unsynced_records_wait_for_one_sync(tmp_path, monkeypatch):
    """The guard's pre-change policies are written without a sync each and made durable by one sync when
    the guard phase ends, before any device is changed: one fsync covering every record, not one each."""
    j = Journal.open(tmp_path, "CHG-3")
    synced = synced_sizes(j, monkeypatch)
    for n in range(5):
        j.write("original", f"d{n}", policy={"lines": ["x"]}, sync=False)
    assert synced == [] and len(read_records(j.path)) == 5  # in the file (a killed process loses nothing)
    j.sync()
    assert synced == [os.path.getsize(j.path)]
    j.sync()  # nothing new: nothing to sync again
    assert len(synced) == 1
    j.write("committed", "d0", refresh=[])  # a synced write still syncs at once
    assert synced[-1] == os.path.getsize(j.path) and len(synced) == 2
