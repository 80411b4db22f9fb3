"""The `netchange` command line. Every NetchangeError becomes one clear message and an exit code; any
other exception (a bug, or an input nobody foresaw) becomes one line and a hint, never a traceback —
unless asked for with `netchange -v …` or NETCHANGE_DEBUG=1."""

from __future__ import annotations

import gc
import os
import sys

import typer
from rich.text import Text

from . import console
from .errors import InputError, NetchangeError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="netchange: validate, plan, deploy and verify network-policy changes.")
err_console = console.Messages()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"netchange {version('netchange')}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="errors and warnings only: no progress, no informational lines"),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="-v: netchange's log on stderr; -vv: also netmiko/paramiko"),
) -> None:
    """netchange: validate, plan, deploy and verify network-policy changes.

    Colours follow NO_COLOR (https://no-color.org); off a terminal the output is plain text."""
    console.configure(quiet=quiet, verbose=verbose)


def _error(text: str) -> None:
    """`error <text>`: the text is never read as markup (an `[r1.data.driver]` field would vanish)."""
    err_console.print(Text.assemble(("error", "bold red"), " ", text), soft_wrap=True)


def _exit_code(rc: int, argv: list[str] | None) -> int:
    """With `plan --detailed-exitcode`, 2 means "changes" (as Terraform's): every error is 1 then."""
    args = sys.argv[1:] if argv is None else argv
    return 1 if rc != 0 and "--detailed-exitcode" in args else rc
DEBUG_ENV = "NETCHANGE_DEBUG"
# Not 1, 2, 3 or 4: those are plan/deploy verdicts that CI jobs read.
EXIT_INTERNAL = 70  # EX_SOFTWARE


def _unexpected(e: BaseException) -> int:
    if console.level() >= console.VERBOSE or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        err_console.print_exception()
        return EXIT_INTERNAL
    from .gitlab.secrets import mask

    text = " ".join(mask(str(e)).split())
    text = text if len(text) <= 300 else text[:300] + "…"
    _error(f"unexpected {type(e).__name__}" + (f": {text}" if text else ""))
    err_console.print(f"  nothing was expected to fail here: please report it; `netchange -v …` or {DEBUG_ENV}=1 "
                      f"shows the traceback", soft_wrap=True)
    return EXIT_INTERNAL


# Which module adds which command, in the order `--help` lists them. A command imports only its own module
# (and what it needs when it runs): `netchange --version` and `netchange deploy` never import the lab,
# telemetry or GitLab code.
_COMMANDS: dict[str, str] = {
    "validate": "validate.cli", "schema": "validate.cli", "render": "drivers.cli", "plan": "plan.cli",
    "backup": "plan.cli", "agent": "telemetry.cli", "collect": "telemetry.cli", "deploy": "deploy.cli",
    "demo": "demo", "lab": "lab.cli", "ci": "gitlab.cli",
}
_registered: set[str] = set()


def _register_module(module: str) -> None:
    if module in _registered:
        return
    _registered.add(module)
    from importlib import import_module

    mod = import_module(f".{module}", __package__)
    if module == "lab.cli":
        app.add_typer(mod.app, name="lab", help="Build, inspect and tear down the namespace lab.")
    else:
        mod.register(app)
    order = list(_COMMANDS)  # keep `--help` in one order, whichever command a process ran first

    def rank(c: typer.models.CommandInfo) -> int:
        name = c.name or (c.callback.__name__ if c.callback else "")
        return order.index(name) if name in order else len(order)

    app.registered_commands.sort(key=rank)


def _command(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the root options take no values), or None."""
    return next((a for a in argv if not a.startswith("-")), None)


def _register() -> None:
    """Every command (idempotent)."""
    for module in dict.fromkeys(_COMMANDS.values()):
        _register_module(module)


def _register_for(args: list[str]) -> None:
    """Add the named command's module only; every module for `--help`, a bare `netchange`, or a name that
    is not a command (click then lists them all in its error)."""
    name = _command(args)
    if name in _COMMANDS:
        _register_module(_COMMANDS[name])
    elif name is None and "--version" in args and "--help" not in args:
        return  # answered by the eager --version callback before any command is looked up
    else:
        _register()


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the `netchange` process itself: a run allocates in bursts of models that all stay
        # alive (few cycles), so the default thresholds (700 allocations) make the collector rescan them
        # hundreds of times: ~10% of a 20,000-entry plan. Rarer young passes, same collector.
        gc.set_threshold(50_000, 20, 20)
    _register_for(sys.argv[1:] if argv is None else [str(a) for a in argv])
    console.configure()  # the root options apply them again once parsed
    try:
        rc = app(args=argv, standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except NetchangeError as e:
        if isinstance(e, InputError) and e.problems:
            for loc, msg in e.problems:
                _error(f"{loc}: {msg}")
        else:
            _error(str(e))
        return _exit_code(e.exit_code, argv)
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except typer.TyperException as e:  # usage errors (typer's bundled click)
        show = getattr(e, "show", None)
        if show:
            show()
        else:
            _error(e.format_message())
        return _exit_code(2, argv)
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        return _unexpected(e)
    finally:
        if argv is None:  # the `netchange` process itself (not a caller running several commands)
            # The process ends next: without this, its final garbage collection walks every object the
            # run made (models, templates, SSH state), ~0.5 s here; freezing leaves that to the OS.
            gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
