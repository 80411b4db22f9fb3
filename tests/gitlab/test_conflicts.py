"""`netchange ci conflicts`: other change requests in flight touching the same objects on the same devices."""

from __future__ import annotations

import json

from fake_gitlab import TOKEN, OpenMR
from pipeline.gitlab.gitrepo import open_repo
from pipeline.gitlab.ledger import Ledger, record
from scratch_repo import change, filter_block


def _mine(scratch, text: str) -> str:
    scratch.git("checkout", "-q", "-b", "mine", "main")
    return str(scratch.add_change(text))


def test_merged_but_undeployed_change_on_the_same_object_conflicts(scratch, ci):
    scratch.merge_change(change("CHG-0002"), "theirs")
    path = _mine(scratch, change("CHG-0003", local_pref=500))
    r = ci(scratch.work, "ci", "conflicts", path, "--local", "--target", "main", "--format", "json")
    assert r.code == 1
    doc = json.loads(r.out)
    assert [c["change"] for c in doc["conflicts"]] == ["CHG-0002"]
    overlaps = doc["conflicts"][0]["overlaps"]
    assert {"device": "r1", "kind": "route_map", "name": "RM-R3-IN"} in overlaps
    assert {"device": "r1", "kind": "prefix_list", "name": "PL-R3-IN"} in overlaps
    assert "not deployed" in doc["conflicts"][0]["source"]


def test_deployed_changes_are_the_baseline_not_conflicts(scratch, ci):
    m2 = scratch.merge_change(change("CHG-0002"), "theirs")
    Ledger(open_repo(scratch.work)).append(m2, "CHG-0002", "policies/changes/CHG-0002.yaml", record("deployed"))
    path = _mine(scratch, change("CHG-0003", local_pref=500))
    r = ci(scratch.work, "ci", "conflicts", path, "--local", "--target", "main")
    assert r.code == 0 and "CHG-0003: no conflicts" in r.out


def test_same_object_on_other_devices_or_other_objects_do_not_conflict(scratch, ci):
    scratch.merge_change(change("CHG-0002", hosts="[r2]"), "other-device")
    scratch.merge_change(change("CHG-0004", route_map="RM-OTHER"), "other-object")
    path = _mine(scratch, change("CHG-0003", route_map="RM-R3-IN").replace("PL-R3-IN", "PL-MINE"))
    r = ci(scratch.work, "ci", "conflicts", path, "--local", "--target", "main", "--format", "json")
    assert json.loads(r.out)["conflicts"] == [] and r.code == 0


def test_open_merge_requests_come_from_the_api(scratch, ci, gitlab_fake, monkeypatch):
    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    gitlab_fake.open_mrs += [
        OpenMR(7, "this MR", "alice", "a" * 40, {"policies/changes/CHG-0003.yaml": change("CHG-0003")}),
        OpenMR(8, "firewall only", "carol", "b" * 40,
               {"policies/changes/CHG-0005.yaml": change("CHG-0005", hosts="[fw1]", route_map=None,
                                                         filters=filter_block("SSH-IN", [("ssh", None)]))}),
        OpenMR(9, "Tune r3", "bob", "c" * 40, {"policies/changes/CHG-0004.yaml": change("CHG-0004", local_pref=50),
                                               "docs/notes.md": "not a change"}),
        OpenMR(10, "broken", "dave", "d" * 40, {"policies/changes/CHG-0006.yaml": "id: CHG-0006\n"}),
    ]
    path = _mine(scratch, change("CHG-0003"))
    r = ci(scratch.work, "ci", "conflicts", path, "--local", "--target", "main", "--format", "markdown")
    assert r.code == 1
    assert "**CHG-0004** ([open MR !9 by @bob: Tune r3](http://gitlab.test/group/project/-/merge_requests/9))" in r.out
    assert "`route_map RM-R3-IN` on r1" in r.out
    assert "CHG-0005" not in r.out.split("note:")[0] and "!7" not in r.out
    assert "MR !10 CHG-0006.yaml: not a valid change request" in r.out
    paths = [q["path"] for q in gitlab_fake.requests]
    assert "/api/v4/projects/42/merge_requests/9/diffs" in paths
    assert all(q["token"] == TOKEN for q in gitlab_fake.requests)


def test_without_a_token_open_mrs_are_named_as_not_checked(scratch, ci):
    path = _mine(scratch, change("CHG-0003"))
    r = ci(scratch.work, "ci", "conflicts", path, "--local", "--target", "main")
    assert r.code == 0 and "open MRs not checked: no GitLab token" in r.out
