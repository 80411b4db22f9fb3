"""The fast change loader (libyaml) returns exactly what the careful one (ruamel, positions) would, or
gives up: never a different document, never an anchor, tag or duplicate key let through."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import yamlio
from pipeline.project import load_change
from pipeline.yamlfast import load_plain

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "policies" / "changes").rglob("*.yaml"))


class Refused(Exception):
    pass


def careful(text: str):
    try:
        return yamlio.to_plain(yamlio.load(Path("x.yaml"), text=text))
    except Exception as e:  # InputError, or a ruamel crash (`k: -_` raises IndexError inside ruamel)
        raise Refused(type(e).__name__) from None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_changes_load_identically(path):
    text = path.read_text()
    fast = load_plain(text)
    assert fast is not None and fast == careful(text)
    assert load_change(path)[0] == yamlio.validate_model(__import__("pipeline.model.change", fromlist=["x"]).ChangeRequest,
                                                         yamlio.load(path), path)


TRICKY = ["2030-06-30", "2030-12-31T23:59:59Z", "0.99", "-0.5", "2030-02-30", "2030-12-31T25:00:00Z", "65001:100", "1:30", "190:20:30", "0o17", "017", "0x1F", "1_000", "1e3", "1.5", ".5", ".inf", "-.inf",
          ".nan", "~", "null", "Null", "NULL", "true", "True", "TRUE", "yes", "no", "on", "off", "y", "n",
          "2027-01-15", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00", "198.18.0.0/30", "10.0.0.1", "2001:db8::/32",
          "+12", "-0", "00", "0", "1.", "1.2.3", "0b101", "1e", "12e5", "-1_2", "<<", "=", "1:2:3", "1 2",
          "0.0.0.0/0", "65535", "-5", "1__0", "0x", "2027-1-5", '"quoted"', "'single'", "", "[1, 2]", "{a: 1}",
          "|\n  block\n", "!!str 5", "! x", "&a 1", "*a", "!!python/object:os.system x",
          # a letter first (the fast path's words): none is a number, date or special value in YAML 1.2
          "e5", "E10", "inf", "Inf", "nan", "NaN", "x1", "Z", "b101", "o17", "é1", "Ω", "nULL", "tRUE"]


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_scalars_agree_or_defer(value):
    text = f"k: {value}\n"
    fast = load_plain(text)
    try:
        want = careful(text)
    except Refused:
        assert fast is None
        return
    assert fast is None or fast == want, (fast, want)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchor and alias
    "a: 1\na: 2\n",  # duplicate key
    "%YAML 1.1\n---\na: 1\n",  # directive
    "a: 1\n---\nb: 2\n",  # two documents
    "!!map {a: 1}\n",  # explicit tag
    "? [1, 2]\n: x\n",  # a sequence as key
    "1: x\n",  # a non-string key
    "a: !!binary aGk=\n",
])
def test_unusual_documents_take_the_careful_path(text):
    assert load_plain(text) is None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.-_:+eExobXOB~ntruefalsyNTRUEaiIZ ", min_size=0, max_size=12))
def test_random_plain_scalars_agree_or_defer(value):
    text = f"k: {value}\n"
    fast = load_plain(text)
    try:
        want = careful(text)
    except Refused:
        assert fast is None
        return
    assert fast is None or fast == want, (value, fast, want)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["k: {}", "k:\n  {}", "- {}"]),
       st.text(alphabet="ab01:- []{},'\"#\n?&*!|>%.\\\t\ufeff", max_size=30))
def test_random_documents_agree_or_defer(frame, body):
    # Found this way: libyaml reads `|#`, `! |` and an empty over-indented block scalar as '', ruamel
    # refuses or reads None; tabs and stray BOMs pass libyaml only. The fast path defers on all of them.
    text = frame.format(body.replace("\n", "\n  ") if frame.startswith("k:\n") else body)
    fast = load_plain(text)
    if fast is None:
        return
    try:
        want = careful(text)
    except Refused:
        raise AssertionError(f"fast path accepted what the careful loader refuses: {text!r} -> {fast!r}") from None
    assert fast == want, (text, fast, want)


def test_positions_from_libyaml_marks_equal_ruamels_for_every_bundled_change():
    """Findings on a change the fast path read are placed from libyaml's marks (validate/validator.py):
    every key and item of every bundled change request gets the line and column ruamel gives it."""
    from pathlib import Path

    from pipeline import yamlfast, yamlio

    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "policies" / "changes").rglob("*.yaml"))
    checked = 0
    for f in files:
        text = f.read_text()
        assert yamlfast.load_plain(text) is not None, f
        careful, fast = yamlio.load(f), yamlfast.load_positions(text)

        def walk(a, path=(), f=f, careful=careful, fast=fast):
            nonlocal checked
            items = a.items() if isinstance(a, dict) else enumerate(a) if isinstance(a, list) else ()
            for k, v in items:
                assert yamlio.position(fast, (*path, k)) == yamlio.position(careful, (*path, k)), (f, (*path, k))
                checked += 1
                walk(v, (*path, k), f, careful, fast)

        walk(careful)
    assert len(files) >= 5 and checked > 300
