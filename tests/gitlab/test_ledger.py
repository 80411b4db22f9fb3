"""The ledger: git notes on the adding commit, readable with plain git, kept on the remote, and safe
when two deployers race for the same change."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading

from pipeline.gitlab.gitrepo import open_repo, remote
from pipeline.gitlab.ledger import BUSY, CLAIMED, TAKEN, Ledger, record
from scratch_repo import change

PATH = "policies/changes/CHG-0002.yaml"


def _ledger(path) -> Ledger:
    return Ledger(open_repo(path))


def test_records_are_git_notes_readable_with_plain_git(scratch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    led = _ledger(scratch.work)
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED
    led.add_record(remote("origin"), merge, "CHG-0002", PATH, record("deployed", exit_code=0))
    fresh = scratch.clone("fresh")  # another machine: plain git only
    subprocess.run(["git", "fetch", "-q", "origin", "refs/notes/netchange-ledger:refs/notes/netchange-ledger"],
                   cwd=fresh, check=True)
    shown = subprocess.run(["git", "notes", "--ref", "netchange-ledger", "show", merge], cwd=fresh,
                           check=True, capture_output=True, text=True).stdout
    doc = json.loads(shown)
    assert doc["format"] == "netchange-ledger/1" and doc["commit"] == merge
    assert [r["state"] for r in doc["changes"]["CHG-0002"]["records"]] == ["claimed", "deployed"]
    assert doc["changes"]["CHG-0002"]["path"] == PATH


def test_ledger_survives_the_loss_of_the_runner(scratch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    runner = scratch.clone("runner")
    assert _ledger(runner).claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED
    shutil.rmtree(runner)  # the runner is gone mid-deploy
    other = scratch.clone("other-runner")
    led = _ledger(other)
    led.fetch(remote("origin"))
    e = led.entry("CHG-0002")
    assert e is not None and e.state == "claimed" and e.blocks_deploy
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == TAKEN  # never deployed twice


def test_a_rejected_push_means_someone_else_claimed_first(scratch, monkeypatch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    a, b = _ledger(scratch.clone("a")), _ledger(scratch.clone("b"))
    b.fetch(remote("origin"))  # b looks at the (empty) ledger ...
    assert a.claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED  # ... a claims meanwhile
    fetches, pushes = [], []
    real_fetch, real_push = Ledger.fetch, Ledger.push

    def stale_first_fetch(self, rem):  # b's first look is the stale one from before a's claim
        fetches.append(1)
        if len(fetches) > 1:
            real_fetch(self, rem)

    def counting_push(self, rem):
        ok = real_push(self, rem)
        pushes.append(ok)
        return ok

    monkeypatch.setattr(Ledger, "fetch", stale_first_fetch)
    monkeypatch.setattr(Ledger, "push", counting_push)
    assert b.claim(remote("origin"), merge, "CHG-0002", PATH) == TAKEN
    assert pushes == [False]  # non-fast-forward rejected, then the refetch showed a's claim
    monkeypatch.undo()
    check = _ledger(scratch.clone("check"))
    check.fetch(remote("origin"))
    assert len(check.entry("CHG-0002").records) == 1


def test_concurrent_claims_have_exactly_one_winner(scratch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    clones = [scratch.clone(f"c{i}") for i in range(4)]
    results: list[str] = []
    barrier = threading.Barrier(len(clones))

    def claim(path):
        led = _ledger(path)
        barrier.wait()
        results.append(led.claim(remote("origin"), merge, "CHG-0002", PATH))

    threads = [threading.Thread(target=claim, args=(c,)) for c in clones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [CLAIMED] + [TAKEN] * 3


def test_a_deploy_in_flight_makes_other_changes_wait(scratch):
    m2 = scratch.merge_change(change("CHG-0002"), "mr2")
    m3 = scratch.merge_change(change("CHG-0003"), "mr3")
    led = _ledger(scratch.work)
    assert led.claim(remote("origin"), m2, "CHG-0002", PATH) == CLAIMED
    assert led.claim(remote("origin"), m3, "CHG-0003", "policies/changes/CHG-0003.yaml") == BUSY
    led.add_record(remote("origin"), m2, "CHG-0002", PATH, record("deployed"))
    assert led.claim(remote("origin"), m3, "CHG-0003", "policies/changes/CHG-0003.yaml") == CLAIMED


def test_the_remote_is_the_truth_when_it_has_no_ledger(scratch):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    led = _ledger(scratch.work)
    led.append(merge, "CHG-0002", PATH, record("deployed"))  # local only, never pushed
    led.fetch(remote("origin"))
    assert led.entries() == {}


def test_release_lets_a_change_be_claimed_again(scratch, ci):
    merge = scratch.merge_change(change("CHG-0002"), "mr")
    led = _ledger(scratch.work)
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED
    r = ci(scratch.work, "ci", "ledger")
    assert "CHG-0002\tclaimed" in r.out and "in doubt" in r.out
    r = ci(scratch.work, "ci", "release", "CHG-0002", "--reason", "runner lost; devices checked by hand")
    assert r.code == 0
    assert led.claim(remote("origin"), merge, "CHG-0002", PATH) == CLAIMED
    doc = json.loads(ci(scratch.work, "ci", "ledger", "--format", "json").out)
    assert [r["state"] for r in doc[0]["records"]] == ["claimed", "released", "claimed"]
    assert doc[0]["records"][1]["reason"] == "runner lost; devices checked by hand"


def test_adopt_marks_existing_changes_once(scratch, ci):
    scratch.merge_change(change("CHG-0002"), "mr")
    r = ci(scratch.work, "ci", "adopt")
    assert r.code == 0 and "1 change request(s) adopted: CHG-0002" in r.err
    r = ci(scratch.work, "ci", "adopt")
    assert "0 change request(s) adopted" in r.err
    assert "CHG-0002\tadopted" in ci(scratch.work, "ci", "ledger").out
