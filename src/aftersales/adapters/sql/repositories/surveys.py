"""The store side of surveys and reviews (issue 16; tables in adapters/sql/survey_tables.py).

Version rows are written once (``INSERT ... ON CONFLICT DO NOTHING``), and so are sends: a send's id
is derived from its sender's key, so a repeated send writes nothing. A response's rows in the
contract's ``survey_responses`` are replaced as a whole (delete, then insert) under the send's row
lock, so a resubmit leaves exactly the answers it holds and two submits never interleave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from aftersales.adapters.sql.survey_tables import product_reviews, survey_sends, survey_versions, surveys
from aftersales.adapters.sql.tables import TABLES
from aftersales.core.errors import ConflictError
from aftersales.services.ports_surveys import OpenedLink, ReviewRecord, SendRecord, SurveyRecord

__all__ = ["SqlSurveyRepository"]

S, V, SE, R = surveys, survey_versions, survey_sends, product_reviews
RESPONSES = TABLES["survey_responses"]
CUSTOMERS = TABLES["customers"]
_REVIEW_FIELDS = tuple(f.name for f in fields(ReviewRecord))


class SqlSurveyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert)(table)

    def _locked(self, q: Any, for_update: bool) -> Any:
        return q.with_for_update() if for_update and self._conn.dialect.name == "postgresql" else q

    # -- definitions ------------------------------------------------------------------------------

    def add_survey(self, survey: SurveyRecord) -> None:
        try:
            with self._conn.begin_nested():  # a savepoint: the caller's transaction survives a conflict
                self._conn.execute(insert(S).values(**asdict(survey)))
                self._add_version(survey)
        except IntegrityError:
            raise ConflictError(f"a survey named {survey.name!r} exists already") from None

    def update_survey(self, survey: SurveyRecord) -> None:
        values = {k: v for k, v in asdict(survey).items() if k not in ("survey_id", "created_at")}
        self._conn.execute(update(S).where(S.c.survey_id == survey.survey_id).values(**values))
        self._add_version(survey)

    def _add_version(self, survey: SurveyRecord) -> None:
        row = {
            "survey_id": survey.survey_id,
            "version": survey.version,
            "definition_json": survey.definition_json,
            "created_at": survey.updated_at,
        }
        self._conn.execute(self._insert(V).values(**row).on_conflict_do_nothing())

    def _survey(self, q: Any) -> SurveyRecord | None:
        row = self._conn.execute(q).mappings().first()
        return SurveyRecord(**row) if row else None

    def get_survey(self, survey_id: str) -> SurveyRecord | None:
        return self._survey(select(S).where(S.c.survey_id == survey_id))

    def survey_by_name(self, name: str) -> SurveyRecord | None:
        return self._survey(select(S).where(S.c.name == name))

    def list_surveys(self, statuses: Sequence[str] | None = None) -> list[SurveyRecord]:
        q = select(S).order_by(S.c.name)
        if statuses:
            q = q.where(S.c.status.in_(list(statuses)))
        return [SurveyRecord(**r) for r in self._conn.execute(q).mappings()]

    def version(self, survey_id: str, version: int) -> str | None:
        q = select(V.c.definition_json).where(V.c.survey_id == survey_id, V.c.version == version)
        found = self._conn.execute(q).scalar()
        return str(found) if found is not None else None

    # -- sends ------------------------------------------------------------------------------------

    def add_send(self, send: SendRecord) -> bool:
        result = self._conn.execute(self._insert(SE).values(**asdict(send)).on_conflict_do_nothing())
        return bool(result.rowcount)

    def get_send(self, send_id: str, *, for_update: bool = False) -> SendRecord | None:
        row = self._conn.execute(self._locked(select(SE).where(SE.c.send_id == send_id), for_update)).mappings().first()
        return SendRecord(**row) if row else None

    def open_link(self, send_id: str, *, for_update: bool = False) -> OpenedLink | None:
        q = (
            select(SE, S.c.status.label("_survey_status"), V.c.definition_json, CUSTOMERS.c.locale)
            .join(S, S.c.survey_id == SE.c.survey_id)
            .join(V, (V.c.survey_id == SE.c.survey_id) & (V.c.version == SE.c.version))
            .join(CUSTOMERS, CUSTOMERS.c.customer_id == SE.c.customer_id)
            .where(SE.c.send_id == send_id)
        )
        if for_update and self._conn.dialect.name == "postgresql":
            q = q.with_for_update(of=SE)
        row = self._conn.execute(q).mappings().first()
        if row is None:
            return None
        send = SendRecord(**{c.name: row[c.name] for c in SE.columns})
        return OpenedLink(send, row["_survey_status"], row["definition_json"], row["locale"])

    def update_send(self, send_id: str, changes: Mapping[str, Any]) -> None:
        self._conn.execute(update(SE).where(SE.c.send_id == send_id).values(**changes))

    def sends_since(self, customer_id: str, since: datetime) -> list[tuple[str, datetime]]:
        q = select(SE.c.survey_id, SE.c.sent_at).where(SE.c.customer_id == customer_id, SE.c.sent_at >= since)
        return [(r.survey_id, r.sent_at) for r in self._conn.execute(q.order_by(SE.c.sent_at))]

    def send_counts(self) -> list[tuple[str, str, int]]:
        q = select(SE.c.survey_id, SE.c.status, func.count()).group_by(SE.c.survey_id, SE.c.status)
        return [(r[0], r[1], int(r[2])) for r in self._conn.execute(q.order_by(SE.c.survey_id, SE.c.status))]

    # -- answers ----------------------------------------------------------------------------------

    def response_rows(self, response_id: str) -> list[dict[str, Any]]:
        q = select(RESPONSES).where(RESPONSES.c.response_id == response_id).order_by(RESPONSES.c.dimension)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def replace_response(self, response_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._conn.execute(delete(RESPONSES).where(RESPONSES.c.response_id == response_id))
        if rows:
            self._conn.execute(insert(RESPONSES), [dict(r) for r in rows])

    # -- reviews ----------------------------------------------------------------------------------

    def _review(self, q: Any) -> ReviewRecord | None:
        row = self._conn.execute(q).mappings().first()
        return ReviewRecord(**{k: row[k] for k in _REVIEW_FIELDS}) if row else None

    def review_of_send(self, send_id: str) -> ReviewRecord | None:
        return self._review(select(R).where(R.c.send_id == send_id))

    def get_review(self, review_id: str, *, for_update: bool = False) -> ReviewRecord | None:
        return self._review(self._locked(select(R).where(R.c.review_id == review_id), for_update))

    def save_review(self, review: ReviewRecord) -> None:
        values = asdict(review)
        stmt = self._insert(R).values(**values)
        changed = {k: stmt.excluded[k] for k in values if k not in ("review_id", "send_id", "created_at")}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["review_id"], set_=changed))

    def list_reviews(
        self,
        *,
        statuses: Sequence[str] | None = None,
        product_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[ReviewRecord]:
        q = select(R).order_by(R.c.review_id).limit(limit)
        if statuses:
            q = q.where(R.c.status.in_(list(statuses)))
        if product_id is not None:
            q = q.where(R.c.product_id == product_id)
        if after is not None:
            q = q.where(R.c.review_id > after)
        return [ReviewRecord(**{k: r[k] for k in _REVIEW_FIELDS}) for r in self._conn.execute(q).mappings()]

    def _names(self, table: str, key: str, ids: Sequence[str]) -> dict[str, str | None]:
        t = TABLES[table]
        wanted = sorted(set(ids))
        out: dict[str, str | None] = {}
        for start in range(0, len(wanted), 1000):
            q = select(t.c[key], t.c.name).where(t.c[key].in_(wanted[start : start + 1000]))
            out.update({r[0]: r[1] for r in self._conn.execute(q)})
        return out

    def customer_names(self, customer_ids: Sequence[str]) -> dict[str, str | None]:
        return self._names("customers", "customer_id", customer_ids)

    def product_names(self, product_ids: Sequence[str]) -> dict[str, str | None]:
        return self._names("products", "product_id", product_ids)
