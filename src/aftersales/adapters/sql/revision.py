"""The newest migration's revision, told by the migration files' names (standard library only).

Every migration is ``migrations/versions/NNNN_<what>.py`` with revision ``NNNN`` revising the one
numbered before it: one linear chain (tests/integration/store/test_store_revision.py holds the files
to this and checks the result against Alembic's own head), so the head is the highest number. Reading
it costs a directory listing, neither SQLAlchemy nor Alembic: ``aftersales keys create`` compares it
with the store's ``alembic_version`` row on its lean path (adapters/sql/lean_keys.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from aftersales.core.errors import EngineError

__all__ = ["MIGRATIONS", "VERSION_TABLE", "known_head"]

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
_MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def known_head() -> str:
    """The head revision: the highest ``NNNN`` among ``versions/NNNN_<what>.py``."""
    numbers = sorted(m.group(1) for p in (MIGRATIONS / "versions").iterdir() if (m := _MIGRATION_FILE.match(p.name)))
    if not numbers:
        raise EngineError(f"no migration files in {MIGRATIONS / 'versions'}")
    return numbers[-1]
