"""The ``aftersales`` command: one Typer app; each command group lives in its own module.

Conventions (docs/cli.md): ``--help`` everywhere, ``--db URL`` for the store, analytic commands
print a table and accept ``--format json|csv``; errors are one line on stderr, never a traceback;
exit codes 0 ok, 1 internal error, 2 unusable input or usage, 3 partial success.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from aftersales import __version__
from aftersales.core.errors import AftersalesError

__all__ = ["app", "main"]

app = typer.Typer(
    name="aftersales",
    help="Measure, predict, act on and prove everything that happens after the sale.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"aftersales {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure, predict, act on and prove everything that happens after the sale."""


def _register() -> None:
    # Imported here so that building the app stays cheap and free of import-time side effects.
    from aftersales.entrypoints.cli import commands

    commands.register(app)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: runs the app and maps errors to one line and an exit code."""
    _register()
    try:
        rv = app(args=list(argv) if argv is not None else None, prog_name="aftersales", standalone_mode=False)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AftersalesError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 1
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
