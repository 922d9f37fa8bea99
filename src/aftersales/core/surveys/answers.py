"""A respondent's answers: reading them from a link or a form, checking them, and merging resubmits.

One send (one invitation) has at most one response. Answers arrive in two ways:

* a **score in the link** (``GET /s/{token}?score=8``, the scale in the e-mail): it sets the headline
  score and nothing else;
* the **page's form** (``POST``): the headline score, each dimension's score, the comment (and a
  review's title). A form carries the whole answer as the page showed it (pre-filled with what is
  stored), so a blank field clears that answer.

A second submit of either kind **replaces** the stored answers of that kind (:func:`merge`): a reload,
the back button or another click in the e-mail updates the one response. The response counts as
``answered`` once the form was sent, ``partial`` while only the link's score is stored (the page
resumes there); it stays changeable for the survey's ``edit_window`` after the first answer, then it
is closed (:func:`is_closed`).

>>> from aftersales.core.surveys.parse import parse_survey
>>> s = parse_survey({"name": "n", "kind": "nps", "question": {"en": "?"}, "comment": {"en": "Why?"},
...                   "dimensions": [{"id": "shipping", "question": {"en": "?"}, "required": True}]})
>>> read_score(s, "8")
8
>>> a = read_form(s, {"score": ["9"], "dim_shipping": ["7"], "comment": [" Fast! "]})
>>> a.score, dict(a.dimensions), a.comment
(9, {'shipping': 7}, 'Fast!')
>>> read_form(s, {"score": ["11"]})
Traceback (most recent call last):
aftersales.core.errors.ValidationError: score: choose a score from 0 to 10; dim_shipping: please answer this question
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from aftersales.core.contract import MAX_TEXT_LENGTH
from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.surveys.model import Survey

__all__ = [
    "MAX_TITLE_LENGTH",
    "Answers",
    "is_closed",
    "merge",
    "read_form",
    "read_score",
]

MAX_TITLE_LENGTH = 200
Form = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Answers:
    """What one respondent answered (all optional until given)."""

    score: int | None = None
    dimensions: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    comment: str | None = None
    title: str | None = None

    @property
    def empty(self) -> bool:
        return self.score is None and not self.dimensions and self.comment is None and self.title is None


def _scale_message(survey: Survey) -> str:
    low, high = survey.scale
    return f"choose a score from {low} to {high}"


def _score(survey: Survey, text: str | None) -> int | None:
    """The score ``text`` names on the survey's scale; ``None`` when blank; ``ValueError`` otherwise."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        raise ValueError(_scale_message(survey))
    score = int(value)
    low, high = survey.scale
    if not low <= score <= high:
        raise ValueError(_scale_message(survey))
    return score


def read_score(survey: Survey, text: str) -> int:
    """The score of a link's ``?score=``; :class:`ValidationError` (at ``score``) when it is not on
    the scale."""
    try:
        score = _score(survey, text)
    except ValueError as exc:
        raise ValidationError(f"score: {exc}", [FieldError(("score",), str(exc))]) from None
    if score is None:
        raise ValidationError(f"score: {_scale_message(survey)}", [FieldError(("score",), _scale_message(survey))])
    return score


def _last(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[-1] if values else None


def _free_text(text: str | None, limit: int) -> str | None:
    """Stripped text, ``None`` when blank; ``ValueError`` when too long or holding a NUL."""
    if text is None or not text.strip():
        return None
    value = text.strip().replace("\r\n", "\n")
    if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("holds characters that cannot be stored")
    if len(value) > limit:
        raise ValueError(f"is too long (at most {limit:,} characters)")
    return value


def read_form(survey: Survey, form: Form, *, stored_score: int | None = None) -> Answers:
    """The answers a page's form holds (fields ``score``, ``dim_<id>``, ``comment``, ``title``).

    The headline score is required unless one is stored already (``stored_score``: it came with the
    link); a required dimension must be answered. Every problem is reported at its field, in the
    page's field names, so the page can show each one next to its question."""
    errors: list[FieldError] = []
    score: int | None = None
    try:
        score = _score(survey, _last(form, "score"))
    except ValueError as exc:
        errors.append(FieldError(("score",), str(exc)))
    else:
        if score is None and stored_score is None:
            errors.append(FieldError(("score",), _scale_message(survey)))
    dimensions: dict[str, int] = {}
    for dim in survey.dimensions:
        name = f"dim_{dim.id}"
        try:
            value = _score(survey, _last(form, name))
        except ValueError as exc:
            errors.append(FieldError((name,), str(exc)))
            continue
        if value is None and dim.required:
            errors.append(FieldError((name,), "please answer this question"))
        elif value is not None:
            dimensions[dim.id] = value
    comment = title = None
    if survey.comment is not None or survey.is_review:
        try:
            comment = _free_text(_last(form, "comment"), MAX_TEXT_LENGTH)
        except ValueError as exc:
            errors.append(FieldError(("comment",), f"the text {exc}"))
    if survey.is_review:
        try:
            title = _free_text(_last(form, "title"), MAX_TITLE_LENGTH)
        except ValueError as exc:
            errors.append(FieldError(("title",), f"the title {exc}"))
    if errors:
        raise ValidationError("; ".join(f"{e.loc[0]}: {e.message}" for e in errors), errors)
    return Answers(score if score is not None else stored_score, MappingProxyType(dimensions), comment, title)


def merge(stored: Answers, submitted: Answers, *, from_form: bool) -> Answers:
    """The answers after a resubmit: a link's score replaces the score only; a form replaces
    everything it holds (a blank field clears its answer; the score stays when the form had none)."""
    if not from_form:
        return replace(stored, score=submitted.score if submitted.score is not None else stored.score)
    return replace(submitted, score=submitted.score if submitted.score is not None else stored.score)


def is_closed(survey: Survey, first_answered_at: datetime | None, now: datetime) -> bool:
    """Whether answers can no longer change: the edit window since the first answer has passed.

    >>> from datetime import UTC, timedelta
    >>> from aftersales.core.surveys.parse import parse_survey
    >>> s = parse_survey({"name": "n", "kind": "csat", "question": {"en": "?"}, "edit_window": "2d"})
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> is_closed(s, None, t), is_closed(s, t, t + timedelta(days=1)), is_closed(s, t, t + timedelta(days=2))
    (False, False, True)
    """
    return first_answered_at is not None and now >= first_answered_at + survey.edit_window
