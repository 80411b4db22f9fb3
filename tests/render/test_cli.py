"""`netchange render CHANGE --host H`: plain config on stdout, one clear line on stderr and exit 1/2 otherwise."""

from __future__ import annotations

import shutil

import pytest

from pipeline.cli import main

from .conftest import EXAMPLES, FLEET, GOLDEN, ROOT


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_render_prints_plain_config(capsys):
    code, out, err = run(capsys, str(EXAMPLES / "CHG-1002.yaml"), "--host", "r1", "--inventory", str(FLEET))
    assert code == 0 and err == ""
    assert out == (GOLDEN / "CHG-1002.r1.txt").read_text()
    assert "\x1b[" not in out  # no colour codes, no rich markup


@pytest.mark.parametrize("host,code,message", [
    ("nope", 2, "unknown host 'nope'"),
    ("fw1", 2, "does not target host fw1"),
])
def test_clean_errors(capsys, host, code, message):
    c, out, err = run(capsys, str(EXAMPLES / "CHG-1002.yaml"), "--host", host, "--inventory", str(FLEET))
    assert c == code and out == "" and message in err and "Traceback" not in err


def _project(tmp_path, change_text: str):
    (tmp_path / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", tmp_path / "policies" / "objects")
    shutil.copytree(FLEET, tmp_path / "inventory")
    f = tmp_path / "policies" / "changes" / "CHG-4242.yaml"
    f.write_text(change_text)
    return f


def test_unsupported_construct_is_exit_1(capsys, tmp_path):
    f = _project(tmp_path, "id: CHG-4242\ntitle: t\nrequested_by: t\ntargets: {hosts: [ios1]}\nrouting:\n  community_lists:\n"
                           "    - {name: CL-L, kind: large, entries: [{action: permit, communities: ['1:2:3']}]}\n")
    code, out, err = run(capsys, str(f), "--host", "ios1")  # inventory found from the project
    assert code == 1 and out == "" and "large-community lists are not supported on cisco_ios" in err and "Traceback" not in err


def test_schema_error_is_exit_2(capsys, tmp_path):
    f = _project(tmp_path, "id: CHG-4242\ntitle: t\nrequested_by: t\ntargets: {hosts: [r1]}\nrouting:\n  route_maps:\n"
                           "    - {name: \"RM\\nend\", entries: []}\n")
    code, out, err = run(capsys, str(f), "--host", "r1")
    assert code == 2 and out == "" and "Traceback" not in err


def test_unknown_network_object_is_exit_2(capsys, tmp_path):
    f = _project(tmp_path, "id: CHG-4242\ntitle: t\nrequested_by: t\ntargets: {hosts: [fw1]}\nfirewall:\n  filters:\n"
                           "    - {name: F, attach: [server-edge], terms: [{name: t, sources: [NO-SUCH-NET], action: deny}]}\n")
    code, out, err = run(capsys, str(f), "--host", "fw1")
    assert code == 2 and "NO-SUCH-NET" in err and "Traceback" not in err
