"""Create or upgrade the store with Alembic (``aftersales init``), and report its revision.

Alembic is imported only when a store needs migrating. Importing it (and the table modules its
environment registers) costs about 1 s of CPU, which every command that opens the store first
(``keys create``, ``import``, ``serve``) would otherwise pay on each start. Whether the store is
already at the head is read with plain SQLAlchemy from Alembic's ``alembic_version`` table and
compared with :func:`known_head`, the head revision told by the migration files' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from aftersales.adapters.sql.revision import MIGRATIONS, VERSION_TABLE, known_head
from aftersales.core.errors import EngineError, StoreUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MigrationResult", "alembic_config", "current_revision", "head_revision", "known_head", "upgrade"]


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str
    tables: tuple[str, ...]

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The head revision as Alembic reads it from the migration scripts (imports Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The store's revision, read from Alembic's version table with plain SQLAlchemy; None when the
    store has not been created (no version table, or an empty one)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    if len(rows) > 1:  # branches: our migrations form one chain, so this store was changed by hand
        raise EngineError(f"the store has several revisions ({', '.join(sorted(rows))}); expected one")
    return rows[0] if rows else None


def upgrade(engine: Engine, revision: str = "head") -> MigrationResult:
    """Bring the store at ``engine`` to ``revision`` (creating every table on an empty database).

    A store already at ``revision`` is left alone without importing Alembic (see the module's
    docstring); any other goes through ``alembic upgrade``."""
    try:
        before = current_revision(engine)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StoreUnavailableError(f"cannot open the store {where}: {reason}") from exc
    if before is not None and before == (known_head() if revision == "head" else revision):
        return MigrationResult(before, before, tuple(sorted(inspect(engine).get_table_names())))
    from alembic import command

    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:
        raise EngineError(f"migrating the store failed: {str(exc).strip().splitlines()[0]}") from exc
    after = current_revision(engine)
    assert after is not None
    return MigrationResult(before, after, tuple(sorted(inspect(engine).get_table_names())))
