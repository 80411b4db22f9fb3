"""A plain scalar YAML types as a number it cannot build (`title: -_`: ruamel's resolver calls it an int,
its constructor then raises IndexError) is a clear error naming file, line and field, not a traceback.
Found by the fuzz suite; on the old code `netchange validate` exited 70 ("unexpected IndexError")."""

from __future__ import annotations

import json

import pytest

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.yamlio import load

from .conftest import FLEET


@pytest.mark.parametrize("value", ["-_", "+_", "-__", "0x_", "0o_", "0b_"])
def test_yamlio_names_line_and_field(value):
    with pytest.raises(InputError) as e:
        load("x.yaml", text=f"a: 1\nb:\n  - {{c: {value}}}\n")
    loc = e.value.location
    assert (loc.file, loc.line, loc.field) == ("x.yaml", 3, "b[0].c")
    assert repr(value) in str(e.value) and "quote it" in str(e.value)


def test_validate_reports_title_dash_underscore(project, tmp_path, capsys):
    path = tmp_path / "CHG-7.yaml"
    path.write_text("id: CHG-7\ntitle: -_\nrequested_by: me\ntargets: {hosts: [fw1]}\n")
    rc = main(["validate", "--project", str(project.root), "--inventory", str(FLEET), "-f", "json", str(path)])
    out = capsys.readouterr()
    assert rc == 1, out
    [finding] = json.loads(out.out)["files"][0]["findings"]
    assert (finding["rule"], finding["file"], finding["line"], finding["field"]) == ("NC001", str(path), 2, "title")
    assert "'-_'" in finding["message"]
    assert "unexpected" not in out.err
