"""Helpers shared by the JunOS mappers: building model objects without raising, addresses, name checks."""

from __future__ import annotations

import ipaddress
from typing import Callable, TypeVar

from pydantic import TypeAdapter, ValidationError

from ..names import Identifier
from ..model.base import Network

T = TypeVar("T")
_IDENTIFIER = TypeAdapter(Identifier)


def first_error(e: ValidationError) -> str:
    err = e.errors(include_url=False)[0]
    loc = ".".join(str(x) for x in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def build(notes: list[str], what: str, make: Callable[[], T]) -> T | None:
    """Construct a model object; a validation failure becomes a `skipped` note instead of an exception."""
    try:
        return make()
    except ValidationError as e:
        notes.append(f"{what}: not modelled ({first_error(e)})")
    except ValueError as e:
        notes.append(f"{what}: not modelled ({e})")
    return None


def bad_name(name: str) -> str | None:
    """Why `name` is not an Identifier (None when it is)."""
    try:
        _IDENTIFIER.validate_python(name)
        return None
    except ValidationError as e:
        return first_error(e)


def junos_prefix(text: str) -> tuple[Network, bool]:
    """A JunOS prefix or bare address -> (network, host bits were set). JunOS masks host bits silently."""
    try:
        return ipaddress.ip_network(text, strict=True), False
    except ValueError:
        return ipaddress.ip_network(text, strict=False), True
