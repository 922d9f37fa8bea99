"""Start-up cost: building the CLI imports no pandas, SciPy, Ibis or Arrow (issue 11 item 7).

Every command used to import them at start-up (~3.3 s of CPU, ``--help`` included), and a command that
opens the store imported Alembic (~1 s) even when the store needed no migration. Each check runs in a
fresh interpreter, since this test process has long imported them; the time itself is measured by
bench/bench_startup.py, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "ibis", "pyarrow")

_PROBE = """
import json, sys
from aftersales.entrypoints.cli.app import build
root = build()
{extra}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _heavy_after(extra: str = "") -> list[str]:
    code = _PROBE.format(extra=extra, heavy=HEAVY)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_building_the_command_tree_loads_no_heavy_module():
    assert _heavy_after() == []


@pytest.mark.parametrize("path", [[], ["keys"], ["keys", "create"], ["clv", "fit"], ["experiment"], ["import"]])
def test_help_texts_load_no_heavy_module(path):
    """Rendering the help of a group or command (what ``--help`` prints) stays light."""
    assert _heavy_after(_HELP.format(path=path)) == []


def test_metrics_help_imports_the_registry_only_when_shown():
    """``metrics --help`` lists the metric names from the registry, which builds Ibis expressions: Ibis
    is imported for that help, and neither SciPy nor pandas."""
    heavy = _heavy_after(_HELP.format(path=["metrics"]) + "\nassert 'average_order_value' in text")
    assert "ibis" in heavy and "scipy" not in heavy and "pandas" not in heavy


_HELP = """
from typer._click.core import Context
cmd = root
for name in {path!r}:
    cmd = cmd.commands[name]
with Context(cmd, info_name="aftersales") as ctx:
    text = cmd.get_help(ctx)
"""


def test_aftersales_help_and_version_run_in_a_fresh_process():
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aftersales", "--help"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0 and "Usage: aftersales" in res.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in res.stderr.splitlines() if "|" in line}
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


_IMPORTS = """
import json, sys
import aftersales.core.contract, aftersales.adapters.sql.tables, aftersales.adapters.sql.migrate
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def test_the_contract_the_store_tables_and_the_migrator_load_neither_arrow_nor_alembic():
    """The contract imports pyarrow only in ``arrow_schema``, and the migrator imports Alembic only when
    a store needs migrating: commands that touch the store (``keys create``) pay for neither."""
    code = _IMPORTS.format(heavy=(*HEAVY, "alembic"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_keys_create_on_a_store_at_the_head_does_not_import_alembic(tmp_path):
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.migrate import upgrade

    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(db)
    upgrade(engine)  # the store exists and is at the head, as after `aftersales init`
    engine.dispose()
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aftersales", "keys", "create", "--scope", "read", "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("as_")  # the key was created
    imported = {line.split("|")[-1].strip().split(".")[0] for line in res.stderr.splitlines() if "|" in line}
    assert "aftersales" in imported and "alembic" not in imported
