"""Survey links: ``<public_url>/s/<token>`` for an invitation, with ``?score=N`` for each point of the
scale in the e-mail, and preview links for authors; the variables of an invitation e-mail.

Tokens are signed by ``core/tokens.py`` with the instance's key (the one that signs unsubscribe
links: ``bootstrap.surveys.survey_links``), purpose ``survey`` (valid until the send's
``expires_at``) or ``survey_preview`` (a day). The token sits in the path: base64url and a dot,
nothing to escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.surveys.links import (
    PreviewLink,
    SurveyLink,
    read_preview_link,
    read_survey_link,
    sign_preview_link,
    sign_survey_link,
)
from aftersales.core.surveys.model import Survey
from aftersales.services.ports_surveys import SendRecord

__all__ = ["PAGE_PREFIX", "PREVIEW_TTL", "SurveyLinks", "survey_invitation_context"]

PAGE_PREFIX = "/s/"
PREVIEW_TTL = timedelta(days=1)


@dataclass(frozen=True)
class SurveyLinks:
    """Signs and reads survey links with ``key``; URLs start with ``public_url``."""

    key: bytes
    public_url: str

    def token(self, send: SendRecord) -> str:
        link = SurveyLink(send.send_id, send.customer_id, send.survey_id, send.version)
        return sign_survey_link(self.key, link, expires_at=send.expires_at)

    def url_of(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}{PAGE_PREFIX}{token}"

    def page_url(self, send: SendRecord) -> str:
        return self.url_of(self.token(send))

    def score_url(self, send: SendRecord, score: int) -> str:
        return f"{self.page_url(send)}?score={score}"

    def preview_url(self, survey_id: str, version: int, locale: str, now: datetime) -> str:
        token = sign_preview_link(self.key, PreviewLink(survey_id, version, locale), expires_at=now + PREVIEW_TTL)
        return self.url_of(token)

    def read(self, token: str, now: datetime) -> SurveyLink:
        return read_survey_link(self.key, token, now=now)

    def read_preview(self, token: str, now: datetime) -> PreviewLink:
        return read_preview_link(self.key, token, now=now)


def survey_invitation_context(
    send: SendRecord, now: datetime, *, links: SurveyLinks, survey: Survey, locale: str | None = None
) -> dict[str, Any]:
    """The variables an invitation e-mail template sees (``templates/email/survey-*``):

    ``survey_url`` (the page), ``scores`` (one ``{"score", "url"}`` per point of the scale, lowest
    first: one click records that score), ``scale_low``/``scale_high`` and their labels
    (``low_label``/``high_label``, in ``locale``, when the survey defines them), ``question`` (the
    headline in ``locale``), ``survey_name``, ``survey_kind``, ``expires_at`` (aware) and
    ``link_days`` (whole days the link stays valid from ``now``)."""
    token = links.token(send)
    page = links.url_of(token)
    low, high = survey.scale
    label = survey.labels_for(locale)
    return {
        "survey_url": page,
        "scores": [{"score": s, "url": f"{page}?score={s}"} for s in range(low, high + 1)],
        "scale_low": low,
        "scale_high": high,
        "low_label": label[0] if label else None,
        "high_label": label[1] if label else None,
        "question": survey.text(survey.question, locale),
        "survey_name": survey.name,
        "survey_kind": survey.kind,
        "expires_at": send.expires_at,
        "link_days": max((send.expires_at - now).days, 0),
    }
