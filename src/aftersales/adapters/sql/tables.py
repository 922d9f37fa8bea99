"""SQLAlchemy tables derived from the data contract (``core/contract.py``), one per canonical table.

Names, types, keys and foreign keys come from the contract; the migrations in ``migrations/`` create
exactly these tables (a test compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.schema import Constraint
from sqlalchemy.types import TypeEngine

from aftersales.adapters.sql.types import UTCDateTime
from aftersales.core import contract

__all__ = ["TABLES", "metadata", "sql_type"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def sql_type(logical: contract.LogicalType) -> TypeEngine[Any]:
    """The store type of a contract logical type."""
    factories: dict[str, Callable[[], TypeEngine[Any]]] = {
        "string": Text,
        "int": BigInteger,
        "bool": Boolean,
        "money": lambda: Numeric(18, 2, asdecimal=True),
        "timestamp": UTCDateTime,
        "date": Date,
        "json": Text,
    }
    return factories[logical]()


def _build(t: contract.Table) -> Table:
    cols = [Column(c.name, sql_type(c.type), nullable=not (c.required or c.name in t.key)) for c in t.columns]
    constraints: list[Constraint] = [PrimaryKeyConstraint(*t.key)]
    for col, (parent, pcol) in t.parents.items():
        constraints.append(ForeignKeyConstraint([col], [f"{parent}.{pcol}"]))
    table = Table(t.name, metadata, *cols, *constraints)
    for col in t.parents:
        if col not in t.key[:1]:
            Index(f"ix_{t.name}_{col}", table.c[col])
    return table


# Parents before children, so creation order and FK checks are simple.
TABLES: dict[str, Table] = {name: _build(t) for name, t in contract.TABLES.items()}
