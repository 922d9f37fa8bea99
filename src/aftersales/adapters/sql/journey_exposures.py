"""A journey's enrollments as the report's exposures (one Arrow table; services/analytical/journey_report.py)."""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import Engine, select

from aftersales.adapters.sql.journey_tables import journey_enrollments

__all__ = ["read_exposures"]

_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("arm", pa.string()),
        ("variants_json", pa.string()),
        ("entered_at", pa.timestamp("us", tz="UTC")),
    ]
)


def read_exposures(engine: Engine, journey_id: str) -> pa.Table:
    """Every enrollment of the journey (held-out, running, finished and removed ones alike: the
    comparison is by assignment, intent to treat): customer_id, arm, variants_json, entered_at."""
    e = journey_enrollments.c
    query = select(e.customer_id, e.arm, e.variants_json, e.entered_at).where(e.journey_id == journey_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    arrays = [pa.array([row[i] for row in rows], type=f.type) for i, f in enumerate(_SCHEMA)]
    return pa.table(arrays, schema=_SCHEMA)
