"""Names and free text that reach a device command: what the model refuses outright."""

import pytest
from pydantic import TypeAdapter, ValidationError

from pipeline.names import FreeText, Identifier

TEXT = TypeAdapter(FreeText)
NAME = TypeAdapter(Identifier)


@pytest.mark.parametrize("bad", ["a\nexit", "x ! y", "x # y", "a; b", "{{ x }}", "a\u2028b", "a\u2029b", "a\x85b", "q\"uote"])
def test_free_text_that_could_end_or_comment_a_line_is_refused(bad):
    with pytest.raises(ValidationError):
        TEXT.validate_python(bad)


@pytest.mark.parametrize("bad", ["exit", "end", "-x", "a b", "a/b", "RM\u2028X", "x" * 64])
def test_identifiers_are_plain_words(bad):
    with pytest.raises(ValidationError):
        NAME.validate_python(bad)


def test_ordinary_names_and_text_pass():
    assert NAME.validate_python("RM-R3-IN.nc2") == "RM-R3-IN.nc2"
    assert TEXT.validate_python("backup upstream, preferred (r2 maintenance)") == "backup upstream, preferred (r2 maintenance)"
