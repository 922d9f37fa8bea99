"""Usage errors as a user meets them: one ``error: ...`` line naming the option and what is valid, exit 2.

Before the fix every Click/Typer usage error came out as ``internal error: NoSuchOption: ...`` with
exit 1. The commands here fail while their arguments are parsed, so no store is touched.
"""

from __future__ import annotations

import pytest

from aftersales.core.errors import FieldError, ValidationError
from aftersales.entrypoints.cli.app import _field, _validation_message, build, main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["metrics", "retention_rate", "--dbx", "x"], "aftersales metrics: no such option --dbx (did you mean --db"),
        (["metrics", "--period", "fortnight"], "invalid value for --period: 'fortnight' is not one of 'day', 'week'"),
        (["keys", "create"], "aftersales keys create: missing option --scope (one of ingest, read, admin)"),
        (["keys", "create", "--scope", "boss"], "invalid value for --scope: 'boss' is not one of 'ingest', 'read'"),
        (["nosuch"], "aftersales: no such command 'nosuch' (commands: demo, init, import"),
        (["import", "customers"], "aftersales import: missing argument PATH"),
        (["import", "customers", "c.csv", "--db"], "aftersales import: option '--db' requires an argument"),
        (["clv", "fit", "--time-unit", "month"], "invalid value for --time-unit: 'month' is not one of 'day', 'week'"),
        (["--nope"], "aftersales: no such option --nope (options: --version, --help)"),
        (["experiment", "power"], "aftersales experiment power: missing option --baseline"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, expected, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.startswith("error: ") and expected in err, err
    assert err.count("\n") == 1 and "internal error" not in err and "Traceback" not in err
    assert out == ""


def test_clv_fit_without_arguments_is_not_an_internal_error(capsys, tmp_path, monkeypatch):
    """``clv fit`` with no arguments once said ``internal error: MissingParameter``; now it either runs on
    the default store or names what is missing, never exit 1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    code, _, err = run(["clv", "fit"], capsys)
    assert code == 2 and err.startswith("error: ") and "internal error" not in err, err


def test_a_group_without_its_command_shows_its_help_as_usage(capsys):
    code, out, err = run(["keys"], capsys)
    assert code == 2 and "Usage: aftersales keys" in err and "create" in err and out == ""


def test_a_bad_date_names_its_option(capsys):
    code, _, err = run(["generate", "--out", "never-written", "--as-of", "2025-13-01"], capsys)
    assert (code, err) == (2, "error: --as-of: '2025-13-01' is not a date such as 2024-01-31\n")


def _command(*path: str):
    cmd = build()
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def test_field_errors_are_shown_as_the_commands_options():
    """Services raise neutral errors located at a field; the CLI names the option that sets it."""
    metrics = _command("metrics")
    to = ValidationError("to must be after from", [FieldError(("to",), "must be after from")])
    assert _validation_message(to, metrics) == "--to: must be after from"
    # located at the function's parameter name: shown as the option that fills it (start -> --from)
    start = ValidationError("bad", [FieldError(("start",), "must be before the end date")])
    assert _validation_message(start, metrics) == "--from: must be before the end date"
    two = ValidationError("bad", [FieldError(("from",), "a"), FieldError(("period",), "b")])
    assert _validation_message(two, metrics) == "--from: a; --period: b"


def test_field_errors_without_an_option_here():
    calibration = FieldError(("calibration_end",), "is after the last order")
    assert _field(calibration, None) == "--calibration-end: is after the last order"  # command unknown
    assert _field(FieldError(("name",), "unknown metric 'x'"), _command("metrics")) == "unknown metric 'x'"
    row = ValidationError("row 2 (metric 'm'): n must be >= 0", [FieldError(("stats", 2, "n"), "must be >= 0")])
    assert _validation_message(row, None) == "row 2 (metric 'm'): n must be >= 0"  # not a parameter: the message
    assert _validation_message(ValidationError("plain message"), None) == "plain message"
