"""One exception root; every error a user can cause carries where it came from."""

from __future__ import annotations

from dataclasses import dataclass


class NetchangeError(Exception):
    """Root of every error netchange raises on purpose (never shown as a traceback)."""

    exit_code = 1


@dataclass(frozen=True)
class Location:
    """Where in an input file something was found (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.field:
            where += f" [{self.field}]"
        return where


class InputError(NetchangeError):
    """Bad input file: malformed YAML, schema violation, unreadable file."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, problems: list[tuple[Location, str]] | None = None):
        self.location = location
        self.problems = problems or ([(location, message)] if location else [])
        super().__init__(message)

    def __str__(self) -> str:
        if self.problems:
            return "\n".join(f"{loc}: {msg}" for loc, msg in self.problems)
        return super().__str__()


class DeviceError(NetchangeError):
    """A device refused, failed or could not be reached."""


class LabError(NetchangeError):
    """The lab cannot be built here (not root, no namespaces, missing package)."""

    exit_code = 2
