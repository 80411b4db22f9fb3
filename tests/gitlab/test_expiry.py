"""`netchange ci expiry`: expired firewall terms become a proposed change request naming the owner."""

from __future__ import annotations

import json

import yaml

from fake_gitlab import TOKEN
from pipeline.gitlab.gitrepo import load_change_text
from scratch_repo import change, filter_block

TODAY = "2027-06-15"


def _fw(cid: str, by: str, terms: list[tuple[str, str | None]]) -> str:
    return change(cid, by=by, hosts="[fw1]", route_map=None, filters=filter_block("SSH-IN", terms))


def test_expired_term_is_proposed_for_removal_naming_who_added_it(scratch, ci, tmp_path):
    scratch.merge_change(_fw("CHG-0002", "alice@example.net", [("vendor-ssh", "2027-06-01"), ("admin-ssh", None)]), "a")
    # bob redefines the filter later (adds a term); alice's term stays: she still owns it
    scratch.merge_change(_fw("CHG-0003", "bob@example.net", [("vendor-ssh", "2027-06-01"), ("admin-ssh", None),
                                                              ("backup-ssh", "2027-12-31")]), "b")
    out = tmp_path / "proposals"
    r = ci(scratch.work, "ci", "expiry", "--today", TODAY, "--write-dir", str(out), "--json", str(tmp_path / "e.json"))
    assert r.code == 0
    assert "`vendor-ssh` expired 2027-06-01, added in CHG-0002 by alice@example.net" in r.out
    text = (out / "CHG-0004.yaml").read_text()
    proposed = load_change_text("policies/changes/CHG-0004.yaml", text)  # a valid change request
    assert proposed.requested_by == "alice@example.net"
    assert [t.name for t in proposed.firewall.filters[0].terms] == ["admin-ssh", "backup-ssh", "default-deny"]
    assert proposed.targets.hosts == ("fw1",) and "alice@example.net" in proposed.description
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc[0]["owners"] == ["alice@example.net"] and doc[0]["source_change"] == "CHG-0003"
    assert yaml.safe_load(text)["id"] == "CHG-0004"


def test_nothing_expired_nothing_proposed(scratch, ci, tmp_path):
    scratch.merge_change(_fw("CHG-0002", "alice@example.net", [("vendor-ssh", "2027-06-15")]), "a")
    r = ci(scratch.work, "ci", "expiry", "--today", TODAY, "--write-dir", str(tmp_path / "p"))
    assert "No firewall term is past its expiry date" in r.out and not (tmp_path / "p").exists()


def test_a_filter_whose_terms_all_expired_is_left_to_a_human(scratch, ci, tmp_path):
    text = _fw("CHG-0002", "alice@example.net", [("vendor-ssh", "2027-01-01")]).replace(
        "        - name: default-deny\n          action: deny\n", "")
    scratch.merge_change(text, "a")
    r = ci(scratch.work, "ci", "expiry", "--today", TODAY, "--write-dir", str(tmp_path / "p"))
    assert "decide by hand" in r.out and not (tmp_path / "p").exists()


def test_with_a_token_a_branch_and_merge_request_are_opened_once(scratch, ci, gitlab_fake, monkeypatch, tmp_path):
    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "main")
    scratch.merge_change(_fw("CHG-0002", "alice@example.net", [("vendor-ssh", "2027-06-01"), ("admin-ssh", None)]), "a")
    r = ci(scratch.work, "ci", "expiry", "--today", TODAY)
    assert r.code == 0, r.err
    [commit] = gitlab_fake.commits
    assert commit["branch"] == "netchange/expiry/SSH-IN" and commit["start_branch"] == "main"
    [action] = commit["actions"]
    assert action["action"] == "create" and action["file_path"] == "policies/changes/CHG-0003.yaml"
    proposed = load_change_text(action["file_path"], action["content"])
    assert [t.name for t in proposed.firewall.filters[0].terms] == ["admin-ssh", "default-deny"]
    [mr] = gitlab_fake.created_mrs
    assert mr["source_branch"] == "netchange/expiry/SSH-IN" and mr["target_branch"] == "main"
    assert "alice@example.net" in mr["description"]
    assert "proposed as CHG-0003: http://gitlab.test/" in r.out
    assert not (scratch.work / "policies/changes/CHG-0003.yaml").exists()  # nothing written locally
    r = ci(scratch.work, "ci", "expiry", "--today", TODAY)  # next day's schedule
    assert "proposed already" in r.out and len(gitlab_fake.created_mrs) == 1
