"""What a survey link's token says, signed by the one signer (``core/tokens.py``).

An invitation's token (purpose ``survey``) names the customer (its subject) and carries the send's
id and the survey's id and version; the page honours it only when the stored send agrees on all
four (a *foreign* token, one signed for another send or customer, is refused as an invalid link).
An author's preview token (purpose ``survey_preview``) names the survey and version and stores
nothing. Tokens hold ids only, never an address or a name (a token is signed, not encrypted).

>>> from datetime import UTC, datetime
>>> key, t = b"k" * 32, datetime(2026, 1, 1, tzinfo=UTC)
>>> token = sign_survey_link(key, SurveyLink("snd_1", "c1", "srv_1", 2), expires_at=t.replace(year=2027))
>>> read_survey_link(key, token, now=t)
SurveyLink(send_id='snd_1', customer_id='c1', survey_id='srv_1', version=2)
>>> read_preview_link(key, token, now=t)
Traceback (most recent call last):
aftersales.core.errors.TokenError: the token was made for another purpose
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.core.errors import TokenError
from aftersales.core.tokens import sign_token, verify_token

__all__ = [
    "PREVIEW_PURPOSE",
    "SURVEY_PURPOSE",
    "PreviewLink",
    "SurveyLink",
    "read_preview_link",
    "read_survey_link",
    "sign_preview_link",
    "sign_survey_link",
]

SURVEY_PURPOSE = "survey"
PREVIEW_PURPOSE = "survey_preview"


@dataclass(frozen=True)
class SurveyLink:
    """One invitation: which send, for whom, of which survey version."""

    send_id: str
    customer_id: str
    survey_id: str
    version: int


@dataclass(frozen=True)
class PreviewLink:
    """An author's preview of one survey version, in one locale."""

    survey_id: str
    version: int
    locale: str


def sign_survey_link(key: bytes, link: SurveyLink, *, expires_at: datetime) -> str:
    data = {"send": link.send_id, "survey": link.survey_id, "v": str(link.version)}
    return sign_token(key, SURVEY_PURPOSE, link.customer_id, expires_at=expires_at, data=data)


def _version(text: str | None) -> int:
    if text is None or not text.isdigit():
        raise TokenError("the token is malformed", "malformed")
    return int(text)


def read_survey_link(key: bytes, token: str, *, now: datetime) -> SurveyLink:
    """The invitation ``token`` names; :class:`TokenError` when it is malformed, altered, expired or
    not a survey link."""
    found = verify_token(key, token, SURVEY_PURPOSE, now=now)
    send_id, survey_id = found.data.get("send"), found.data.get("survey")
    if not send_id or not survey_id:
        raise TokenError("the token is malformed", "malformed")
    return SurveyLink(send_id, found.subject, survey_id, _version(found.data.get("v")))


def sign_preview_link(key: bytes, link: PreviewLink, *, expires_at: datetime) -> str:
    data = {"v": str(link.version), "locale": link.locale}
    return sign_token(key, PREVIEW_PURPOSE, link.survey_id, expires_at=expires_at, data=data)


def read_preview_link(key: bytes, token: str, *, now: datetime) -> PreviewLink:
    """The preview ``token`` names; :class:`TokenError` as :func:`read_survey_link`."""
    found = verify_token(key, token, PREVIEW_PURPOSE, now=now)
    return PreviewLink(found.subject, _version(found.data.get("v")), found.data.get("locale", ""))
