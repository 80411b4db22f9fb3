"""`plan` and `deploy` run the validator first: a change `validate` refuses stops with the validator's
findings (rule, file:line:column, field), before anything is planned, fetched or sent.

On the old code `plan` of an undefined service object ended with `fw1: policies/objects/services.yaml
[PINGX]: ...` (no line in the change, no rule) and `deploy` went on to connect to the devices (the issue saw
`KeyError: 'PING'` there): both tests below fail on it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleetdata import FLEET, ROOT
from pipeline.cli import main

BAD = """\
id: CHG-0100
title: Filter and prefer r3's own prefixes
requested_by: noc
targets: {hosts: [fw1]}
firewall:
  filters:
    - name: SERVER-EDGE
      attach: [server-edge]
      terms:
        - name: ping
          destinations: [198.51.100.128/25]
          services: [PINGX]
          action: accept
"""


@pytest.fixture
def bad_change(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", tmp_path / "policies" / "objects")
    shutil.copytree(FLEET, tmp_path / "inventory")
    (tmp_path / "snap").mkdir()
    shutil.copy(ROOT / "tests" / "plan" / "fixtures" / "fw-unmodelled.json", tmp_path / "snap" / "fw1.json")
    f = tmp_path / "policies" / "changes" / "CHG-0100.yaml"
    f.write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return f


def _finding_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "NC102" in line]


def test_plan_stops_with_the_validators_finding(bad_change, capsys):
    code = main(["plan", "policies/changes/CHG-0100.yaml", "--snapshots", "snap"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = _finding_lines(err)
    assert lines and "policies/changes/CHG-0100.yaml:12:22" in lines[0] and "PINGX" in lines[0], err
    assert "services[0]" in lines[0]
    assert "nothing was planned or sent" in err
    assert "Traceback" not in err and "KeyError" not in err
    assert "fw1" not in out  # no plan printed


def test_deploy_stops_before_any_device_is_contacted(bad_change, capsys, monkeypatch):
    import pipeline.deploy.deployer as deployer

    def no_device(*a, **k):
        raise AssertionError("a device was contacted for a change the validator refuses")

    monkeypatch.setattr(deployer, "connect", no_device)
    code = main(["deploy", "policies/changes/CHG-0100.yaml"])
    _, err = capsys.readouterr()
    assert code == 3  # refused: nothing touched
    lines = _finding_lines(err)
    assert lines and "policies/changes/CHG-0100.yaml:12:22" in lines[0], err
    assert "AssertionError" not in err and "Traceback" not in err


def test_valid_change_with_apostrophes_is_planned(bad_change, capsys):
    bad_change.write_text(BAD.replace("PINGX", "PING"))
    code = main(["plan", "policies/changes/CHG-0100.yaml", "--snapshots", "snap"])
    out, err = capsys.readouterr()
    assert code in (0, 4), err  # planned (the fixture's table may hold lines the plan refuses to rewrite)
    assert "NC1" not in err and "fw1" in out


def test_plan_reads_and_models_the_change_once(bad_change, capsys, monkeypatch):
    """The validator's change is the one planned: a 1 MB change file read and modelled twice cost ~0.9 s
    (fails on the old code: `plan` loaded it itself, then the validator loaded it again)."""
    import pipeline.yamlfast as yamlfast

    bad_change.write_text(BAD.replace("PINGX", "PING"))
    loads = []
    real = yamlfast.load_plain

    def counting(text):
        if "CHG-0100" in text:
            loads.append(1)
        return real(text)

    monkeypatch.setattr(yamlfast, "load_plain", counting)
    code = main(["plan", "policies/changes/CHG-0100.yaml", "--snapshots", "snap"])
    out, err = capsys.readouterr()
    assert code in (0, 4), err
    assert "fw1" in out
    assert len(loads) == 1


def test_plan_of_an_unreadable_change_names_the_file_as_before(bad_change, capsys):
    bad_change.write_text(BAD.replace("id: CHG-0100", "id: CHG-0999"))
    code = main(["plan", "policies/changes/CHG-0100.yaml", "--snapshots", "snap"])
    _, err = capsys.readouterr()
    assert code == 2  # an input error, as load_change always reported it
    assert "must equal the file name" in err and "Traceback" not in err
