"""Broken and hostile files: one clear finding with a position, never a traceback."""

from __future__ import annotations

import pytest

from pipeline.yamlio import MAX_BYTES

from .conftest import fw, ids, term

VALID = "id: CHG-1\ntitle: t\nrequested_by: me\ntargets: {hosts: [fw1]}\n"


@pytest.mark.parametrize("text, rule, line", [
    ("id: CHG-1\ntitle: [unclosed\n", "NC001", None),
    (VALID + "title: again\n", "NC001", 5),                               # duplicate key
    ("a: &x [1]\nb: *x\n", "NC001", 1),                                    # anchors/aliases (alias bombs)
    ("\t- tab\n", "NC001", None),
    ("- just\n- a list\n", "NC002", 1),
    ("plain scalar\n", "NC002", 1),
    ("", "NC002", 1),
    (VALID + "risk: 7\n", "NC002", 5),                                     # wrong type
    (VALID + "targetz: {}\n", "NC002", 5),                                 # unknown key
    ("[" * 5000 + "]" * 5000 + "\n", None, None),                          # deep nesting
])
def test_broken_yaml(check, text, rule, line):
    found = check(text)
    assert found and "NC900" not in ids(found)
    if rule:
        f = next(f for f in found if f.rule == rule)
        if line:
            assert f.location.line == line, f
    assert all(f.is_error for f in found)


def test_non_utf8(check):
    found = check(VALID.encode() + b"description: caf\xe9\n")
    assert ids(found) == {"NC001"}
    assert "UTF-8" in found[0].message and found[0].location.line == 5


def test_huge_file(check):
    found = check(VALID + "description: " + "x" * (MAX_BYTES + 10) + "\n")
    assert ids(found) == {"NC001"} and "limit" in found[0].message


def test_billion_laughs(check):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    assert ids(check(bomb)) == {"NC001"}


# Punctuation (`x ! y`, `it's`) is ordinary text now; what no config line can hold is refused (issue 12 item 6).
@pytest.mark.parametrize("bad", ["drop\nall", "exit", "end", "a\rb", "a\u2028b", "a\x1b[2Jb"])
def test_injection_in_description_rejected(check, bad):
    found = check(fw(term("a", "deny", description=bad)))
    f = next(f for f in found if f.rule == "NC004")
    assert f.location.field == "firewall.filters[0].terms[0].description" and f.location.line


@pytest.mark.parametrize("bad", ["exit", "end", "a b", "a;b", "a!b", "{{x}}", "-lead", "a#b", "x" * 64])
def test_injection_in_names_rejected(check, bad):
    found = check(fw(term(bad, "deny")))
    assert "NC004" in ids(found), found


def test_host_bits_message_lands_with_position(check):
    found = check(fw(term("a", "deny", sources=["10.0.0.1/8"])))
    f = next(f for f in found if f.rule == "NC131")
    assert "did you mean 10.0.0.0/8" in f.message
    assert f.location.field == "firewall.filters[0].terms[0].sources[0]" and f.location.line and f.location.column


def test_null_bytes_and_controls(check):
    assert "NC001" in ids(check(VALID + "description: \x00\n")) | ids(check(VALID + "description: \x07bell\n"))
