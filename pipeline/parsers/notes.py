"""Parser notes that know which policy object they belong to.

A mapper wraps the reading of one object in `notes.inside(kind, name)`: every note appended meanwhile is a
`Skipped` owned by that object, so the planner can refuse to rewrite an object whose device text it could
not fully read. `notes.info(text)` records a note that a rewrite would not lose (e.g. a value the device
itself normalises the same way), so it never blocks a plan.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

from ..model.policy import Kind, Skipped


class Notes(list):
    """A list of `Skipped` notes; inside `inside(...)` a plain string appended is owned by that object."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__(items)
        self._owner: tuple[Kind, str] | None = None

    def append(self, text: str) -> None:  # noqa: D401 - list API
        if not isinstance(text, Skipped):
            text = Skipped(text, *(self._owner or (None, None)))
        super().append(text)

    def add(self, text: str, kind: Kind | None, name: str | None, line: str | None = None) -> None:
        super().append(Skipped(text, kind, name, line))

    def note(self, text: str, line: str | None = None) -> None:
        """A note with the device's own text of what was not modelled, owned like `append`."""
        kind, name = self._owner or (None, None)
        super().append(Skipped(text, kind, name, line))

    def info(self, text: str) -> None:
        """A note that a rewrite of its object loses nothing: never attributed, never blocks a plan."""
        super().append(Skipped(text))

    @contextmanager
    def inside(self, kind: Kind, name: str) -> Iterator[None]:
        outer, self._owner = self._owner, (kind, name)
        try:
            yield
        finally:
            self._owner = outer
