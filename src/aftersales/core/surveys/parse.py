"""Reading a survey document (a YAML file or the same JSON over the API), and writing it back.

:func:`parse_survey` checks the whole document and raises one
:class:`~aftersales.core.errors.ValidationError` listing every problem, each a :class:`FieldError`
at its path (``("dimensions", 1, "question", "de")``). :func:`survey_to_doc` writes the canonical
document (every default spelled out), and ``parse_survey(survey_to_doc(s)) == s``.
:func:`load_survey_yaml` reads a YAML file and names the line and column of each problem.

Fields (docs/surveys.md has the reference): ``name``, ``kind`` (nps | csat | ces | review),
``question`` (the headline, per locale), ``dimensions`` (follow-ups: ``id``, ``question``,
``required``), ``comment`` (the comment box's label per locale; absent: no comment box), ``title``
(reviews: the title field's label), ``scale_labels`` (per locale ``{low, high}``), ``thank_you``,
``description``, ``default_locale``, ``channel`` (email), ``category`` (marketing: needs consent |
transactional), ``topic``, ``throttle`` (``{survey: 90d, global: 90d}``), ``link_ttl``,
``edit_window``, ``incentivised`` (reviews asked for with an incentive).

>>> s = parse_survey({"name": "nps", "kind": "nps", "question": {"en": "Recommend us?"},
...                   "dimensions": [{"id": "shipping", "question": {"en": "Delivery?"}}]})
>>> s.scale, s.dimensions[0].id, survey_to_doc(s)["throttle"]
((0, 10), 'shipping', {'survey': '90d'})
>>> parse_survey({"name": "x", "kind": "stars", "question": {"fr": "?"}})
Traceback (most recent call last):
aftersales.core.errors.ValidationError: invalid survey: kind: 'stars' is not one of: nps, csat, ces, review; \
question: needs a text in the default locale 'en'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from aftersales.core.errors import FieldError, ValidationError
from aftersales.core.journeys.durations import format_duration, parse_duration
from aftersales.core.journeys.parse import invalid_journey
from aftersales.core.localtime import parse_locale
from aftersales.core.surveys.model import (
    DEFAULT_EDIT_WINDOW,
    DEFAULT_LINK_TTL,
    DEFAULT_THROTTLE,
    KINDS,
    MAX_DRIVERS,
    OVERALL,
    Dimension,
    Survey,
    Texts,
    Throttle,
)

__all__ = ["invalid_survey", "load_survey_yaml", "parse_survey", "survey_to_doc"]

Loc = tuple[str | int, ...]
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 1_000
MAX_LINK_TTL = timedelta(days=366)
SHOWN = 10
FIELDS = (
    "name", "kind", "description", "default_locale", "question", "scale_labels", "dimensions", "comment",
    "title", "thank_you", "channel", "category", "topic", "throttle", "link_ttl", "edit_window", "incentivised",
)  # fmt: skip
REQUIRED = ("name", "kind", "question")


def invalid_survey(errors: Sequence[FieldError], prefix: str = "invalid survey") -> ValidationError:
    """One error listing ``errors`` (the first ten in its message, all in ``.errors``), worded as the
    journey documents' errors are (one formatter: ``core.journeys.parse.invalid_journey``)."""
    return invalid_journey(errors, prefix)


class _Reader:
    """Collects every problem of one document, each at its path."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, loc: Loc, message: str) -> None:
        self.errors.append(FieldError(loc, message))

    def text(self, value: Any, loc: Loc, *, limit: int = MAX_TEXT) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(loc, "expected a non-empty text")
            return None
        if len(value) > limit:
            self.fail(loc, f"holds at most {limit} characters")
            return None
        return value.strip()

    def pattern(self, value: Any, loc: Loc, rx: re.Pattern[str], what: str) -> str | None:
        if not isinstance(value, str) or not rx.match(value):
            self.fail(loc, f"{str(value)[:40]!r} is not {what}")
            return None
        return value

    def choice(self, value: Any, loc: Loc, options: Sequence[str]) -> str | None:
        if value not in options:
            self.fail(loc, f"{str(value)[:40]!r} is not one of: {', '.join(options)}")
            return None
        return str(value)

    def locale(self, value: Any, loc: Loc) -> str | None:
        try:
            return parse_locale(value) if isinstance(value, str) else parse_locale("")
        except ValueError as exc:
            self.fail(loc, str(exc))
            return None

    def mapping(self, value: Any, loc: Loc) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(loc, "expected an object")
            return None
        return value

    def duration(self, value: Any, loc: Loc, *, positive: bool, limit: timedelta | None = None) -> timedelta | None:
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            self.fail(loc, str(exc))
            return None
        if positive and parsed <= timedelta(0):
            self.fail(loc, "must be longer than 0")
        elif limit is not None and parsed > limit:
            self.fail(loc, f"must be at most {limit.days} days")
        return parsed

    def flag(self, value: Any, loc: Loc) -> bool:
        if not isinstance(value, bool):
            self.fail(loc, "expected true or false")
            return False
        return value

    def unknown(self, doc: Mapping[str, Any], loc: Loc, known: Sequence[str]) -> None:
        for key in doc:
            if key not in known:
                self.fail((*loc, str(key)), f"unknown field (expected one of: {', '.join(known)})")


def _optional(doc: Mapping[str, Any], key: str, read: Callable[[Any], Any], default: Any) -> Any:
    return read(doc[key]) if key in doc and doc[key] is not None else default


def parse_survey(doc: Mapping[str, Any]) -> Survey:
    """The survey ``doc`` defines; :class:`ValidationError` listing every problem (module docstring)."""
    r = _Reader()
    if not isinstance(doc, Mapping):
        raise invalid_survey([FieldError((), "a survey document is an object (name, kind, question, ...)")])
    r.unknown(doc, (), FIELDS)
    for key in REQUIRED:
        if key not in doc:
            r.fail((key,), "required field is missing")
    name = (
        r.pattern(doc.get("name"), ("name",), NAME, "a name (lower-case letters, digits, - and _)")
        if "name" in doc
        else None
    )
    kind = r.choice(doc.get("kind"), ("kind",), KINDS) if "kind" in doc else None
    default = _optional(doc, "default_locale", lambda v: r.locale(v, ("default_locale",)), "en") or "en"
    question = _optional(doc, "question", lambda v: _texts(r, v, ("question",), default), None)
    thank_you = _optional(doc, "thank_you", lambda v: _texts(r, v, ("thank_you",), default), MappingProxyType({}))
    comment = _optional(doc, "comment", lambda v: _texts(r, v, ("comment",), default), None)
    title = _optional(doc, "title", lambda v: _texts(r, v, ("title",), default), None)
    labels = _optional(doc, "scale_labels", lambda v: _labels(r, v, default), MappingProxyType({}))
    dimensions = _optional(doc, "dimensions", lambda v: _dimensions(r, v, default), ())
    if kind == "review" and dimensions:
        r.fail(("dimensions",), "a review survey has no follow-up dimensions (it asks for a title and a text)")
    if kind is not None and kind != "review" and title is not None:
        r.fail(("title",), "only review surveys have a title field")
    channel = _optional(doc, "channel", lambda v: r.choice(v, ("channel",), ("email",)), "email")
    category = _optional(
        doc, "category", lambda v: r.choice(v, ("category",), ("marketing", "transactional")), "marketing"
    )
    topic = _optional(doc, "topic", lambda v: r.pattern(v, ("topic",), NAME, "a topic name"), "surveys")
    throttle = _optional(doc, "throttle", lambda v: _throttle(r, v), Throttle())
    ttl = _optional(
        doc, "link_ttl", lambda v: r.duration(v, ("link_ttl",), positive=True, limit=MAX_LINK_TTL), DEFAULT_LINK_TTL
    )
    window = _optional(
        doc, "edit_window", lambda v: r.duration(v, ("edit_window",), positive=False), DEFAULT_EDIT_WINDOW
    )
    incentivised = _optional(doc, "incentivised", lambda v: r.flag(v, ("incentivised",)), False)
    if incentivised and kind is not None and kind != "review":
        r.fail(("incentivised",), "only review surveys are marked incentivised (their exports disclose it)")
    description = _optional(doc, "description", lambda v: _description(r, v), "")
    if r.errors:
        raise invalid_survey(r.errors)
    assert name is not None and kind is not None and question is not None
    return Survey(
        name=name, kind=kind, question=question, thank_you=thank_you, description=description,
        default_locale=default, dimensions=dimensions, comment=comment, scale_labels=labels, channel=channel,
        category=category, topic=topic, throttle=throttle, link_ttl=ttl, edit_window=window,
        incentivised=incentivised, title_label=title,
    )  # fmt: skip


def _description(r: _Reader, value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        r.fail(("description",), f"expected a text of at most {MAX_TEXT} characters")
        return ""
    return value.strip()


def _texts(r: _Reader, value: Any, loc: Loc, default: str) -> Texts | None:
    found = r.mapping(value, loc)
    if found is None:
        return None
    if not found:
        r.fail(loc, f"needs a text in the default locale {default!r}")
        return None
    out: dict[str, str] = {}
    bad = False
    for key, text in found.items():
        locale = r.locale(key, (*loc, str(key)))
        checked = r.text(text, (*loc, str(key)))
        bad = bad or locale is None
        if locale is not None and checked is not None:
            if locale in out:
                r.fail((*loc, str(key)), f"locale {locale} is given twice")
            out[locale] = checked
    if default not in out and not bad:
        r.fail(loc, f"needs a text in the default locale {default!r}")
    return MappingProxyType(out)


def _labels(r: _Reader, value: Any, default: str) -> Mapping[str, tuple[str, str]]:
    found = r.mapping(value, ("scale_labels",))
    out: dict[str, tuple[str, str]] = {}
    for key, pair in (found or {}).items():
        loc: Loc = ("scale_labels", str(key))
        locale = r.locale(key, loc)
        given = r.mapping(pair, loc)
        if given is None:
            continue
        r.unknown(given, loc, ("low", "high"))
        low, high = (r.text(given.get(end), (*loc, end), limit=80) for end in ("low", "high"))
        if locale is not None and low is not None and high is not None:
            out[locale] = (low, high)
    if found and out and default not in out:
        r.fail(("scale_labels",), f"needs labels in the default locale {default!r}")
    return MappingProxyType(out)


def _dimensions(r: _Reader, value: Any, default: str) -> tuple[Dimension, ...]:
    if not isinstance(value, list):
        r.fail(("dimensions",), "expected a list")
        return ()
    if len(value) > MAX_DRIVERS:
        r.fail(("dimensions",), f"holds at most {MAX_DRIVERS} item(s)")
    out: list[Dimension] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        loc: Loc = ("dimensions", i)
        found = r.mapping(item, loc)
        if found is None:
            continue
        r.unknown(found, loc, ("id", "question", "required"))
        if "id" not in found or "question" not in found:
            r.fail(loc, "a dimension needs an id and a question")
            continue
        ident = r.pattern(found["id"], (*loc, "id"), DIMENSION_ID, "a dimension id (a-z, 0-9 and _, from a letter)")
        if ident == OVERALL:
            r.fail((*loc, "id"), "'overall' is the headline question's dimension; choose another id")
        elif ident is not None and ident in seen:
            r.fail((*loc, "id"), f"dimension {ident!r} is listed twice")
        question = _texts(r, found["question"], (*loc, "question"), default)
        required = r.flag(found.get("required", False), (*loc, "required"))
        if ident is not None and question is not None:
            seen.add(ident)
            out.append(Dimension(ident, question, required))
    return tuple(out)


def _throttle(r: _Reader, value: Any) -> Throttle:
    found = r.mapping(value, ("throttle",))
    if found is None:
        return Throttle()
    r.unknown(found, ("throttle",), ("survey", "global"))
    survey = _optional(
        found, "survey", lambda v: r.duration(v, ("throttle", "survey"), positive=False), DEFAULT_THROTTLE
    )
    global_ = _optional(found, "global", lambda v: r.duration(v, ("throttle", "global"), positive=False), None)
    return Throttle(survey or timedelta(0), global_)


def _texts_doc(texts: Texts) -> dict[str, str]:
    return dict(sorted(texts.items()))


def survey_to_doc(survey: Survey) -> dict[str, Any]:
    """The canonical document of ``survey`` (module docstring)."""
    doc: dict[str, Any] = {
        "name": survey.name,
        "kind": survey.kind,
        "description": survey.description,
        "default_locale": survey.default_locale,
        "question": _texts_doc(survey.question),
    }
    if survey.scale_labels:
        doc["scale_labels"] = {k: {"low": lo, "high": hi} for k, (lo, hi) in sorted(survey.scale_labels.items())}
    if survey.dimensions:
        doc["dimensions"] = [
            {"id": d.id, "question": _texts_doc(d.question), "required": d.required} for d in survey.dimensions
        ]
    if survey.comment is not None:
        doc["comment"] = _texts_doc(survey.comment)
    if survey.title_label is not None:
        doc["title"] = _texts_doc(survey.title_label)
    if survey.thank_you:
        doc["thank_you"] = _texts_doc(survey.thank_you)
    throttle = {"survey": format_duration(survey.throttle.survey)}
    if survey.throttle.global_ is not None:
        throttle["global"] = format_duration(survey.throttle.global_)
    doc |= {
        "channel": survey.channel,
        "category": survey.category,
        "topic": survey.topic,
        "throttle": throttle,
        "link_ttl": format_duration(survey.link_ttl),
        "edit_window": format_duration(survey.edit_window),
        "incentivised": survey.incentivised,
    }
    return doc


def load_survey_yaml(text: str, source: str = "<string>") -> Survey:
    """The survey a YAML file describes; :class:`ValidationError` naming ``source``, line and column
    of every problem (``surveys/nps.yaml:7:5: dimensions/0/id: ...``). YAML is read as journey files
    are (``core.journeys.yaml_form``: YAML 1.2 scalars, so ``no`` stays text; repeated keys refused)."""
    from aftersales.core.journeys.yaml_form import load_yaml_as

    return load_yaml_as(text, source, parse_survey, "survey", "name, kind and question")
