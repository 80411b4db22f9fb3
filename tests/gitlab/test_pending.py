"""`netchange ci pending`: merged, undeployed change requests in merge order, inside their window."""

from __future__ import annotations

import json

from pipeline.gitlab.gitrepo import open_repo
from pipeline.gitlab.ledger import Ledger, record
from pipeline.gitlab.pending import merged_changes
from scratch_repo import change

NOW = "2027-03-01T12:00:00Z"


def test_merge_order_is_first_parent_order_not_commit_order(scratch, ci):
    scratch.git("checkout", "-q", "-b", "early", "main")
    scratch.add_change(change("CHG-0002"))
    scratch.commit_all("written first")
    scratch.git("checkout", "-q", "-b", "late", "main")
    scratch.add_change(change("CHG-0003"))
    scratch.commit_all("written second")
    m3 = scratch.merge("late")  # merged first
    m2 = scratch.merge("early")
    merged = merged_changes(open_repo(scratch.work))
    assert [(m.change, m.commit) for m in merged] == [("CHG-0003", m3), ("CHG-0002", m2)]  # the merge commits
    r = ci(scratch.work, "ci", "pending", "--local", "--now", NOW)
    assert r.code == 0 and r.out.split() == ["policies/changes/CHG-0003.yaml", "policies/changes/CHG-0002.yaml"]


def test_squash_or_direct_commits_count_too(scratch, ci):
    scratch.add_change(change("CHG-0002"))
    direct = scratch.commit_all("squashed MR")
    assert [(m.change, m.commit) for m in merged_changes(open_repo(scratch.work))] == [("CHG-0002", direct)]


def test_windows_decide_what_is_ready(scratch, ci):
    scratch.merge_change(change("CHG-0002", window="{not_before: 2027-03-01T00:00:00Z, not_after: 2027-03-02T00:00:00Z}"), "a")
    scratch.merge_change(change("CHG-0003", window="{not_before: 2027-04-01T00:00:00Z, not_after: 2027-04-02T00:00:00Z}"), "b")
    scratch.merge_change(change("CHG-0004", window="{not_before: 2027-01-01T00:00:00Z, not_after: 2027-01-02T00:00:00Z}"), "c")
    scratch.merge_change(change("CHG-0005"), "d")
    r = ci(scratch.work, "ci", "pending", "--local", "--now", NOW)
    assert r.out.split() == ["policies/changes/CHG-0002.yaml", "policies/changes/CHG-0005.yaml"]
    doc = json.loads(ci(scratch.work, "ci", "pending", "--local", "--now", NOW, "--all", "--format", "json").out)
    assert {d["change"]: d["status"] for d in doc} == {"CHG-0002": "ready", "CHG-0003": "waiting",
                                                       "CHG-0004": "missed", "CHG-0005": "ready"}


def test_deployed_changes_are_not_pending_and_released_ones_are(scratch, ci):
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    scratch.merge_change(change("CHG-0003"), "b")
    led = Ledger(open_repo(scratch.work))
    led.append(m2, "CHG-0002", "policies/changes/CHG-0002.yaml", record("deployed"))
    assert ci(scratch.work, "ci", "pending", "--local").out.split() == ["policies/changes/CHG-0003.yaml"]
    led.append(m2, "CHG-0002", "policies/changes/CHG-0002.yaml", record("released", reason="redo"))
    assert ci(scratch.work, "ci", "pending", "--local").out.split() == ["policies/changes/CHG-0002.yaml",
                                                                         "policies/changes/CHG-0003.yaml"]


def test_deleted_and_invalid_changes_are_not_deployed(scratch, ci):
    scratch.merge_change(change("CHG-0002"), "a")
    scratch.git("rm", "-q", "policies/changes/CHG-0002.yaml")
    scratch.commit_all("withdrawn before deploy")
    scratch.merge_change("id: CHG-0003\ntitle: broken\n", "b")
    r = ci(scratch.work, "ci", "pending", "--local", "--all")
    assert "CHG-0002" not in r.out
    assert "policies/changes/CHG-0003.yaml\tinvalid" in r.out
    assert ci(scratch.work, "ci", "pending", "--local").out == ""


def test_later_edit_of_an_undeployed_change_keeps_its_ledger_commit(scratch):
    m2 = scratch.merge_change(change("CHG-0002"), "a")
    scratch.git("checkout", "-q", "-b", "edit", "main")
    scratch.add_change(change("CHG-0002", local_pref=500))
    scratch.commit_all("edit")
    scratch.merge("edit")
    merged = merged_changes(open_repo(scratch.work))
    assert [(m.change, m.commit) for m in merged] == [("CHG-0002", m2)]


def test_now_must_be_a_date(scratch, ci):
    r = ci(scratch.work, "ci", "pending", "--local", "--now", "tomorrow")
    assert r.code == 2 and "ISO" in r.err
