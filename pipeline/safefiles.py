"""Every file a user hands us is read through here: regular files only, size-capped, and (where a folder
is given) never through a symbolic link that leads out of that folder. Names that become file names
(host names, change ids) are checked here too, so no inventory entry can point a path elsewhere.

Why: `open()` on a FIFO blocks forever, on a symlink to /dev/zero it reads until memory runs out, and a
host named `../../x` turned `<snapshots>/<host>.cfg` into a file outside the snapshot folder.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any, Union

from .errors import InputError, Location

MiB = 1024 * 1024
YAML_MAX = 2 * MiB  # change requests, policy objects
INVENTORY_MAX = 64 * MiB  # a 10,000-host inventory is about 5 MB
SNAPSHOT_MAX = 256 * MiB  # running configs, nft JSON, FRR received-routes JSON
JSON_MAX = 64 * MiB  # plan files, deploy reports, journals, CI artifacts
SMALL_MAX = 64 * 1024  # lock files, exit-code files

# Host names and change ids become file names: one path component, no leading dot, no separator.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
SAFE_NAME_RULE = "letters, digits, '_', '.', '-' (not first), at most 200 characters"


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and _SAFE_NAME.fullmatch(name) is not None


def safe_name(name: object, what: str = "host name", where: Location | None = None) -> str:
    """*name* if it can be used as (part of) one file name; else an InputError."""
    if not is_safe_name(name):
        raise InputError(f"{what} {name!r} cannot name a file: use only {SAFE_NAME_RULE}", where or Location(str(name)))
    return name  # type: ignore[return-value]


def named_path(directory: Path, name: str, suffix: str = "", what: str = "host name", where: Location | None = None) -> Path:
    """`directory/<name><suffix>` after checking *name* (the one place such paths are built)."""
    return Path(directory) / f"{safe_name(name, what, where)}{suffix}"


class _ItsFolder:
    def __repr__(self) -> str:
        return "ITS_FOLDER"


# Default *within*: the folder the path names. A file may not be a symbolic link out of its own folder
# (a change request or snapshot committed as a link to /etc/shadow); pass within=None to allow it.
ITS_FOLDER = _ItsFolder()
Within = Union[Path, str, _ItsFolder, None]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse_outside(path: Path, within) -> None:
    if within is None:
        return
    if within is ITS_FOLDER:
        within = path.parent
    real, base = path.resolve(), Path(within).resolve()
    if real != base and base not in real.parents:
        raise InputError(f"resolves to {real}, outside the folder {within} (a symbolic link?); refusing to read it",
                         Location(str(path)))


def check_regular(path: Path | str, max_bytes: int, within: Within = ITS_FOLDER) -> os.stat_result:
    """Refuse what must not be opened: a missing file, a non-regular file, one over *max_bytes*, or one
    whose real location is outside *within* (default: its own folder; None: anywhere). For files a
    library opens itself."""
    path = Path(path)
    _refuse_outside(path, within)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError("no such file", Location(str(path))) from None
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror}", Location(str(path))) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is {_kind(st.st_mode)}, not a regular file; refusing to read it", Location(str(path)))
    if st.st_size > max_bytes:
        raise InputError(f"file is {st.st_size} bytes, larger than the {max_bytes} byte limit", Location(str(path)))
    return st


def read_bytes(path: Path | str, max_bytes: int, within: Within = ITS_FOLDER) -> bytes:
    """The file's bytes, after check_regular. Opened non-blocking and checked again on the open file
    (a FIFO swapped in after the check neither blocks nor is read); at most *max_bytes* are read."""
    path = Path(path)
    check_regular(path, max_bytes, within)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror}", Location(str(path))) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {_kind(st.st_mode)}, not a regular file; refusing to read it", Location(str(path)))
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(MiB, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # it grew after the check
            raise InputError(f"file is larger than the {max_bytes} byte limit", Location(str(path)))
        return b"".join(chunks)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror}", Location(str(path))) from None
    finally:
        os.close(fd)


def read_text(path: Path | str, max_bytes: int, within: Within = ITS_FOLDER, errors: str = "strict") -> str:
    """UTF-8 text; with errors="strict" an invalid byte is an error naming its line."""
    raw = read_bytes(path, max_bytes, within)
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 (byte 0x{raw[e.start]:02x})", Location(str(path), line)) from None


def read_json(path: Path | str, max_bytes: int = JSON_MAX, within: Within = ITS_FOLDER, expect: type | None = None) -> Any:
    """Parsed JSON; a syntax error names line and column, *expect* (dict or list) checks the top level."""
    text = read_text(path, max_bytes, within)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", Location(str(path), e.lineno, e.colno)) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", Location(str(path))) from None
    if expect is not None and not isinstance(doc, expect):
        wanted: dict[type, str] = {dict: "a JSON object", list: "a JSON array"}
        seen: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
        want = wanted.get(expect, expect.__name__)
        found = seen.get(type(doc), type(doc).__name__)
        raise InputError(f"expected {want} at the top level, found {found}", Location(str(path), 1, 1))
    return doc


def write_text(path: Path | str, text: str, what: str = "output") -> None:
    """Write a report or artifact, creating missing parent folders; failures are one clear error."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"cannot write {what}: it is a directory", Location(str(path)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except InputError:
        raise
    except OSError as e:
        raise InputError(f"cannot write {what}: {_why(path.parent, e)}", Location(str(path))) from None


def make_dir(path: Path | str, what: str = "folder") -> Path:
    """mkdir -p with a clear error (a file in the way, no permission)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create {what}: {_why(path, e)}", Location(str(path))) from None
    return path


def _why(folder: Path, e: OSError) -> str:
    if isinstance(e, (FileExistsError, NotADirectoryError)):
        for p in (*reversed(folder.parents), folder):
            if p.exists() and not p.is_dir():
                return f"{p} is a file, not a folder"
    return e.strerror or str(e)
