"""The `netchange` command line. Every NetchangeError becomes one clear message and an exit code; any
other exception (a bug, or an input nobody foresaw) becomes one line and a hint, never a traceback —
unless asked for with `netchange -v …` or NETCHANGE_DEBUG=1."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from .errors import InputError, NetchangeError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="netchange: validate, plan, deploy and verify network-policy changes.")
err_console = Console(stderr=True)
DEBUG_ENV = "NETCHANGE_DEBUG"
# Not 1, 2 or 3: `netchange deploy` exit codes mean rolled back, failed and refused to the CI jobs.
EXIT_INTERNAL = 70  # EX_SOFTWARE

_verbose = False


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help=f"show the Python traceback of an unexpected error (or set {DEBUG_ENV}=1)")) -> None:
    global _verbose
    _verbose = verbose


def _unexpected(e: BaseException) -> int:
    if _verbose or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        err_console.print_exception()
        return EXIT_INTERNAL
    from .gitlab.secrets import mask

    text = " ".join(mask(str(e)).split())
    text = text if len(text) <= 300 else text[:300] + "…"
    err_console.print(f"[bold red]error[/] unexpected {type(e).__name__}" + (f": {escape(text)}" if text else ""),
                      highlight=False, markup=True, soft_wrap=True)
    err_console.print(f"  nothing was expected to fail here: please report it; `netchange -v …` or {DEBUG_ENV}=1 "
                      f"shows the traceback", highlight=False, soft_wrap=True)
    return EXIT_INTERNAL


_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    from .drivers.cli import register as register_render
    from .lab.cli import app as lab_app
    from .plan.cli import register as register_plan
    from .telemetry.cli import register as register_telemetry
    from .validate.cli import register as register_validate

    register_validate(app)
    register_render(app)
    register_plan(app)
    app.add_typer(lab_app, name="lab", help="Build, inspect and tear down the namespace lab.")
    register_telemetry(app)
    from .demo import register as register_demo
    from .deploy.cli import register as register_deploy
    from .gitlab.cli import register as register_gitlab

    register_deploy(app)
    register_gitlab(app)
    register_demo(app)


def main(argv: list[str] | None = None) -> int:
    _register()
    try:
        rc = app(args=argv, standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except NetchangeError as e:
        if isinstance(e, InputError) and e.problems:
            for loc, msg in e.problems:  # escaped: a field such as `[change]` is text, not a rich style
                err_console.print(f"[bold red]error[/] {escape(str(loc))}: {escape(str(msg))}", highlight=False,
                                  markup=True, soft_wrap=True)
        else:
            err_console.print(f"[bold red]error[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return e.exit_code
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
            err_console.print(f"[bold red]error[/] {e.format_message()}", highlight=False)
        return 2
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        return _unexpected(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
