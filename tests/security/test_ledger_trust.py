"""The deploy ledger cannot be raced or forged into deploying a change twice, and no note crashes it.

`ci claim --local` had no lock (two winners in 5 of 17 rounds); a forged `released` note on another
commit hid a `deployed` record and the change was claimed again; notes shaped `[]`, `"x"` or records
without `state` crashed every `ci` command. Claims are now a compare-and-swap with or without a remote,
records count only on the commit that added their change, and bad notes are reported, never obeyed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gitlab"))  # scratch repositories

from pipeline.cli import main  # noqa: E402
from pipeline.gitlab.gitrepo import open_repo, remote  # noqa: E402
from pipeline.gitlab.ledger import BUSY, CLAIMED, FORMAT, TAKEN, Ledger, record  # noqa: E402
from scratch_repo import PYTHON, Scratch, change  # noqa: E402

PATH = "policies/changes/CHG-0002.yaml"
NOTES = "refs/notes/netchange-ledger"


@pytest.fixture
def scratch(tmp_path) -> Scratch:
    return Scratch(tmp_path)


@pytest.fixture
def ci(monkeypatch, capsys):
    """netchange … in-process inside a directory -> (exit code, stdout, stderr); never a traceback."""
    for var in ("NETCHANGE_GITLAB_TOKEN", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "NETCHANGE_GIT_REMOTE", "NETCHANGE_DEBUG"):
        monkeypatch.delenv(var, raising=False)

    def run(cwd: Path, *argv: str) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(argv))
        c = capsys.readouterr()
        assert "Traceback" not in c.err and "unexpected" not in c.err, c.err
        return code, c.out, c.err

    return run


def put_note(scratch: Scratch, commit: str, doc) -> None:
    """Write a raw note with plain git, as anyone with push access to the notes ref could."""
    text = doc if isinstance(doc, str) else json.dumps(doc)
    scratch.git("notes", "--ref", "netchange-ledger", "add", "-f", "-m", text, commit)


# -- concurrency -------------------------------------------------------------------------------------

def test_local_claims_have_one_winner_even_when_every_claimant_reads_first(scratch, monkeypatch):
    """Forced interleaving: every claimant has read the (empty) ledger before any of them writes — the
    case that gave two winners. Compare-and-swap lets exactly one through, every round."""
    rounds, claimants = 4, 4
    merges = [scratch.merge_change(change(f"CHG-03{i:02d}"), f"mr{i}") for i in range(rounds)]
    real_entries = Ledger.entries
    for i, merge in enumerate(merges):
        cid, path = f"CHG-03{i:02d}", f"policies/changes/CHG-03{i:02d}.yaml"
        barrier = threading.Barrier(claimants, timeout=60)
        first_read = threading.local()

        def entries(self, first_read=first_read, barrier=barrier):
            if not getattr(first_read, "done", False):
                first_read.done = True
                barrier.wait()  # nobody writes before everybody has looked
            return real_entries(self)

        monkeypatch.setattr(Ledger, "entries", entries)
        results: list[str] = []

        def claim(results=results, merge=merge, cid=cid, path=path):
            results.append(Ledger(open_repo(scratch.work)).claim(None, merge, cid, path))

        threads = [threading.Thread(target=claim) for _ in range(claimants)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        monkeypatch.setattr(Ledger, "entries", real_entries)
        assert sorted(results) == [CLAIMED] + [TAKEN] * (claimants - 1), f"round {i}: {results}"
        led = Ledger(open_repo(scratch.work))
        assert [r["state"] for r in led.entry(cid).records] == ["claimed"]
        led.add_record(None, merge, cid, path, record("deployed"))


def test_ci_claim_local_in_parallel_processes_has_one_winner_per_round(scratch, tmp_path):
    """The command users run, several at once in one checkout, round after round."""
    rounds, claimants = 4, 4
    for i in range(rounds):
        scratch.merge_change(change(f"CHG-04{i:02d}"), f"mr{i}")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for i in range(rounds):
        procs = [subprocess.Popen([str(PYTHON), "-m", "pipeline.gitlab", "ci", "claim", "--local", "--dotenv",
                                   str(tmp_path / f"r{i}-{k}.env")], cwd=scratch.work, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(claimants)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        won = [(tmp_path / f"r{i}-{k}.env").read_text() for k in range(claimants)]
        winners = [w for w in won if "NETCHANGE_CHANGE_ID=CHG" in w]
        assert len(winners) == 1, f"round {i}: {won}"
        assert f"NETCHANGE_CHANGE_ID=CHG-04{i:02d}\n" in winners[0]
        led = Ledger(open_repo(scratch.work))
        e = led.entry(f"CHG-04{i:02d}")
        assert [r["state"] for r in e.records] == ["claimed"]
        led.add_record(None, e.commit, e.change, e.path, record("deployed"))


# -- forged and misplaced records ------------------------------------------------------------------------

def _commit_sorting_after(scratch: Scratch, sha: str) -> str:
    """A commit whose id sorts after *sha*: git lists notes in that order, and the old reader let the
    last one listed win."""
    for n in range(64):
        scratch.write(f"docs/filler-{n}.txt", f"{n}\n")
        c = scratch.commit_all(f"unrelated {n}")
        if c > sha:
            return c
    raise AssertionError("no commit id sorted after the merge in 64 tries")


def test_a_forged_released_note_on_another_commit_does_not_free_a_deployed_change(scratch, ci):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    led = Ledger(open_repo(scratch.work))
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED
    led.add_record(remote("origin"), merge, "CHG-0002", PATH, record("deployed", exit_code=0))
    scratch.git("fetch", "-q", "origin", f"+{NOTES}:{NOTES}")
    forged_on = [scratch.head("HEAD~1"), _commit_sorting_after(scratch, merge)]  # before and after in list order
    for c in forged_on:
        put_note(scratch, c, {"format": FORMAT, "commit": c, "changes": {"CHG-0002": {
            "path": PATH, "records": [record("released", reason="forged")]}}})
    scratch.git("push", "-q", "origin", "main", f"{NOTES}:{NOTES}")

    led = Ledger(open_repo(scratch.work))
    assert led.entry("CHG-0002").state == "deployed"
    assert {p.commit for p in led.problems} == set(forged_on)
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == TAKEN
    code, out, err = ci(scratch.work, "ci", "pending", "--now", "2027-03-01T12:00:00Z")
    assert code == 0 and "CHG-0002" not in out
    code, out, err = ci(scratch.work, "ci", "ledger")
    assert code == 0 and "CHG-0002\tdeployed" in out
    for c in forged_on:
        assert (f"warning ledger note on {c[:12]} (CHG-0002): holds records of 'CHG-0002', but this commit did not "
                f"add policies/changes/CHG-0002.yaml; ignored") in " ".join(err.split())


def test_records_name_the_commit_and_change_they_belong_to(scratch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    Ledger(open_repo(scratch.work)).claim(None, merge, "CHG-0002", PATH)
    note = json.loads(scratch.git("notes", "--ref", "netchange-ledger", "show", merge))
    assert note["commit"] == merge
    rec = note["changes"]["CHG-0002"]["records"][0]
    assert (rec["state"], rec["commit"], rec["change"]) == ("claimed", merge, "CHG-0002")


def test_a_record_copied_from_another_commit_puts_the_change_in_doubt(scratch, ci):
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    m3 = scratch.merge_change(change("CHG-0003"), "b")
    led = Ledger(open_repo(scratch.work))
    led.append(m2, "CHG-0002", PATH, record("deployed"))
    note = json.loads(scratch.git("notes", "--ref", "netchange-ledger", "show", m2))
    released_elsewhere = {**record("released"), "commit": m3, "change": "CHG-0002"}
    note["changes"]["CHG-0002"]["records"].append(released_elsewhere)
    put_note(scratch, m2, note)
    e = Ledger(open_repo(scratch.work)).entry("CHG-0002")
    assert e.blocks_deploy and e.state == "unreadable" and f"names commit {m3[:12]}" in e.problem
    code, out, _ = ci(scratch.work, "ci", "pending", "--local")
    assert code == 0 and out.split() == ["policies/changes/CHG-0003.yaml"]
    code, _, err = ci(scratch.work, "ci", "claim", "--local", "--dotenv", str(scratch.base / "claim.env"))
    assert code == 0 and "nothing to deploy" in err  # CHG-0002 is in doubt, so CHG-0003 waits behind it


# -- malformed notes -----------------------------------------------------------------------------------

BAD_NOTES = {
    "array": [],
    "string": "x",
    "not-json": "{",
    "changes-array": {"changes": []},
    "entry-array": {"changes": {"CHG-0002": []}},
    "record-without-state": {"changes": {"CHG-0002": {"path": PATH, "records": [{"at": "2026-01-01T00:00:00+00:00"}]}}},
    "record-string": {"changes": {"CHG-0002": {"path": PATH, "records": ["deployed"]}}},
    "unknown-state": {"changes": {"CHG-0002": {"path": PATH, "records": [{"state": "approved"}]}}},
    "other-commit": {"commit": "0" * 40, "changes": {}},
}


@pytest.mark.parametrize("shape", sorted(BAD_NOTES))
def test_a_malformed_note_is_reported_and_its_change_is_in_doubt(scratch, ci, shape):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    scratch.merge_change(change("CHG-0003"), "mr3")
    put_note(scratch, merge, json.dumps(BAD_NOTES[shape]) if not isinstance(BAD_NOTES[shape], str) else BAD_NOTES[shape])
    code, out, err = ci(scratch.work, "ci", "ledger", "--local")
    assert code == 0 and "CHG-0002\tunreadable" in out
    assert f"ledger note on {merge[:12]}" in err
    code, out, err = ci(scratch.work, "ci", "pending", "--local", "--all")
    assert code == 0 and "policies/changes/CHG-0002.yaml\tdone\tledger: unreadable" in out
    code, _, err = ci(scratch.work, "ci", "claim", "--local", "--dotenv", str(scratch.base / "claim.env"))
    assert code == 0 and "nothing to deploy" in err  # neither the doubtful change nor the one behind it
    assert "NETCHANGE_CHANGE_ID=\n" in (scratch.base / "claim.env").read_text()
    led = Ledger(open_repo(scratch.work))
    assert led.claim(None, scratch.head(), "CHG-0003", "policies/changes/CHG-0003.yaml") == BUSY
    code, _, err = ci(scratch.work, "ci", "release", "CHG-0002", "--reason", "x", "--local")
    assert code == 1 and f"git notes --ref netchange-ledger edit {merge}" in " ".join(err.split())
    code, _, err = ci(scratch.work, "ci", "changed", "--local", "--base", "HEAD~1")
    assert code == 0


def test_a_malformed_note_on_a_commit_that_added_nothing_blocks_nothing(scratch, ci):
    skeleton = scratch.head()
    scratch.merge_change(change("CHG-0002"), "mr")
    put_note(scratch, skeleton, "[]")
    led = Ledger(open_repo(scratch.work))
    assert led.entries() == {}
    assert [str(p) for p in led.problems] == [f"ledger note on {skeleton[:12]}: is JSON list, not an object; ignored"]
    code, out, _ = ci(scratch.work, "ci", "pending", "--local")
    assert code == 0 and out.split() == [PATH]


def test_a_giant_note_is_not_read(scratch, ci):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    big = scratch.base / "big.json"
    big.write_text('{"changes": {}, "pad": "' + "x" * (5 * 1024 * 1024) + '"}')
    scratch.git("notes", "--ref", "netchange-ledger", "add", "-f", "-F", str(big), merge)
    e = Ledger(open_repo(scratch.work)).entry("CHG-0002")
    assert e.state == "unreadable" and "too large" in e.problem


def test_notes_written_before_records_named_their_commit_still_count(scratch, ci):
    """Ledgers written by earlier versions (records without commit/change) keep their meaning."""
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    put_note(scratch, merge, {"format": FORMAT, "commit": merge, "changes": {"CHG-0002": {"path": PATH, "records": [
        {"state": "claimed", "at": "2026-01-01T00:00:00+00:00", "by": "ci", "id": "a"},
        {"state": "deployed", "at": "2026-01-01T00:05:00+00:00", "by": "ci", "id": "b"}]}}})
    led = Ledger(open_repo(scratch.work))
    assert led.entry("CHG-0002").state == "deployed" and led.problems == []
    code, out, err = ci(scratch.work, "ci", "pending", "--local")
    assert code == 0 and out.split() == [] and "warning" not in err
