"""Names and objects re-checked at the printer: a model built without validation cannot smuggle a line break,
quote or CLI keyword into a command."""

from __future__ import annotations

from typing import Any


from ...model.policy import ConcreteFilter
from ...names import _check_identifier, _check_text
from . import UnsupportedConstruct, guarded


def guard_identifier(value: str, what: str) -> None:
    try:
        _check_identifier(value)
    except ValueError as e:
        raise UnsupportedConstruct(f"refusing to print {what} {value!r}: {e}") from None


def guard(kind: str, obj: Any) -> None:
    """Objects reach templates re-validated, so one built with model_construct (no validation) or a
    resolved filter (plain str fields) cannot smuggle a line break, quote or CLI keyword into a command."""
    if obj is None or isinstance(obj, str) or _GUARDED.get(id(obj)) is obj:
        return
    if guarded.has_line_break(obj):
        raise UnsupportedConstruct(f"refusing to print {kind} {getattr(obj, 'name', '')!r}: it contains a Unicode line break")
    try:
        if isinstance(obj, ConcreteFilter):
            _check_identifier(obj.name)
            for text in [obj.description] + [r.description for r in obj.rules]:
                if text is not None:
                    _check_text(text)
            for r in obj.rules:
                _check_identifier(r.name)
            ConcreteFilter.model_validate(obj.model_dump())
        else:
            guarded.revalidate(obj)  # each entry of a list once, however many copies of the list are printed
    except (ValueError, TypeError) as e:
        raise UnsupportedConstruct(f"refusing to print {kind} {getattr(obj, 'name', '')!r}: {e}") from None
    if len(_GUARDED) >= 8:
        _GUARDED.clear()
    _GUARDED[id(obj)] = obj


# Objects that passed `guard` (models are frozen): a plan prints one large list in several renders (commands,
# rollback, diff), and re-validating 20,000 entries each time is most of a plan's time. Kept alive while
# cached, so an id is never reused for another object; at most 8 (a plan guards 2-4 objects per list).
_GUARDED: dict[int, Any] = {}
