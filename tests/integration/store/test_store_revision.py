"""The store's revision without Alembic: the head from the migration files' names, the current
revision read with plain SQL, and no Alembic import when the store is already at the head
(``adapters/sql/migrate.py``; issue 11 item 7: ``keys create`` paid ~1 s to import Alembic)."""

from __future__ import annotations

import json
import subprocess
import sys

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
    known_head,
    upgrade,
)


def test_the_head_from_file_names_is_alembics_head():
    assert known_head() == head_revision()


def test_migration_files_are_one_chain_numbered_by_revision():
    """What ``known_head`` relies on: ``NNNN_<what>.py`` has revision NNNN and revises NNNN - 1."""
    scripts = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    assert scripts, MIGRATIONS
    for script in scripts:
        assert script.path is not None
        number = script.path.rsplit("/", 1)[-1][:4]
        assert script.revision == number, script.path
        expected_down = None if number == "0001" else f"{int(number) - 1:04d}"
        assert script.down_revision == expected_down, script.path


def test_current_revision_reads_what_alembic_reads(tmp_path, store_url):
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current_revision(empty) is None
    empty.dispose()
    engine = make_engine(store_url)
    with engine.connect() as conn:
        assert current_revision(engine) == MigrationContext.configure(conn).get_current_revision() == known_head()
    engine.dispose()


def test_a_store_behind_the_head_is_still_migrated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0003")
    result = upgrade(engine)
    assert (result.before, result.after) == ("0003", known_head())
    assert "customer_profiles" in result.tables  # created by a later migration (0005)
    engine.dispose()


_PROBE = """
import json, sys
from aftersales.adapters.sql.engine import make_engine
from aftersales.adapters.sql.migrate import upgrade
result = upgrade(make_engine(sys.argv[1]))
print(json.dumps([result.before, result.after, "alembic" in sys.modules]))
"""


def test_upgrading_a_store_at_the_head_does_not_import_alembic(store_url):
    """A fresh interpreter (this one has long imported Alembic) upgrades a store already at the head."""
    res = subprocess.run([sys.executable, "-c", _PROBE, store_url], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    before, after, imported = json.loads(res.stdout.strip().splitlines()[-1])
    assert before == after == known_head()
    assert imported is False
