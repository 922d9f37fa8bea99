"""The ``customer_profiles`` table (migration 0005): one row per customer, written by ``aftersales refresh``.

Its columns are the profile catalogue (``core/segments/fields.py::PROFILE_FIELDS``) in catalogue
order, plus ``refreshed_at`` (when the refresh that wrote the row ran) and ``predictive_note`` (why
the predictive columns are NULL, when they are). The store types follow the field types:

========== ============================ =========================================================
field type SQLite                       PostgreSQL
========== ============================ =========================================================
int        BIGINT                       BIGINT
float      FLOAT                        DOUBLE PRECISION
text       TEXT                         TEXT
bool       BOOLEAN (0/1)                BOOLEAN
timestamp  UTCDateTime (UTC text)       TIMESTAMP WITH TIME ZONE
date       DATE (ISO text)              DATE
text_list  TEXT holding a JSON array    TEXT[]
========== ============================ =========================================================

``text_list`` is :class:`TextList`: a native array on PostgreSQL (Ibis reads it as
``array<string>`` in place, and a segment's ``contains`` becomes an array test there), JSON text on
SQLite, which has no array type; the SQLite read into the analytical engine turns it back into
``array<string>`` (``repositories/profiles.read_profiles``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from aftersales.adapters.sql.tables import metadata
from aftersales.adapters.sql.types import UTCDateTime
from aftersales.core.segments.fields import PROFILE_FIELDS, FieldType

__all__ = ["PROFILE_COLUMNS", "TextList", "customer_profiles", "profile_sql_type"]


class TextList(TypeDecorator[list[str]]):
    """A list of strings: ``TEXT[]`` on PostgreSQL, a JSON array in ``TEXT`` on SQLite."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return list(json.loads(value))
        return list(value)


_SQL_TYPES: dict[FieldType, Callable[[], TypeEngine[Any]]] = {
    "int": BigInteger,
    "float": Float,
    "text": Text,
    "bool": Boolean,
    "timestamp": UTCDateTime,
    "date": Date,
    "text_list": TextList,
}


def profile_sql_type(field_type: FieldType) -> TypeEngine[Any]:
    """The store type of a profile field type."""
    return _SQL_TYPES[field_type]()


customer_profiles = Table(
    "customer_profiles",
    metadata,
    *(Column(f.name, profile_sql_type(f.type), nullable=f.name != "customer_id") for f in PROFILE_FIELDS),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("predictive_note", Text, nullable=True),
    PrimaryKeyConstraint("customer_id"),
    ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
)

PROFILE_COLUMNS: tuple[str, ...] = tuple(c.name for c in customer_profiles.columns)
"""Every column of ``customer_profiles`` in table order (the catalogue, then refreshed_at, predictive_note)."""
