"""The survey definition: what is asked, in which words, on which scale, and how often.

A survey has one **kind**, which fixes the scale of every score it collects (the headline and
each follow-up dimension; the data contract keeps one kind per response):

=========  =========  ==============================================================
kind       scale      headline
=========  =========  ==============================================================
nps        0-10       "How likely are you to recommend us?" (promoters 9-10)
csat       1-5        "How satisfied are you with ...?" (satisfied 4-5)
ces        1-7        "How easy was it to ...?" (higher = easier)
review     1-5        stars for one product, with a title and a text (a product review)
=========  =========  ==============================================================

Texts are kept per locale (``{"en": "...", "de": "..."}``); every text map holds the survey's
``default_locale``, and a reader's locale falls back as the e-mail templates do (``de_CH`` -> ``de``
-> the default: :func:`localised`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from aftersales.core.contract import SURVEY_SCALES

__all__ = [
    "DEFAULT_EDIT_WINDOW",
    "DEFAULT_LINK_TTL",
    "DEFAULT_THROTTLE",
    "KINDS",
    "MAX_DRIVERS",
    "OVERALL",
    "SCALES",
    "Dimension",
    "Survey",
    "Texts",
    "Throttle",
    "localised",
]

#: The survey kinds and their inclusive scales (the contract's, plus product reviews' stars).
SCALES: Mapping[str, tuple[int, int]] = MappingProxyType({**SURVEY_SCALES, "review": (1, 5)})
KINDS: tuple[str, ...] = tuple(SCALES)
#: The dimension of the headline answer in ``survey_responses`` (the contract's default).
OVERALL = "overall"
#: Most follow-up dimensions a survey asks, and a driver analysis explains the score with.
MAX_DRIVERS = 12
#: At most one survey per customer in this long, unless a survey or the caller says otherwise.
DEFAULT_THROTTLE = timedelta(days=90)
#: How long an invitation's links work.
DEFAULT_LINK_TTL = timedelta(days=30)
#: How long after the first answer the respondent may still change it (then: "already answered").
DEFAULT_EDIT_WINDOW = timedelta(days=3)

Texts = Mapping[str, str]
"""One text in several locales: ``{"en": "...", "de": "..."}`` (locale keys normalised: ``de_CH``)."""


def localised(texts: Texts, locale: str | None, default: str) -> str:
    """The text for ``locale`` with fallback (``de_CH`` -> ``de`` -> ``default``).

    >>> localised({"en": "Thanks", "de": "Danke"}, "de_AT", "en"), localised({"en": "Thanks"}, "fr", "en")
    ('Danke', 'Thanks')
    """
    from aftersales.core.messaging.templates import locale_chain  # the e-mail fallback; loaded when texts are read

    for candidate in locale_chain(locale, default):
        if candidate in texts:
            return texts[candidate]
    return texts[default]


@dataclass(frozen=True)
class Dimension:
    """A follow-up question scoring one dimension (order process, shipping, ...) on the kind's scale."""

    id: str
    question: Texts
    required: bool = False


@dataclass(frozen=True)
class Throttle:
    """How often a customer may be asked: at most one send of this survey per ``survey``, and none
    within ``global_`` of any other survey's send (``None``: the caller's global default)."""

    survey: timedelta = DEFAULT_THROTTLE
    global_: timedelta | None = None


@dataclass(frozen=True)
class Survey:
    """A validated survey definition (``parse_survey``); immutable, comparable, hashable by value."""

    name: str
    kind: str
    question: Texts
    thank_you: Texts
    description: str = ""
    default_locale: str = "en"
    dimensions: tuple[Dimension, ...] = ()
    comment: Texts | None = None
    scale_labels: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    channel: str = "email"
    category: str = "marketing"
    topic: str = "surveys"
    throttle: Throttle = field(default_factory=Throttle)
    link_ttl: timedelta = DEFAULT_LINK_TTL
    edit_window: timedelta = DEFAULT_EDIT_WINDOW
    incentivised: bool = False
    title_label: Texts | None = None

    @property
    def scale(self) -> tuple[int, int]:
        """The inclusive scale of every score of this survey."""
        return SCALES[self.kind]

    @property
    def is_review(self) -> bool:
        return self.kind == "review"

    def text(self, texts: Texts, locale: str | None) -> str:
        """``texts`` in ``locale`` with this survey's fallback."""
        return localised(texts, locale, self.default_locale)

    def labels_for(self, locale: str | None) -> tuple[str, str] | None:
        """The scale's (low, high) labels in ``locale`` with fallback, or ``None`` when not defined."""
        from aftersales.core.messaging.templates import locale_chain

        for candidate in locale_chain(locale, self.default_locale):
            if candidate in self.scale_labels:
                return self.scale_labels[candidate]
        return None

    def needs_consent(self) -> bool:
        """Marketing surveys go only to customers who agreed to marketing e-mail (the delivery
        checks consent and suppressions at send time); transactional ones to every customer."""
        return self.category == "marketing"
