"""customer time zone and locale: each customer's own IANA zone and locale, both optional (issue 15)

Revision ID: 0008
Revises: 0007

Both columns are nullable: a customer whose zone or locale is unknown takes the business defaults
(``AFTERSALES_DEFAULT_TIMEZONE``, ``AFTERSALES_DEFAULT_LOCALE``); existing rows keep null.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (SQLite adds and, since 3.35, drops a column in place): a
    # batch copy of customers would rewrite every row and trip the foreign keys that point at it.
    op.add_column("customers", sa.Column("timezone", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("locale", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "locale")
    op.drop_column("customers", "timezone")
