"""E-mail templates: the catalogue, its file layout, locale fallback, and rendering.

**File layout** (a directory users keep in git; the shipped one is ``aftersales/templates/email``)::

    <root>/
      _layout/_base.html     shared by every locale's layout (a partial: its name starts with _)
      _layout/_styles.css    another partial (``{% include "_styles.css" %}``)
      _layout/en.html        the English frame (header, footer with the unsubscribe link)
      _layout/en.txt         the plain-text frame (optional)
      _layout/de.html
      thank-you/en.html      one template, one locale: a front matter with its subject, then HTML
      thank-you/en.txt       its own plain text (optional: otherwise made from the HTML)
      thank-you/de.html

A template file starts with a YAML front matter holding its ``subject`` (a Jinja template itself) and
an optional ``description``::

    ---
    subject: "Thank you for your order, {{ first_name|default('there') }}"
    description: Sent the day after delivery.
    ---
    {% extends "layout.html" %}
    {% block content %}<p>...</p>{% endblock %}

A template may extend its locale's layout as ``layout.html`` / ``layout.txt`` (the layout is chosen
with the same locale fallback as the template); layouts and templates may extend or include the
partials of ``_layout`` by their file names (``_base.html``: the shipped layouts put the page and
its styles there and only translate the footer). Files and directories whose names start with ``.``
are ignored; a locale file name is a locale identifier (``en``, ``de``, ``de_CH``).

**Locale fallback**: a customer's locale ``de_CH`` tries ``de_CH``, then ``de``, then the catalogue's
default (``en``); ``zh_Hant_TW`` tries ``zh_Hant_TW``, ``zh_Hant``, ``zh``, ``en``.

**Rendering** (:func:`render_email`): the subject, HTML and text run in the sandbox
(:mod:`.sandbox`); the HTML gets its CSS inlined (``css_inline``: mail clients drop ``<style>``
blocks; ``<link>``ed stylesheets are dropped, never fetched or read); the text part is the
template's own ``.txt`` or, without one, made from the HTML (:func:`.plaintext.html_to_text`).
Every template error becomes a ``ValidationError`` naming the template, locale, file and line.

Loading (:meth:`TemplateCatalog.from_directory`, :meth:`TemplateCatalog.from_package`) reads the
template files once, read-only, like Babel reads its locale data; everything else here is pure, and
:meth:`TemplateCatalog.from_sources` builds a catalogue from text alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from aftersales.core.errors import FieldError, NotFoundError, ValidationError
from aftersales.core.messaging.plaintext import html_to_text
from aftersales.core.messaging.sandbox import RENDER_ERRORS, Layouts, compile_template, template_error

__all__ = [
    "DEFAULT_LOCALE",
    "LAYOUT_DIR",
    "PACKAGE_TEMPLATES",
    "EmailTemplate",
    "RenderedEmail",
    "TemplateCatalog",
    "locale_chain",
    "parse_template_file",
    "render_email",
]

DEFAULT_LOCALE = "en"
#: The directory of a catalogue that holds the layouts (not a template).
LAYOUT_DIR = "_layout"
#: The shipped templates, inside the installed package.
PACKAGE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,8}([_-][A-Za-z0-9]{2,8}){0,3}$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n", re.DOTALL | re.MULTILINE)
_FRONT_KEYS = frozenset({"subject", "description"})


@dataclass(frozen=True)
class EmailTemplate:
    """One template in one locale: Jinja sources of its subject, HTML and (optional) text, and the
    layouts of its locale it may extend (``(name, filename, source)``, see ``sandbox.LAYOUT_NAMES``)."""

    name: str
    locale: str
    subject: str
    html: str
    text: str | None = None
    description: str = ""
    layouts: Layouts = ()

    def filename(self, part: str) -> str:
        """The file a part came from, as errors name it: ``thank-you/de.html``, ``thank-you/de.subject``."""
        return f"{self.name}/{self.locale}.{part}"


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered e-mail: one-line subject, HTML with inlined CSS, plain text."""

    subject: str
    html: str
    text: str


def _normalise_locale(locale: str) -> str:
    """``de-ch`` -> ``de_CH``, ``zh-hant-tw`` -> ``zh_Hant_TW`` (language lower, script title, region upper)."""
    parts = [p for p in re.split(r"[_\-.@]", locale.strip()) if p]
    if not parts:
        return ""
    out = [parts[0].lower()]
    for p in parts[1:4]:
        out.append(p.title() if len(p) == 4 and p.isalpha() else p.upper() if len(p) in (2, 3) else p)
    return "_".join(out)


def locale_chain(locale: str | None, default: str = DEFAULT_LOCALE) -> tuple[str, ...]:
    """The locales to try, most specific first, ending with ``default``.

    >>> locale_chain("de-ch"), locale_chain("zh_Hant_TW"), locale_chain(None), locale_chain("en_GB")
    (('de_CH', 'de', 'en'), ('zh_Hant_TW', 'zh_Hant', 'zh', 'en'), ('en',), ('en_GB', 'en'))
    """
    chain: list[str] = []
    for text in (locale or "", default):
        parts = _normalise_locale(text).split("_") if text else []
        for i in range(len(parts), 0, -1):
            candidate = "_".join(parts[:i])
            if candidate not in chain:
                chain.append(candidate)
    return tuple(chain)


def _invalid(source: str, message: str) -> ValidationError:
    return ValidationError(f"e-mail template file {source}: {message}", [FieldError(("template", source), message)])


def parse_template_file(name: str, locale: str, text: str, *, source: str) -> EmailTemplate:
    """An :class:`EmailTemplate` from the text of a ``<name>/<locale>.html`` file (front matter +
    HTML). The front matter's lines are kept as blank lines, so errors name the file's own lines."""
    match = _FRONT.match(text)
    if match is None:
        raise _invalid(source, "no front matter: start the file with '---', a 'subject:' line and '---'")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise _invalid(source, f"front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise _invalid(source, "the front matter must be a mapping with a 'subject'")
    unknown = sorted(set(map(str, meta)) - _FRONT_KEYS)
    if unknown:
        raise _invalid(source, f"unknown front-matter key(s) {', '.join(unknown)} (allowed: subject, description)")
    subject = meta.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise _invalid(source, "the front matter needs a non-empty 'subject'")
    html = "\n" * match.group(0).count("\n") + text[match.end() :]
    return EmailTemplate(name, locale, subject, html, None, str(meta.get("description") or ""))


class TemplateCatalog:
    """Templates by name and locale, with the layouts, resolved with locale fallback."""

    def __init__(
        self,
        templates: Iterable[EmailTemplate],
        layouts: Mapping[tuple[str, str], tuple[str, str]] | None = None,
        *,
        default_locale: str = DEFAULT_LOCALE,
    ) -> None:
        """``layouts`` maps ``(locale, "layout.html" | "layout.txt")`` to ``(filename, source)``, and
        ``("*", "_name.ext")`` the partials every locale sees."""
        self.default_locale = default_locale
        self._templates = {(t.name, t.locale): t for t in templates}
        self._layouts = dict(layouts or {})

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_sources(cls, files: Mapping[str, str], *, default_locale: str = DEFAULT_LOCALE) -> TemplateCatalog:
        """A catalogue from ``{"thank-you/en.html": text, "thank-you/en.txt": text, "_layout/en.html": ...}``."""
        parsed: dict[tuple[str, str], EmailTemplate] = {}
        texts: dict[tuple[str, str], str] = {}
        layouts: dict[tuple[str, str], tuple[str, str]] = {}
        for path, text in sorted(files.items()):
            folder, _, filename = path.replace("\\", "/").rpartition("/")
            stem, dot, ext = filename.rpartition(".")
            partial = folder == LAYOUT_DIR and filename.startswith("_")
            if folder.startswith(".") or filename.startswith(".") or not dot or ext not in ("html", "txt", "css"):
                continue
            if partial:
                layouts[("*", filename)] = (path, text)
                continue
            if ext == "css":
                raise _invalid(path, "a stylesheet belongs in _layout, named _<name>.css (a partial)")
            if not _LOCALE.match(stem):
                raise _invalid(path, f"{stem!r} is not a locale (name files like en.html, de_CH.html)")
            locale = _normalise_locale(stem)
            if folder == LAYOUT_DIR:
                layouts[(locale, f"layout.{ext}")] = (path, text)
            elif not _NAME.match(folder):
                raise _invalid(path, f"{folder!r} is not a template name (lower-case letters, digits, - and _)")
            elif ext == "html":
                parsed[(folder, locale)] = parse_template_file(folder, locale, text, source=path)
            else:
                texts[(folder, locale)] = text
        for key, text in texts.items():
            if key not in parsed:
                raise _invalid(f"{key[0]}/{key[1]}.txt", "a text part without its .html file (which holds the subject)")
            t = parsed[key]
            parsed[key] = EmailTemplate(t.name, t.locale, t.subject, t.html, text, t.description)
        return cls(parsed.values(), layouts, default_locale=default_locale)

    @classmethod
    def from_directory(cls, path: str | Path, *, default_locale: str = DEFAULT_LOCALE) -> TemplateCatalog:
        """The catalogue of a template directory (see the module's file layout)."""
        root = Path(path)
        if not root.is_dir():
            raise NotFoundError(f"no template directory at {root}")
        files = {
            p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in root.glob("*/*")
            if p.is_file() and p.suffix in (".html", ".txt", ".css")
        }
        return cls.from_sources(files, default_locale=default_locale)

    @classmethod
    def from_package(cls) -> TemplateCatalog:
        """The templates shipped with aftersales (``aftersales/templates/email``; docs/email.md)."""
        return cls.from_directory(PACKAGE_TEMPLATES)

    def merged(self, override: TemplateCatalog) -> TemplateCatalog:
        """This catalogue with ``override``'s templates and layouts in place of the same name and
        locale (a user's directory over the shipped templates)."""
        templates = {**self._templates, **override._templates}
        return TemplateCatalog(
            templates.values(), {**self._layouts, **override._layouts}, default_locale=self.default_locale
        )

    # -- lookup ------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted({name for name, _ in self._templates})

    def locales(self, name: str) -> list[str]:
        return sorted(locale for n, locale in self._templates if n == name)

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self._templates)

    def _layouts_for(self, locale: str | None) -> Layouts:
        found = [
            (name, filename, source) for (scope, name), (filename, source) in self._layouts.items() if scope == "*"
        ]
        for layout in ("layout.html", "layout.txt"):
            for candidate in locale_chain(locale, self.default_locale):
                if (candidate, layout) in self._layouts:
                    filename, source = self._layouts[(candidate, layout)]
                    found.append((layout, filename, source))
                    break
        return tuple(sorted(found))

    def resolve(self, name: str, locale: str | None) -> EmailTemplate:
        """Template ``name`` in the best locale for ``locale`` (``de_CH`` -> ``de`` -> default), with
        that locale's layouts; :class:`NotFoundError` when neither it nor the default exists."""
        for candidate in locale_chain(locale, self.default_locale):
            template = self._templates.get((name, candidate))
            if template is not None:
                return EmailTemplate(
                    template.name,
                    template.locale,
                    template.subject,
                    template.html,
                    template.text,
                    template.description,
                    self._layouts_for(locale),
                )
        if name in self:
            raise NotFoundError(
                f"e-mail template {name!r} has no locale {locale!r} nor {self.default_locale!r} "
                f"(it has {', '.join(self.locales(name))})"
            )
        raise NotFoundError(f"no e-mail template {name!r} (known: {', '.join(self.names()) or 'none'})")

    def check(self) -> None:
        """Compile every template and layout; a :class:`ValidationError` listing every syntax error."""
        found: dict[tuple[FieldError, ...], str] = {}  # by place and reason: a broken layout is reported once
        for (name, locale), template in sorted(self._templates.items()):
            resolved = self.resolve(name, locale)
            parts = [("subject", template.subject), ("html", template.html), ("txt", template.text)]
            for part, source in parts:
                if source is None:
                    continue
                try:
                    compiled = compile_template(resolved.layouts, template.filename(part), source)
                    for layout, _, _ in resolved.layouts:  # the layouts and partials compile too
                        compiled.environment.get_template(layout)
                except RENDER_ERRORS as exc:
                    err = template_error(exc, name, locale, _filenames(resolved))
                    found.setdefault(tuple(err.errors), str(err))
        if found:
            raise ValidationError("; ".join(found.values()), [e for errs in found for e in errs])


def _filenames(template: EmailTemplate) -> set[str]:
    own = {template.filename(p) for p in ("subject", "html", "txt")}
    return own | {filename for _, filename, _ in template.layouts}


@lru_cache(maxsize=1)
def _inliner() -> Any:
    """The CSS inliner. It never loads a ``<link>``ed stylesheet: css_inline's default would fetch
    URLs and read local files named by a template (a template author could read the server's files);
    ``@media`` rules, which cannot be inlined, stay in a ``<style>`` block for the clients that
    honour them."""
    import css_inline

    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_email(template: EmailTemplate, context: Mapping[str, Any], *, locale: str | None = None) -> RenderedEmail:
    """``template`` rendered with ``context`` for a reader in ``locale`` (default: the template's).

    ``locale`` is also given to the template as the ``locale`` variable (the filters format with
    it). The subject is collapsed to one line. Errors: :class:`ValidationError` naming the template,
    locale, file and line (undefined variables, sandbox refusals, syntax, bad filter input)."""
    reader_locale = locale or template.locale
    values = {**context, "locale": reader_locale}
    layouts = template.layouts
    try:
        subject = compile_template(layouts, template.filename("subject"), template.subject).render(values)
        html = compile_template(layouts, template.filename("html"), template.html).render(values)
        text = None
        if template.text is not None:
            text = compile_template(layouts, template.filename("txt"), template.text).render(values)
    except RENDER_ERRORS as exc:
        raise template_error(exc, template.name, reader_locale, _filenames(template)) from None
    inlined = _inliner().inline(html)
    plain = text.strip() + "\n" if text is not None else html_to_text(inlined) + "\n"
    return RenderedEmail(_one_line(subject), inlined, plain)
