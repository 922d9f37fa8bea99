"""Composition of surveys (docs/surveys.md): the link signer of survey pages and invitations.

Survey links are signed with the key that signs every other link (``AFTERSALES_SECRET_KEY``, else the
key generated at first use and kept in the store: ``services/operational/messaging/links.py``), and
start with ``AFTERSALES_PUBLIC_URL``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aftersales.config import Settings, get_settings

if TYPE_CHECKING:
    from aftersales.services.operational.surveys.links import SurveyLinks
    from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["survey_links"]


def survey_links(uow: UnitOfWorkFactory, settings: Settings | None = None) -> SurveyLinks:
    """The survey link signer on ``uow``'s store with the settings' key and public URL."""
    from datetime import UTC, datetime

    from aftersales.services.operational.messaging.links import signing_key
    from aftersales.services.operational.surveys.links import SurveyLinks

    s = settings or get_settings()
    configured = s.secret_key.get_secret_value().encode("utf-8") if s.secret_key is not None else None
    return SurveyLinks(signing_key(uow, configured, datetime.now(UTC)), s.public_url)
