"""Names and text that reach a device command (or only a report): what the model refuses outright."""

import pytest
from pydantic import TypeAdapter, ValidationError

from pipeline.names import FreeText, Identifier, Label, Prose

TEXT = TypeAdapter(FreeText)
NAME = TypeAdapter(Identifier)
LABEL = TypeAdapter(Label)
PROSE = TypeAdapter(Prose)

# Everything that ends or splits a line somewhere: LF, CR, NEL, U+2028/9, VT/FF, ESC, tab, NUL, DEL, C1 CSI,
# and a bidi override (displays other than it reads).
LINE_BREAKING = ["a\nexit", "a\rb", "a\x85b", "a\u2028b", "a\u2029b", "a\x0bb", "a\x0cb", "a\x1b[31mb", "a\tb",
                 "a\x00b", "a\x7fb", "a\x9bb", "a\u202eb"]


@pytest.mark.parametrize("bad", LINE_BREAKING + ["exit", "end", " commit ", "x" * 201])
def test_free_text_that_could_end_a_line_is_refused(bad):
    with pytest.raises(ValidationError):
        TEXT.validate_python(bad)


@pytest.mark.parametrize("bad", ["exit", "end", "-x", "a b", "a/b", "RM\u2028X", "x" * 64,
                                 # `re.match` with `$` accepted these: `$` also matches before a final newline
                                 "RM1\n", "RM1\r\n", "RM1\r", "\nRM1"])
def test_identifiers_are_plain_words(bad):
    with pytest.raises(ValidationError):
        NAME.validate_python(bad)


@pytest.mark.parametrize("ok", ["it's r3's link", 'say "hi"', "x ! y # z; {a} $b `c` <d> \\ e", "50% a/b, c=d [x] @y ~z",
                                "exit strategy", "end-to-end"])
def test_free_text_takes_ordinary_punctuation(ok):
    """Platform limits (vtysh's `?`, nft's `"`) are the printer's business: the model keeps ordinary text."""
    assert TEXT.validate_python(ok) == ok


def test_labels_take_any_printable_text_on_one_line():
    assert LABEL.validate_python("Filter and prefer r3's own prefixes") == "Filter and prefer r3's own prefixes"
    assert LABEL.validate_python('end "quoted" ? | ! # ;') == 'end "quoted" ? | ! # ;'
    for bad in LINE_BREAKING:
        with pytest.raises(ValidationError):
            LABEL.validate_python(bad)


def test_prose_keeps_lines_but_no_other_controls():
    assert PROSE.validate_python("first line\n\tindented: it's fine") == "first line\n\tindented: it's fine"
    for bad in ("a\rb", "a\x1b[2Jb", "a\x85b", "a\x9bb", "a\u2028b"):
        with pytest.raises(ValidationError):
            PROSE.validate_python(bad)


def test_ordinary_names_and_text_pass():
    assert NAME.validate_python("RM-R3-IN.nc2") == "RM-R3-IN.nc2"
    assert TEXT.validate_python("backup upstream, preferred (r2 maintenance)") == "backup upstream, preferred (r2 maintenance)"
