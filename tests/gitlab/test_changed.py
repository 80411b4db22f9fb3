"""`netchange ci changed`: what an MR adds or modifies, one change per MR, no edits to deployed changes."""

from __future__ import annotations

import json

from scratch_repo import change


def _mr(scratch, *changes: str, branch: str = "mr") -> str:
    base = scratch.head("main")
    scratch.git("checkout", "-q", "-b", branch, "main")
    for text in changes:
        scratch.add_change(text)
    scratch.commit_all("mr")
    return base


def test_added_change_is_listed_as_path_and_json(scratch, ci):
    base = _mr(scratch, change("CHG-0002"))
    r = ci(scratch.work, "ci", "changed", "--base", base, "--local")
    assert r.code == 0
    assert r.out.split() == ["policies/changes/CHG-0002.yaml"]
    r = ci(scratch.work, "ci", "changed", "--base", base, "--local", "--format", "json")
    doc = json.loads(r.out)
    assert doc["files"] == [{"path": "policies/changes/CHG-0002.yaml", "status": "added", "change": "CHG-0002", "old_path": None}]
    assert doc["problems"] == [] and doc["base"] == base


def test_diff_base_comes_from_gitlab_variable(scratch, ci, monkeypatch):
    base = _mr(scratch, change("CHG-0002"))
    monkeypatch.setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)
    r = ci(scratch.work, "ci", "changed", "--local")
    assert r.code == 0 and r.out.split() == ["policies/changes/CHG-0002.yaml"]


def test_no_diff_base_is_a_clear_error(scratch, ci):
    r = ci(scratch.work, "ci", "changed", "--local")
    assert r.code == 1 and "CI_MERGE_REQUEST_DIFF_BASE_SHA" in r.err and "Traceback" not in r.err


def test_changes_merged_to_main_after_branching_do_not_count(scratch, ci):
    scratch.git("checkout", "-q", "-b", "mr", "main")
    scratch.add_change(change("CHG-0002"))
    scratch.commit_all("mr")
    scratch.merge_change(change("CHG-0003"), "other")  # main moves on meanwhile
    scratch.git("checkout", "-q", "mr")
    r = ci(scratch.work, "ci", "changed", "--base", "main", "--local")
    assert r.code == 0 and r.out.split() == ["policies/changes/CHG-0002.yaml"]


def test_more_than_max_change_requests_fail(scratch, ci):
    base = _mr(scratch, change("CHG-0002"), change("CHG-0003"))
    r = ci(scratch.work, "ci", "changed", "--base", base, "--local")
    assert r.code == 1 and "at most 1 per merge request" in r.err
    assert ci(scratch.work, "ci", "changed", "--base", base, "--local", "--max", "2").code == 0


def test_examples_and_other_files_are_not_change_requests(scratch, ci):
    base = scratch.head("main")
    scratch.write("policies/changes/examples/CHG-9000.yaml", change("CHG-9000"))
    scratch.write("policies/changes/README.md", "notes\n")
    scratch.commit_all("docs")
    r = ci(scratch.work, "ci", "changed", "--base", base, "--local")
    assert r.code == 0 and r.out == ""


def test_editing_or_deleting_a_deployed_change_is_refused(scratch, ci):
    merge = scratch.merge_change(change("CHG-0002"), "first")
    from pipeline.gitlab.gitrepo import open_repo
    from pipeline.gitlab.ledger import Ledger, record

    Ledger(open_repo(scratch.work)).append(merge, "CHG-0002", "policies/changes/CHG-0002.yaml", record("deployed"))
    scratch.git("push", "-q", "origin", "refs/notes/netchange-ledger")
    base = _mr(scratch, change("CHG-0002", local_pref=400), branch="edit")
    r = ci(scratch.work, "ci", "changed", "--base", base)  # fetches the ledger from origin
    assert r.code == 1 and "CHG-0002 is already deployed" in r.err and "new change request" in r.err
    scratch.git("checkout", "-q", "main")
    scratch.git("checkout", "-q", "-b", "delete")
    scratch.git("rm", "-q", "policies/changes/CHG-0002.yaml")
    scratch.git("commit", "-q", "-m", "delete")
    r = ci(scratch.work, "ci", "changed", "--base", "main")
    assert r.code == 1 and "keep the file" in r.err


def test_editing_an_undeployed_change_is_fine(scratch, ci):
    scratch.merge_change(change("CHG-0002"), "first")
    base = _mr(scratch, change("CHG-0002", local_pref=400), branch="edit")
    r = ci(scratch.work, "ci", "changed", "--base", base)
    assert r.code == 0 and r.out.split() == ["policies/changes/CHG-0002.yaml"]
