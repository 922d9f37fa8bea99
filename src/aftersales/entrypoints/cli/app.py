"""The ``aftersales`` command: one Typer app; each command group lives in its own module.

Conventions (docs/cli.md): ``--help`` everywhere, ``--db URL`` for the store, analytic commands
print a table and accept ``--format json|csv``; errors are one line on stderr, never a traceback;
exit codes 0 ok, 1 internal error, 2 unusable input or usage, 3 partial success.

:func:`main` is the one error mapping: Click/Typer usage errors (unknown option or command, bad or
missing value) and the :mod:`aftersales.core.errors` tree both become ``error: ...`` on one line, in
the command line's own terms (an error on field ``to`` is reported as ``--to``).

Building the app imports no pandas, scipy, Ibis or Arrow: each command imports what it needs when it
runs, so ``aftersales --help`` and ``aftersales keys create`` start fast (bench/bench_startup.py).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import typer

# Typer vendors its own Click; its exception classes live here (typer is pinned in requirements.lock).
from typer._click import exceptions as click_errors

from aftersales import __version__
from aftersales.core.errors import AftersalesError, FieldError, ValidationError

if TYPE_CHECKING:
    from typer._click.core import Parameter

__all__ = ["app", "build", "main"]

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


_registered = False


def build() -> Any:
    """Register every command group (once) and return the Click command tree of the app."""
    global _registered
    if not _registered:
        # Imported here so that importing this module stays cheap and free of import-time side effects.
        from aftersales.entrypoints.cli import commands

        commands.register(app)
        _registered = True
    return typer.main.get_command(app)


# -- the one error mapping -----------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _flag(param: Parameter) -> str:
    """How a user writes ``param``: its long option (``--to``) or, for an argument, its metavar."""
    opts = [o for o in param.opts if o.startswith("--")] or list(param.opts)
    if param.param_type_name == "argument" or not opts:
        return (param.name or "value").upper()
    return opts[0]


def _valid(param: Any) -> str:
    """What ``param`` accepts, for the error line: its choices, else its help text."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):  # Typer's choices are enums
        return "one of " + ", ".join(str(m.value) for m in annotation)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(v) for v in get_args(annotation))
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices:
        return "one of " + ", ".join(str(getattr(c, "value", c)) for c in choices)
    return (getattr(param, "help", None) or "").rstrip(".")


def _options(command: Any) -> str:
    names = [o for p in getattr(command, "params", ()) for o in getattr(p, "opts", ()) if o.startswith("--")]
    return ", ".join([*names, "--help"])


def _usage_message(exc: click_errors.UsageError, invoked: tuple[Any, str]) -> str:
    """One line for a Click usage error: what was wrong, where, and what is valid. ``invoked`` is the
    command the arguments name and its path, for the errors Click raises without a context."""
    ctx = exc.ctx
    where = f"{ctx.command_path if ctx is not None else invoked[1]}: "
    if isinstance(exc, click_errors.BadOptionUsage) and ctx is None:
        param = next((p for p in getattr(invoked[0], "params", ()) if exc.option_name in p.opts), None)
        valid = _valid(param) if param is not None else ""
        message = _one_line(exc).rstrip(".")
        return f"{where}{message[0].lower()}{message[1:]}" + (f" ({valid})" if valid else "")
    if isinstance(exc, click_errors.NoSuchOption):
        hint = ", ".join(exc.possibilities or ()) or (_options(ctx.command) if ctx is not None else "")
        valid = f" (did you mean {hint}?)" if exc.possibilities else (f" (options: {hint})" if hint else "")
        return f"{where}no such option {exc.option_name}{valid}"
    if isinstance(exc, click_errors.MissingParameter) and exc.param is not None:
        kind = "argument" if exc.param.param_type_name == "argument" else "option"
        valid = _valid(exc.param)
        return f"{where}missing {kind} {_flag(exc.param)}" + (f" ({valid})" if valid else "")
    if isinstance(exc, click_errors.BadParameter) and exc.param is not None:
        message = exc.message.removeprefix("Value error, ").rstrip(".")
        return f"{where}invalid value for {_flag(exc.param)}: {message}"
    message = _one_line(exc).rstrip(".")
    if message.startswith("No such command") and ctx is not None:
        commands = getattr(ctx.command, "commands", {})
        return f"{where}{message[0].lower()}{message[1:]} (commands: {', '.join(commands)})"
    return f"{where}{message[0].lower()}{message[1:]}" if message else f"{where}bad usage"


def _invoked(root: Any, argv: Sequence[str]) -> tuple[Any, str]:
    """The (sub)command ``argv`` names under ``root`` and its path: groups are followed by their
    subcommand names."""
    cmd, path = root, ["aftersales"]
    for token in argv:
        subcommands = getattr(cmd, "commands", None)
        if subcommands is None:
            break
        if token in subcommands:
            cmd = subcommands[token]
            path.append(token)
        elif not token.startswith("-"):
            break
    return cmd, " ".join(path)


def _field(error: FieldError, command: Any) -> str:
    """A field error located at a parameter, in command-line terms: ``--to: ...`` when the command has
    that option (found by parameter name or option spelling), else the message alone."""
    head = str(error.loc[0])
    spelled = "--" + head.replace("_", "-")
    params = getattr(command, "params", None)
    if params is None:  # the command is not known: the option named after the field
        return f"{spelled}: {error.message}"
    for p in params:
        if p.name == head or spelled in getattr(p, "opts", ()):
            return f"{_flag(p)}: {error.message}"
    return error.message  # a field this command has no option for: the message says it all


def _validation_message(exc: ValidationError, command: Any) -> str:
    """Errors located at parameters (``loc == ("to",)``) are shown as the options that set them; any
    other location (a row of a file, ``("stats", 2, "n")``) is described by the error's own message."""
    located = all(len(e.loc) == 1 and isinstance(e.loc[0], str) for e in exc.errors)
    if not exc.errors or not located:
        return _one_line(exc)
    shown = [_field(e, command) for e in exc.errors[:3]]
    more = f" (and {len(exc.errors) - 3} more)" if len(exc.errors) > 3 else ""
    return "; ".join(dict.fromkeys(shown)) + more


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def _lean_keys_create(args: Sequence[str]) -> bool:
    """``keys create ARGS`` on the lean path (:mod:`.fast_keys`: no app built, no SQLAlchemy); False
    when the full app must run it. A failure after the key is stored (printing it) is reported as
    :func:`main` reports it."""
    from aftersales.entrypoints.cli.fast_keys import create

    try:
        return create(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - as in main: surprises are exit 1, on one line
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: runs the app and maps every error to one line and an exit code.
    ``keys create`` tries its lean path first (docs/cli.md, Start-up time)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args[:2] == ["keys", "create"] and _lean_keys_create(args[2:]):
        sys.exit(0)
    root = build()
    try:
        rv = root.main(args=args, prog_name="aftersales", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:  # a group without its subcommand: its help, as usage
        print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        _fail(_usage_message(exc, _invoked(root, args)), exc.exit_code)
    except click_errors.ClickException as exc:
        _fail(_one_line(exc), exc.exit_code)
    except typer.Abort:  # a prompt answered with EOF
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except ValidationError as exc:
        _fail(_validation_message(exc, _invoked(root, args)[0]), exc.exit_code)
    except AftersalesError as exc:
        _fail(_one_line(exc), exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 1
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    if rv == 130:  # Typer turns Ctrl-C into exit code 130
        print("interrupted", file=sys.stderr)
    sys.exit(rv if isinstance(rv, int) else 0)
