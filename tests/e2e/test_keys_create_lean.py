"""``aftersales keys create`` on its lean path (issue 11; entrypoints/cli/fast_keys.py): a store at the
head gets its key without SQLAlchemy or the Typer app; a store to create or migrate, help and usage
errors go to the full path and behave as before. Import checks run in fresh interpreters; time itself
is measured by bench/bench_startup.py, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aftersales import bootstrap
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import current_revision, known_head, upgrade
from aftersales.entrypoints.cli import fast_keys
from aftersales.entrypoints.cli.app import main
from aftersales.services.operational import api_keys

HEAVY = (
    "sqlalchemy",
    "alembic",
    "typer",
    "click",
    "pandas",
    "pyarrow",
    "ibis",
    "scipy",
    "pydantic",
    "pydantic_settings",
)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _assert_key_works(url: str, out: str, err: str, scope: str) -> None:
    key = out.strip()
    assert out.count("\n") == 1 and key.startswith("as_") and f"(scope {scope}) created" in err
    principal = api_keys.authenticate(bootstrap.unit_of_work(url), key)
    assert principal.scope == scope and principal.key_id == key.split("_")[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("fresh_postgres_database")("aftersales_lean_cli")


def test_a_store_to_create_takes_the_full_path_and_then_the_lean_one(empty_store, capsys):
    assert not fast_keys.create(["--scope", "read", "--db", empty_store])  # declined: nothing there yet
    assert capsys.readouterr() == ("", "")
    code, out, err = _run(["keys", "create", "--scope", "read", "--db", empty_store], capsys)
    assert code == 0 and _revision(empty_store) == known_head()  # created and migrated by the full path
    _assert_key_works(empty_store, out, err, "read")
    assert fast_keys.create(["--scope", "admin", "--name", "ops", "--db", empty_store])  # now at the head
    out, err = capsys.readouterr()
    _assert_key_works(empty_store, out, err, "admin")
    names = {k.scope: k.name for k in api_keys.list_keys(bootstrap.unit_of_work(empty_store))}
    assert names == {"read": None, "admin": "ops"}


def test_a_store_behind_the_head_is_migrated_first(empty_store, capsys):
    engine = make_engine(empty_store)
    try:
        upgrade(engine, "0002")  # api_keys exists, but later migrations are missing
    finally:
        engine.dispose()
    assert not fast_keys.create(["--scope", "ingest", "--db", empty_store])
    code, out, err = _run(["keys", "create", "--scope", "ingest", "--db", empty_store], capsys)
    assert code == 0 and _revision(empty_store) == known_head()
    _assert_key_works(empty_store, out, err, "ingest")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "aftersales keys create: missing option --scope (one of ingest, read, admin)"),
        (["--scope", "boss"], "invalid value for --scope: 'boss' is not one of 'ingest', 'read'"),
        (["--scope", "READ"], "invalid value for --scope: 'READ' is not one of"),
        (["--scope"], "aftersales keys create: option '--scope' requires an argument (one of ingest, read, admin)"),
        (["--scope", "read", "extra"], "aftersales keys create: got unexpected extra argument(s) (extra)"),
        (["--scope", "read", "--nope"], "aftersales keys create: no such option --nope (did you mean --scope"),
        (["--scope", "read", "--name", "--db", "x.db"], "got unexpected extra argument(s) (x.db)"),
        (["-h"], "aftersales keys create: no such option -h (options: --scope, --name, --db, --help)"),
    ],
)
def test_usage_errors_are_the_full_apps(args, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fast_keys.parse(args) is None
    code, out, err = _run(["keys", "create", *args], capsys)
    assert (code, out) == (2, "") and err.startswith("error: ") and expected in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []  # no store was created


def test_help_is_the_full_apps(capsys):
    assert fast_keys.parse(["--scope", "read", "--help"]) is None
    code, out, _ = _run(["keys", "create", "--help"], capsys)
    assert code == 0 and "Usage: aftersales keys create" in out and "--scope" in out


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (["--scope", "ingest"], {"--scope": "ingest"}),
        (["--db=x.db", "--name", "", "--scope=admin"], {"--db": "x.db", "--name": "", "--scope": "admin"}),
        (["--scope", "read", "--scope", "ingest"], None),  # Click takes the last; the full app decides
        (["--scope", "read", "--name=-x"], None),
        (["--scope", "read", "--"], None),
    ],
)
def test_the_lean_parser_takes_only_plainly_valid_arguments(args, parsed):
    assert fast_keys.parse(args) == parsed


_PROBE = """
import json, sys
from aftersales.entrypoints.cli.fast_keys import create
assert create(sys.argv[1:]), "the lean path declined"
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return {**env, **extra}


def test_the_lean_path_imports_neither_sqlalchemy_nor_the_app(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(db)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    code = _PROBE.format(heavy=(*HEAVY, "psycopg"))
    res = subprocess.run(
        [sys.executable, "-c", code, "--scope", "read", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_the_command_on_the_default_store_takes_the_lean_path_the_second_time(tmp_path):
    """Without ``--db`` (the settings' URL), as a user runs it: the first run creates the store (full
    path: SQLAlchemy, Alembic and what the migrations load), the second finds it at the head and imports
    none of them. The Typer
    package itself is still imported, by the console script's module (entrypoints/cli/app.py)."""
    env = _env(AFTERSALES_DATABASE_URL=f"sqlite:///{tmp_path / 'default.db'}")
    keys = []
    for expect_lean in (False, True):
        res = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "aftersales", "keys", "create", "--scope", "ingest"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
        assert res.returncode == 0, res.stderr
        imported = {line.split("|")[-1].strip().split(".")[0] for line in res.stderr.splitlines() if "|" in line}
        assert ("sqlalchemy" not in imported) is expect_lean, sorted(imported)
        if expect_lean:
            assert imported.isdisjoint({"alembic", "pandas", "pyarrow", "ibis", "scipy", "pydantic"}), sorted(imported)
        keys.append(res.stdout.strip())
    url = env["AFTERSALES_DATABASE_URL"]
    assert [api_keys.authenticate(bootstrap.unit_of_work(url), k).scope for k in keys] == ["ingest", "ingest"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == ["default.db"]
