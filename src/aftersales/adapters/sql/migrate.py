"""Create or upgrade the store with Alembic (``aftersales init``), and report its revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from aftersales.adapters.sql import profile_tables, segment_tables, service_tables  # noqa: F401 - their tables belong to the same metadata
from aftersales.core.errors import EngineError, StoreUnavailableError

__all__ = ["MigrationResult", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


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
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> MigrationResult:
    """Bring the store at ``engine`` to ``revision`` (creating every table on an empty database)."""
    try:
        before = current_revision(engine)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StoreUnavailableError(f"cannot open the store {where}: {reason}") from exc
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
