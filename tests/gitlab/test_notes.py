"""`netchange ci note` and `ci summary`: one netchange note per MR, created once, then updated."""

from __future__ import annotations

import json

from fake_gitlab import TOKEN
from pipeline.gitlab.notes import MARKER


def test_note_is_created_then_updated_in_place(scratch, ci, gitlab_fake, monkeypatch, tmp_path):
    monkeypatch.setenv("NETCHANGE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    human = {"id": 5, "username": "alice", "name": "Alice"}
    for i in range(3):  # more notes than one API page holds (the fake pages by 2)
        gitlab_fake.add_note(7, f"comment {i}", human)
    gitlab_fake.add_note(7, f"quoting the bot: {MARKER} old summary", human)  # not ours: never edited
    summary = tmp_path / "summary.md"
    summary.write_text("first summary\n")
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert r.code == 0 and "created" in r.err
    summary.write_text("second summary\n")
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert r.code == 0 and "updated" in r.err
    ours = [n for n in gitlab_fake.notes[7] if n["author"]["id"] == gitlab_fake.bot["id"]]
    assert len(ours) == 1 and ours[0]["body"] == f"{MARKER}\nsecond summary\n"
    assert gitlab_fake.notes[7][3]["body"].endswith("old summary")
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert "unchanged" in r.err
    assert [q["method"] for q in gitlab_fake.requests].count("POST") == 1


def test_note_needs_a_merge_request_and_a_token(scratch, ci, gitlab_fake, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("x\n")
    r = ci(scratch.work, "ci", "note", "--file", str(summary))
    assert r.code == 2 and "no merge request" in r.err
    r = ci(scratch.work, "ci", "note", "--file", str(summary), "--mr", "7")
    assert r.code == 1 and "NETCHANGE_GITLAB_TOKEN" in r.err and "Traceback" not in r.err


def test_summary_composes_the_pipeline_reports(scratch, ci, tmp_path):
    d = tmp_path / "out"
    (d / "plan").mkdir(parents=True)
    (d / "conflicts").mkdir()
    (d / "changed.json").write_text(json.dumps({"files": [{"path": "policies/changes/CHG-0002.yaml", "status": "added",
                                                            "change": "CHG-0002"}], "problems": []}))
    (d / "validate.exit").write_text("1\n")
    (d / "gl-code-quality-report.json").write_text(json.dumps([{
        "description": "NC151 host 'nosuch' is not in the inventory", "check_name": "NC151", "fingerprint": "x",
        "severity": "major", "location": {"path": "policies/changes/CHG-0002.yaml", "lines": {"begin": 4}}}]))
    (d / "conflicts" / "CHG-0002.json").write_text(json.dumps({"change": "CHG-0002", "warnings": [], "conflicts": [
        {"change": "CHG-0009", "source": "open MR !9 by @bob: x", "url": None,
         "overlaps": [{"device": "r1", "kind": "route_map", "name": "RM-A"}]}]}))
    r = ci(scratch.work, "ci", "summary", "--dir", str(d))
    assert r.code == 0
    assert r.out.startswith("## netchange: CHG-0002")
    assert ":x: failed (exit 1)" in r.out and "`policies/changes/CHG-0002.yaml:4`" in r.out and "nosuch" in r.out
    assert "**CHG-0009** (open MR !9 by @bob: x)" in r.out and "`route_map RM-A` on r1" in r.out
    assert "**Plan (CHG-0002):** not available" in r.out
