"""The commands through the real entry point `pipeline.cli.main`: exit codes and report shapes."""

from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree as ET

import pytest

from pipeline.cli import main
from pipeline.validate.cli import schema_text

from .conftest import EXAMPLES, FLEET, REPO, dump, fw, term

GOOD = fw(term("web", destinations=["192.0.2.10"], protocols=["tcp"], destination_ports=[443]), term("rest", "deny", log=True))
BAD = fw(term("deny-net", "deny", sources=["10.0.0.0/8"]), term("allow-sub", sources=["10.1.0.0/16"]),
         term("warn", "deny", protocols=["tcp"], destination_ports=[23]))


def run(project, *args):
    return main(["validate", "--project", str(project.root), "--inventory", str(FLEET), "--now", "2027-01-15T12:00:00", *args])


@pytest.fixture
def files(write):
    return write(GOOD), write(BAD)


def test_exit_codes(project, files, tmp_path, capsys):
    good, bad = files
    assert run(project, str(good)) == 0
    assert run(project, str(bad)) == 1
    assert run(project, str(tmp_path / "missing.yaml")) == 2
    assert run(project, "--format", "xml", str(good)) == 2
    assert main(["validate", "--project", str(tmp_path), str(good)]) == 2  # not a project
    assert run(project, "--inventory", str(tmp_path), str(good)) == 2  # 'last --inventory wins': no hosts.yaml


def test_text_is_grouped_and_scannable(project, files, capsys):
    run(project, *map(str, files))
    out = capsys.readouterr().out
    assert "NC201" in out and "allow-sub" in out and "deny-net" in out
    assert out.strip().splitlines()[-1].startswith("2 file(s): 1 error(s), 1 warning(s)")


def test_json(project, files, capsys):
    assert run(project, "--format", "json", *map(str, files)) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"files": 2, "errors": 1, "warnings": 1, "info": 0}
    bad = doc["files"][1]
    f = next(x for x in bad["findings"] if x["rule"] == "NC201")
    assert f["related"] == ["deny-net"] and f["line"] and f["column"] and f["field"].endswith("terms[1].name")
    assert set(f) == {"rule", "name", "severity", "message", "file", "line", "column", "field", "related"}


def test_junit(project, files, tmp_path):
    out = tmp_path / "report.xml"
    assert run(project, "--format", "junit", "--output", str(out), *map(str, files)) == 1
    root = ET.parse(out).getroot()
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 2 and root.find("testsuite").get("failures") == "1"
    assert not cases[0].findall("failure")
    assert [f.get("type") for f in cases[1].findall("failure")] == ["NC201"]
    assert "NC203" in cases[1].find("system-out").text


def test_codequality(project, files, write, capsys):
    dup = write(dump(BAD))
    assert run(project, "--format", "codequality", *map(str, files), str(dup)) == 1
    issues = json.loads(capsys.readouterr().out)
    assert issues and all(set(i) == {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)
    assert all(i["severity"] in {"info", "minor", "major", "critical", "blocker"} for i in issues)
    assert all(not i["location"]["path"].startswith("/") and i["location"]["lines"]["begin"] >= 1 for i in issues)
    fps = [i["fingerprint"] for i in issues]
    assert len(set(fps)) == len(fps)
    run(project, "--format", "codequality", *map(str, files), str(dup))
    assert [i["fingerprint"] for i in json.loads(capsys.readouterr().out)] == fps  # stable


def test_fingerprint_survives_unrelated_line_shift(project, write, capsys):
    a = write(BAD)
    run(project, "--format", "codequality", str(a))
    before = {i["fingerprint"] for i in json.loads(capsys.readouterr().out)}
    a.write_text("# a new comment line on top\n" + a.read_text())
    run(project, "--format", "codequality", str(a))
    assert {i["fingerprint"] for i in json.loads(capsys.readouterr().out)} == before


def test_default_is_every_change_of_the_project(project, tmp_path, capsys):
    root = tmp_path / "p"
    shutil.copytree(project.root / "policies" / "objects", root / "policies" / "objects")
    (root / "policies" / "changes").mkdir()
    (root / "inventory").mkdir()
    (root / "policies" / "changes" / "CHG-1.yaml").write_text(dump(GOOD))
    (root / "policies" / "changes" / "CHG-2.yaml").write_text(dump({**GOOD, "id": "CHG-2"}))
    assert main(["validate", "--project", str(root), "--inventory", str(FLEET), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["files"] == 2


def test_internal_error_is_a_finding_not_a_traceback(project, files, monkeypatch, capsys):
    from pipeline.validate import rules

    def boom(ctx):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(rules, "CHECKS", (("boom", boom),))
    from pipeline.validate import validator

    monkeypatch.setattr(validator, "CHECKS", (("boom", boom),))
    assert run(project, "-f", "json", str(files[0])) == 1
    assert "NC900" in capsys.readouterr().out


def test_schema_command_and_committed_schema_is_current(tmp_path):
    out = tmp_path / "s.json"
    assert main(["schema", "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["properties"]["routing"] and "continue" in json.dumps(doc)  # by_alias
    committed = REPO / "policies" / "change-request.schema.json"
    assert committed.read_text() == schema_text(), "run: netchange schema -o policies/change-request.schema.json"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_examples_parse_and_check_without_internal_errors(project, example, capsys):
    rc = run(project, "-f", "json", str(EXAMPLES / example))
    doc = json.loads(capsys.readouterr().out)
    found = {f["rule"] for f in doc["files"][0]["findings"]}
    assert rc in (0, 1) and "NC900" not in found and not found & {"NC001", "NC002", "NC003", "NC004"}


def test_examples_are_clean_against_the_example_fleet(project, capsys):
    """The examples together use every construct and are what a reviewer should see pass."""
    rc = run(project, "-f", "json", *[str(p) for p in sorted(EXAMPLES.glob("*.yaml"))])
    doc = json.loads(capsys.readouterr().out)
    errors = [f["rule"] for d in doc["files"] for f in d["findings"] if f["severity"] == "error"]
    assert rc == 0 and not errors, errors


def test_bundled_demo_change_is_clean_against_the_lab_inventory(capsys):
    rc = main(["validate", "--project", str(REPO), "--now", "2027-01-15T12:00:00", "-f", "json",
               str(REPO / "policies" / "changes" / "CHG-0001.yaml")])
    assert rc == 0, capsys.readouterr().out
