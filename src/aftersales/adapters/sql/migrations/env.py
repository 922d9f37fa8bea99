"""Alembic environment: runs migrations on the connection handed over by ``adapters.sql.migrate``."""

from __future__ import annotations

from alembic import context

from aftersales.adapters.sql import (  # noqa: F401 - registers their tables on metadata
    audience_tables,
    journey_tables,
    loyalty_tables,
    profile_tables,
    segment_tables,
    service_tables,
    survey_tables,
)
from aftersales.adapters.sql.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always pass a connection
    raise RuntimeError("run migrations through aftersales.adapters.sql.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER by copying tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
