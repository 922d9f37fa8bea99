"""The survey pages' own words in the reader's language: gettext catalogues read with Babel.

The pages' texts are English in the templates (``{{ _("...") }}``); each other language is a gettext
``.po`` file in ``locales/`` (``de.po``), compiled in memory with Babel the first time it is needed
(no build step, no ``.mo`` files in git). A reader's locale falls back as e-mail templates do
(``de_CH`` -> ``de`` -> ``en``). The survey's own texts (questions, thank-you) come from its
definition, in the same locale. To add a language: copy ``de.po`` to ``<lang>.po`` and translate.

Dates are written with Babel's CLDR data (``format_date``), so "5. März 2026" in German.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from aftersales.core.messaging.templates import locale_chain

__all__ = ["LOCALES", "environment", "gettext", "long_date", "page_language"]

LOCALES = Path(__file__).parent / "locales"
TEMPLATES = Path(__file__).parent / "templates"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _languages() -> frozenset[str]:
    return frozenset({"en", *(p.stem for p in LOCALES.glob("*.po"))})


def page_language(locale: str | None) -> str:
    """The language the page's own words are shown in for a reader in ``locale``.

    >>> page_language("de_CH"), page_language("fr"), page_language(None)
    ('de', 'en', 'en')
    """
    return next(c for c in locale_chain(locale, "en") if c in _languages())


@lru_cache(maxsize=32)
def _translations(language: str) -> NullTranslations:
    path = LOCALES / f"{language}.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


@lru_cache(maxsize=32)
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(_translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def environment(language: str) -> Environment:
    """The Jinja environment whose ``_()`` speaks ``language`` (one per language, built once)."""
    with _lock:
        return _environment(language)


def gettext(language: str) -> Callable[..., str]:
    """``_("...", name=value)`` in ``language`` for Python code (the templates' ``_`` works the same)."""
    with _lock:
        translations = _translations(language)

    def translate(text: str, **values: object) -> str:
        found = translations.gettext(text)
        return found % values if values else found

    return translate


def long_date(day: date, language: str) -> str:
    """``day`` written in full in ``language`` (CLDR's long date format)."""
    return format_date(day, format="long", locale=language)
