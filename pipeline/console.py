"""How netchange talks to a person: NO_COLOR, plain text off a terminal, `-q` and `-v`.

Results (plans, reports, rendered configs) go to stdout untouched. Messages go to stderr through a
`Messages` console:
- NO_COLOR (set and not empty): no ANSI sequence at all — rich alone would drop colours but keep bold;
- stderr not a terminal (CI logs, pipes): plain text and no progress bars (rich decides);
- `-q`: errors and warnings only — `info()` lines and progress bars are dropped;
- `-v`: netchange's own log on stderr (logging INFO), `-vv`: DEBUG, including netmiko and paramiko.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from typing import Any

from rich.console import Console

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
_level = NORMAL
_consoles: "weakref.WeakSet[Messages]" = weakref.WeakSet()


def no_color() -> bool:
    """https://no-color.org: present and not empty."""
    return bool(os.environ.get("NO_COLOR"))


class Messages(Console):
    """A console for messages on stderr that follows the conventions above."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("stderr", True)
        kwargs.setdefault("highlight", False)
        super().__init__(**kwargs)
        self._detected_color_system = self._color_system
        _consoles.add(self)
        self._follow_environment()

    def _follow_environment(self) -> None:
        # None: no styles at all (rich's own NO_COLOR handling drops colours but keeps bold)
        self._color_system = None if no_color() else self._detected_color_system

    def info(self, *objects, **kwargs) -> None:
        """A message -q suppresses (progress, what was written where)."""
        if _level > QUIET:
            self.print(*objects, **kwargs)

    @property
    def shows_progress(self) -> bool:
        return _level > QUIET and self.is_terminal


def plain_console(**kwargs) -> Console:
    """A console for a human-readable report (stdout or a file): no styles under NO_COLOR or off a terminal."""
    if no_color():
        kwargs["color_system"] = None
    return Console(**kwargs)


def configure(quiet: bool = False, verbose: int = 0) -> None:
    """Apply the root options and the environment (called for every CLI invocation)."""
    global _level
    _level = QUIET if quiet else min(max(verbose, 0), DEBUG)
    for c in list(_consoles):
        c._follow_environment()
    _typer_help_plain(no_color())
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _StderrHandler)]
    if _level < VERBOSE:  # one process may run several commands (tests, the demo): drop an earlier -v's log
        for h in ours:
            root.removeHandler(h)
    if _level >= VERBOSE:
        if not ours:
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler.addFilter(_MaskSecrets())
            root.addHandler(handler)
        root.setLevel(logging.DEBUG if _level >= DEBUG else logging.INFO)
        # -v is about netchange; the SSH libraries' chatter only with -vv
        for name in ("paramiko", "netmiko"):
            logging.getLogger(name).setLevel(logging.DEBUG if _level >= DEBUG else logging.WARNING)


class _StderrHandler(logging.StreamHandler):
    """Logs to whatever sys.stderr is when a record is written (not the stream of the moment -v was read)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _MaskSecrets(logging.Filter):
    """Every log line passes the same mask as every other message: no secret value of the environment
    (passwords, enable secrets, tokens) reaches the terminal, whichever library logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .gitlab.secrets import mask

        record.msg = mask(record.getMessage())
        record.args = None
        return True


def level() -> int:
    return _level


_help_plain = False


def _typer_help_plain(plain: bool) -> None:
    """typer's help and usage errors print through typer.rich_utils, which costs ~0.2 s to import: set its
    colours now if it is loaded, else as soon as something (help, a usage error) imports it."""
    global _help_plain
    _help_plain = plain
    mod: Any = sys.modules.get("typer.rich_utils")  # its colours are module globals, set from outside
    if mod is not None:
        mod.COLOR_SYSTEM = None if plain else "auto"
    elif not any(isinstance(f, _RichUtilsHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _RichUtilsHook())


class _RichUtilsHook:
    """A meta path finder that only sees typer.rich_utils being imported and sets its colours after."""

    def find_spec(self, name, path=None, target=None):
        if name != "typer.rich_utils":
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module, _run=run):
            _run(module)
            module.COLOR_SYSTEM = None if _help_plain else "auto"

        spec.loader.exec_module = exec_module
        return spec
