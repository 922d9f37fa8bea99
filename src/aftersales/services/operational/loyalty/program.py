"""The loyalty program: apply a document (a new version, or nothing when unchanged) and read it back.

The document comes as YAML text (``aftersales loyalty apply program.yaml``; the YAML 1.2 loader of
journeys: ``on``/``no`` stay text, repeated keys are errors) or as parsed JSON (the API). It is
validated whole (:func:`aftersales.core.loyalty.parse_program`: every problem named at its path) and
stored in canonical form; applying the same program again writes nothing (``unchanged``), another
one writes version N + 1. Rows written later record the version they were written under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from aftersales.core.errors import FieldError, NotFoundError, ValidationError
from aftersales.core.loyalty import Program, parse_program, program_digest, program_document
from aftersales.services.clock import Clock, SystemClock
from aftersales.services.ports import UnitOfWork, UnitOfWorkFactory
from aftersales.services.ports_loyalty import ProgramRecord

__all__ = ["Applied", "ProgramView", "apply_program", "current_program", "load_program_text", "stored_program"]


@dataclass(frozen=True)
class ProgramView:
    version: int
    name: str
    document: dict[str, Any]
    digest: str
    applied_at: datetime


@dataclass(frozen=True)
class Applied:
    status: Literal["created", "updated", "unchanged"]
    program: ProgramView


def load_program_text(text: str, source: str = "<string>") -> dict[str, Any]:
    """The document in YAML (or JSON, a subset) text; :class:`ValidationError` naming ``source``,
    line and column when it is not valid YAML."""
    from aftersales.core.journeys.yaml_form import load_yaml_document

    data, _ = load_yaml_document(text, source)
    if not isinstance(data, dict):
        message = f"{source}: a loyalty program is a mapping (name, earn, lock, expiry, value, tiers, rewards)"
        raise ValidationError(message, [FieldError((), message)])
    return data


def _view(record: ProgramRecord) -> ProgramView:
    return ProgramView(
        record.version, record.name, json.loads(record.definition_json), record.digest, record.applied_at
    )


@lru_cache(maxsize=16)
def _parsed(definition_json: str) -> Program:
    """A stored canonical document as a program (frozen, so one parse serves every request)."""
    return parse_program(json.loads(definition_json))


def stored_program(u: UnitOfWork) -> tuple[Program, int]:
    """The current program and its version (:class:`NotFoundError` before the first apply)."""
    record = u.loyalty.current_program()
    if record is None:
        raise NotFoundError("no loyalty program yet: apply one (aftersales loyalty apply program.yaml)")
    return _parsed(record.definition_json), record.version


def apply_program(uow: UnitOfWorkFactory, document: Any, *, clock: Clock | None = None) -> Applied:
    """Validate ``document`` and store it as the next version, unless it equals the current one."""
    program = parse_program(document)
    canonical = program_document(program)
    digest = program_digest(program)
    with uow() as u:
        current = u.loyalty.current_program()
        if current is not None and current.digest == digest:
            return Applied("unchanged", _view(current))
        record = ProgramRecord(
            version=1 if current is None else current.version + 1,
            name=program.name,
            definition_json=json.dumps(canonical, sort_keys=True, separators=(",", ":")),
            digest=digest,
            applied_at=(clock or SystemClock()).now(),
        )
        u.loyalty.add_program(record)
    return Applied("created" if current is None else "updated", _view(record))


def current_program(uow: UnitOfWorkFactory) -> ProgramView:
    """The program in force (:class:`NotFoundError` before the first apply)."""
    with uow() as u:
        record = u.loyalty.current_program()
    if record is None:
        raise NotFoundError("no loyalty program yet: apply one (aftersales loyalty apply program.yaml)")
    return _view(record)
