"""Survey definitions: validate, apply (create, or a new version), list, show, archive.

A document (YAML text, or the same JSON mapping over the API) is parsed by the pure core
(:func:`aftersales.core.surveys.parse.parse_survey`); a bad one is a ``ValidationError`` whose
``FieldError`` locations are paths into the document, and nothing is written. The stored definition
is the canonical document (:func:`~aftersales.core.surveys.parse.survey_to_doc`) as compact JSON with
sorted keys, so the same survey written two ways is stored the same way.

**Apply** creates the survey (``srv_<hex>``, version 1) or, when the canonical document differs,
writes version n+1; an unchanged document writes nothing. The kind cannot change (answers already
stored are on the old kind's scale: create a new survey). Sends keep the version they were made with,
so a page opened from an old e-mail shows the questions that e-mail asked. **Archive** closes a
survey: no new sends, and its links show "this survey is closed" (answers stay).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from aftersales.core.errors import ConflictError, NotFoundError, ValidationError
from aftersales.core.surveys.model import Survey  # light: the parser is imported where a document is read
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_surveys import SurveyRecord

__all__ = [
    "SURVEY_STATUSES",
    "Applied",
    "StoredSurvey",
    "apply",
    "archive",
    "canonical_json",
    "get",
    "list_surveys",
    "parse_document",
    "survey_of",
    "survey_version",
]

SURVEY_STATUSES = ("active", "archived")


@dataclass(frozen=True)
class StoredSurvey:
    """A survey as readers see it: id, version, status, times, the canonical document, and (from
    :func:`get`) its sends counted by status."""

    survey_id: str
    name: str
    kind: str
    version: int
    status: str
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any]
    sends: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What apply did: ``created``, ``changed`` (a new version) or ``unchanged``."""

    outcome: Literal["created", "changed", "unchanged"]
    survey: StoredSurvey
    previous_version: int | None = None


def canonical_json(survey: Survey) -> str:
    from aftersales.core.surveys.parse import survey_to_doc

    return json.dumps(survey_to_doc(survey), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=256)
def _parse_stored(definition_json: str) -> Survey:
    from aftersales.core.surveys.parse import parse_survey

    return parse_survey(json.loads(definition_json))


def survey_of(definition_json: str) -> Survey:
    """The survey a stored definition holds (parsed once per distinct text)."""
    return _parse_stored(definition_json)


def parse_document(document: str | Mapping[str, Any], *, source: str = "<document>") -> Survey:
    """A survey from YAML/JSON text (errors name line and column) or from a mapping (errors name paths)."""
    from aftersales.core.surveys.parse import load_survey_yaml, parse_survey  # the parser loads the YAML tools

    if isinstance(document, str):
        return load_survey_yaml(document, source)
    return parse_survey(document)


def _view(record: SurveyRecord, sends: dict[str, int] | None = None) -> StoredSurvey:
    return StoredSurvey(
        record.survey_id,
        record.name,
        record.kind,
        record.version,
        record.status,
        record.created_at,
        record.updated_at,
        json.loads(record.definition_json),
        sends or {},
    )


def _find(u: UnitOfWork, ref: str) -> SurveyRecord:
    found = u.surveys.get_survey(ref) if ref.startswith("srv_") else u.surveys.survey_by_name(ref)
    if found is None:
        raise NotFoundError(f"no survey {ref!r}")
    return found


def apply(uow: UnitOfWorkFactory, survey: Survey, *, now: datetime) -> Applied:
    """Store ``survey``: create it, write a new version when it changed, or nothing (module docstring)."""
    text = canonical_json(survey)
    with uow() as u:
        stored = u.surveys.survey_by_name(survey.name)
        if stored is None:
            record = SurveyRecord("srv_" + secrets.token_hex(8), survey.name, survey.kind, 1, text, "active", now, now)
            u.surveys.add_survey(record)
            return Applied("created", _view(record))
        if stored.kind != survey.kind:
            raise ValidationError(
                f"survey {survey.name!r} is a {stored.kind} survey; its kind cannot become {survey.kind} "
                "(its answers are on the old scale): give the new survey another name"
            )
        if stored.definition_json == text:
            return Applied("unchanged", _view(stored))
        record = SurveyRecord(
            stored.survey_id, stored.name, stored.kind, stored.version + 1, text, stored.status, stored.created_at, now
        )
        u.surveys.update_survey(record)
        return Applied("changed", _view(record), stored.version)


def list_surveys(uow: UnitOfWorkFactory, statuses: Sequence[str] | None = None) -> list[StoredSurvey]:
    with uow() as u:
        return [_view(r) for r in u.surveys.list_surveys(statuses)]


def get(uow: UnitOfWorkFactory, ref: str) -> StoredSurvey:
    """One survey (by name or id) with its sends counted by status."""
    with uow() as u:
        record = _find(u, ref)
        counts = {status: n for sid, status, n in u.surveys.send_counts() if sid == record.survey_id}
        return _view(record, counts)


def archive(uow: UnitOfWorkFactory, ref: str, *, now: datetime) -> StoredSurvey:
    """Close a survey for good: no new sends; its links say it is closed."""
    with uow() as u:
        record = _find(u, ref)
        if record.status == "archived":
            raise ConflictError(f"survey {record.name!r} is archived already")
        closed = SurveyRecord(
            record.survey_id, record.name, record.kind, record.version, record.definition_json, "archived",
            record.created_at, now,
        )  # fmt: skip
        u.surveys.update_survey(closed)
        return _view(closed)


def survey_version(u: UnitOfWork, survey_id: str, version: int) -> Survey:
    """The survey as it was at ``version`` (inside ``u``); ``NotFoundError`` when unknown."""
    text = u.surveys.version(survey_id, version)
    if text is None:
        raise NotFoundError(f"no version {version} of survey {survey_id!r}")
    return survey_of(text)


def active_survey(u: UnitOfWork, ref: str) -> tuple[SurveyRecord, Survey]:
    """An active survey (by name or id) and its current definition; ``ConflictError`` when archived."""
    record = _find(u, ref)
    if record.status != "active":
        raise ConflictError(f"survey {record.name!r} is archived: it sends nothing")
    return record, survey_of(record.definition_json)
