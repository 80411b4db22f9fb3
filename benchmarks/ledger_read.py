"""Reading the deploy ledger (git notes) with N merged changes, each with a note, side by side with plain git.

netchange: Ledger.entries() — every note parsed and checked against the commit that added its change.
plain git, per note: `git notes show <commit>` for each note (what a script would do; the pre-issue-11
reader did this). plain git, best: one `git cat-file --batch` for all note blobs (no checking at all).
Also the latency of one local compare-and-swap claim (`ci claim --local` without process start-up).

    .venv/bin/python benchmarks/ledger_read.py --changes 300 --runs 5
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pipeline.gitlab.gitrepo import open_repo
from pipeline.gitlab.ledger import FORMAT, Ledger, record

ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.net", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@example.net", "PATH": "/usr/bin:/bin"}


def git(repo: Path, *args: str, data: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, input=data, capture_output=True, text=True, check=True).stdout


def build(repo: Path, n: int) -> None:
    """N commits, each adding one change request, each with a `deployed` note (fast-import: seconds)."""
    git(repo, "init", "-q", "-b", "main", ".")
    stream, notes = [], []
    for i in range(1, n + 1):
        path, body = f"policies/changes/CHG-{i:05d}.yaml", f"id: CHG-{i:05d}\n"
        stream.append(f"commit refs/heads/main\nmark :{i}\ncommitter b <b@example.net> {1700000000 + i} +0000\n"
                      f"{_data(f'add {i}')}" + (f"from :{i - 1}\n" if i > 1 else "") + f"M 100644 inline {path}\n{_data(body)}\n")
    git(repo, "fast-import", "--quiet", data="".join(stream))
    for i, sha in enumerate(git(repo, "rev-list", "--reverse", "main").split(), 1):
        path = f"policies/changes/CHG-{i:05d}.yaml"
        rec = {**record("deployed"), "commit": sha, "change": f"CHG-{i:05d}"}
        notes.append((sha, json.dumps({"format": FORMAT, "commit": sha, "changes": {f"CHG-{i:05d}": {"path": path, "records": [rec]}}})))
    # one notes commit for all of them: a fast-import stream on the notes ref
    body = "".join(f"N inline {sha}\n{_data(text)}" for sha, text in notes)
    git(repo, "fast-import", "--quiet",
        data=f"commit refs/notes/netchange-ledger\ncommitter b <b@example.net> 1800000000 +0000\n{_data('notes')}{body}")


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        repo = Path(d)
        build(repo, a.changes)
        r = open_repo(repo)
        pairs = [line.split() for line in git(repo, "notes", "--ref", "netchange-ledger", "list").splitlines()]

        def ours():
            assert len(Ledger(r).entries()) == a.changes

        def per_note():
            for _, commit in pairs:
                json.loads(git(repo, "notes", "--ref", "netchange-ledger", "show", commit))

        def batch():
            out = git(repo, "cat-file", "--batch", data="".join(f"{blob}\n" for blob, _ in pairs))
            assert out.count(" blob ") == a.changes

        rows = [("netchange Ledger.entries()", timed(ours, a.runs)),
                ("plain git: notes show per note", timed(per_note, a.runs)),
                ("plain git: one cat-file --batch (unchecked)", timed(batch, a.runs))]
        claims = []
        for k in range(a.runs):  # a new change each time, deployed after its claim so the next one may go
            cid, path = f"CHG-X{k}", f"policies/changes/CHG-X{k}.yaml"
            (repo / "policies" / "changes").mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(f"id: {cid}\n")
            git(repo, "add", path)
            git(repo, "commit", "-q", "-m", f"add {cid}")
            head = git(repo, "rev-parse", "HEAD").strip()
            t = time.perf_counter()
            assert Ledger(r).claim(None, head, cid, path) == "claimed"
            claims.append(time.perf_counter() - t)
            Ledger(r).add_record(None, head, cid, path, record("deployed"))
        rows.append(("netchange claim --local (read, then compare-and-swap write)", claims))
        print(f"{a.changes} changes with notes, {a.runs} runs (seconds; first run includes netchange's adding-commit check)")
        for name, ts in rows:
            print(f"  {name:60s} median {statistics.median(ts):6.3f}  min {min(ts):6.3f}  max {max(ts):6.3f}")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
