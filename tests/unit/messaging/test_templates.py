"""core/messaging/templates.py: the file layout, locale fallback, rendering (escaping, CSS inlining,
text part, Babel filters) and errors that name the template, locale and line."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.core.messaging.templates import TemplateCatalog, locale_chain, render_email

LAYOUT = (
    "<html><head><style>p { color: #123456; } .x { font-weight: bold; } "
    "@media (max-width: 480px) { p { color: red; } }</style></head>"
    "<body>{% block content %}{% endblock %}"
    '{% if unsubscribe_url is defined %}<p><a href="{{ unsubscribe_url }}">{{ bye }}</a></p>{% endif %}</body></html>'
)


def page(subject: str, body: str) -> str:
    return (
        f'---\nsubject: "{subject}"\n---\n{{% extends "layout.html" %}}\n{{% block content %}}{body}{{% endblock %}}\n'
    )


FILES = {
    "_layout/en.html": LAYOUT.replace("{{ bye }}", "Unsubscribe"),
    "_layout/de.html": LAYOUT.replace("{{ bye }}", "Abmelden"),
    "hello/en.html": page("Hello {{ first_name }}", '<p class="x">Hi {{ first_name }}, see {{ note }}.</p>'),
    "hello/de.html": page("Hallo {{ first_name }}", '<p class="x">Hallo {{ first_name }}, siehe {{ note }}.</p>'),
    "hello/de_CH.html": page("Grüezi {{ first_name }}", "<p>Grüezi {{ first_name }}</p>"),
    "plain/en.html": "---\nsubject: Plain\n---\n<p>HTML {{ who }}</p>",
    "plain/en.txt": "Text for {{ who }} & co <b>as is</b>",
    "german-only/de.html": "---\nsubject: Nur Deutsch\n---\n<p>x</p>",
}


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog.from_sources(FILES)


def render(catalog: TemplateCatalog, name: str, locale: str | None, **ctx: object):
    return render_email(catalog.resolve(name, locale), ctx, locale=locale)


# -- locale fallback ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "got"),
    [("de_CH", "de_CH"), ("de-ch", "de_CH"), ("de_AT", "de"), ("de", "de"), ("fr_FR", "en"), (None, "en"), ("", "en")],
)
def test_a_locale_falls_back_to_its_language_then_the_default(catalog, asked, got):
    assert catalog.resolve("hello", asked).locale == got


def test_locale_chain_drops_subtags_one_at_a_time():
    assert locale_chain("zh-Hant-TW") == ("zh_Hant_TW", "zh_Hant", "zh", "en")
    assert locale_chain("DE_de", default="fr") == ("de_DE", "de", "fr")


def test_the_layout_follows_the_readers_locale(catalog):
    ctx = {"first_name": "Ana", "note": "n", "unsubscribe_url": "https://x.test/u"}
    assert "Abmelden" in render(catalog, "hello", "de_AT", **ctx).html
    assert "Unsubscribe" in render(catalog, "hello", "fr", **ctx).html


def test_unknown_templates_and_missing_defaults_are_not_found(catalog):
    with pytest.raises(NotFoundError, match="no e-mail template 'nope'"):
        catalog.resolve("nope", "en")
    with pytest.raises(NotFoundError, match=r"'german-only' has no locale 'fr' nor 'en' \(it has de\)"):
        catalog.resolve("german-only", "fr")
    assert catalog.resolve("german-only", "de_CH").locale == "de"


# -- rendering ----------------------------------------------------------------------------------------


def test_html_is_escaped_and_subject_and_text_are_not(catalog):
    r = render(catalog, "hello", "en", first_name="<b>Ana</b> & Co", note="<script>x()</script>")
    assert "&lt;script&gt;" in r.html and "<script>" not in r.html
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; Co" in r.html
    assert r.subject == "Hello <b>Ana</b> & Co"
    own = render(catalog, "plain", "en", who="<i>Bo</i>")
    assert own.text == "Text for <i>Bo</i> & co <b>as is</b>\n"


def test_css_is_inlined_and_media_queries_kept(catalog):
    html = render(catalog, "hello", "en", first_name="A", note="n").html
    assert 'style="color: #123456;font-weight: bold;"' in html or 'style="font-weight: bold;color: #123456;"' in html
    assert "p { color: #123456; }" not in html
    assert "@media (max-width: 480px)" in html


def test_the_text_part_is_made_from_the_html_when_the_template_has_none(catalog):
    r = render(catalog, "hello", "de", first_name="Ana", note="Anhang", unsubscribe_url="https://x.test/u?t=1")
    assert r.text == "Hallo Ana, siehe Anhang.\n\nAbmelden (https://x.test/u?t=1)\n"


def test_the_subject_is_one_line(catalog):
    assert render(catalog, "hello", "en", first_name="A\r\nBcc: x@y.z", note="n").subject == "Hello A Bcc: x@y.z"


def test_linked_stylesheets_are_never_read(tmp_path: Path):
    css = tmp_path / "secret.css"
    css.write_text("p { color: #badbad; }")
    cat = TemplateCatalog.from_sources(
        {"t/en.html": f'---\nsubject: s\n---\n<html><head><link rel="stylesheet" href="{css}">'
                      f'<link rel="stylesheet" href="file://{css}"></head><body><p>x</p></body></html>'}
    )  # fmt: skip
    assert "badbad" not in render(cat, "t", "en").html


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "March 5, 2025 | €1,234.50 | 12,345"),
        ("de", "5. März 2025 | 1.234,50 € | 12.345"),
        ("de_CH", "5. März 2025 | EUR 1’234.50 | 12’345"),
    ],
)
def test_babel_filters_format_by_the_readers_locale(locale, expected):
    cat = TemplateCatalog.from_sources(
        {"f/en.html": "---\nsubject: s\n---\n{{ day|date }} | {{ amount|money('EUR') }} | {{ n|number }}"}
    )
    got = render(cat, "f", locale, day=date(2025, 3, 5), amount=Decimal("1234.5"), n=12345).text.strip()
    assert got.replace("\u00a0", " ").replace("'", "’") == expected.replace("'", "’")


def test_date_accepts_datetimes_and_iso_text_and_money_the_currency_variable():
    cat = TemplateCatalog.from_sources(
        {"f/en.html": "---\nsubject: s\n---\n{{ a|date('short') }} {{ b|date }} {{ none|date }}|{{ 5|money }}"}
    )
    got = render(cat, "f", "en", a=datetime(2025, 1, 2, 23, 0), b="2025-12-31", none=None, currency="usd").text
    assert got.strip() == "1/2/25 December 31, 2025 |$5.00"


# -- errors -------------------------------------------------------------------------------------------


def error_of(files: dict[str, str], name: str = "t", locale: str = "en", **ctx: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        cat = TemplateCatalog.from_sources(files)
        render_email(cat.resolve(name, locale), ctx, locale=locale)
    return info.value


def test_an_undefined_variable_names_the_template_locale_file_and_line():
    err = error_of({"t/de.html": "---\nsubject: s\n---\n<p>ok</p>\n<p>{{ frist_name }}</p>\n"}, locale="de_CH")
    assert str(err) == "e-mail template 't' (de_CH), t/de.html line 5: 'frist_name' is undefined"
    assert err.errors[0].loc == ("template", "t/de.html", 5)


def test_an_error_inside_a_layout_names_the_layout_file():
    files = {
        "_layout/en.html": "<p>\n{{ footer_text }}</p>{% block content %}{% endblock %}",
        "t/en.html": page("s", ""),
    }
    assert "_layout/en.html line 2: 'footer_text' is undefined" in str(error_of(files))


def test_syntax_errors_name_the_line():
    err = error_of({"t/en.html": "---\nsubject: s\n---\n\n{% if x %}never closed\n"}, x=1)
    assert "t/en.html line" in str(err) and "syntax error" in str(err)
    assert "t/en.subject line 1: syntax error" in str(error_of({"t/en.html": "---\nsubject: '{{ x '\n---\n<p/>"}))


def test_a_missing_currency_is_an_error_naming_the_line():
    err = error_of({"t/en.html": "---\nsubject: s\n---\n{{ 5|money }}"})
    assert "t/en.html line 4" in str(err) and "no currency" in str(err)


def test_optional_values_can_be_tested_for():
    cat = TemplateCatalog.from_sources(
        {"t/en.html": "---\nsubject: s\n---\n{% if points is defined %}{{ points|number }} points{% endif %}"}
    )
    assert render(cat, "t", "en").text == "\n"
    assert render(cat, "t", "en", points=1250).text == "1,250 points\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<p>no front matter</p>", "no front matter"),
        ("---\nsubject: [unclosed\n---\n<p/>", "not valid YAML"),
        ("---\nsubject: s\nfrom: x\n---\n<p/>", "unknown front-matter key(s) from"),
        ("---\ndescription: d\n---\n<p/>", "needs a non-empty 'subject'"),
    ],
)
def test_bad_front_matter_is_a_validation_error_naming_the_file(text, message):
    with pytest.raises(ValidationError, match=r"t/en\.html") as info:
        TemplateCatalog.from_sources({"t/en.html": text})
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("Bad Name/en.html", "not a template name"),
        ("t/english!.html", "is not a locale"),
        ("t/en.txt", "without its .html"),
        ("t/style.css", "belongs in _layout"),
    ],
)
def test_bad_file_names_are_refused(path, message):
    with pytest.raises(ValidationError, match=message):
        TemplateCatalog.from_sources({path: "x"})


def test_check_compiles_everything_and_reports_each_broken_file_once():
    cat = TemplateCatalog.from_sources(
        {
            "_layout/en.html": "{% block content %}{% endblock %}{% endif %}",
            "a/en.html": page("a", "x"),
            "b/en.html": page("b", "x"),
            "c/en.html": "---\nsubject: c\n---\n{{ }}",
        }
    )
    with pytest.raises(ValidationError) as info:
        cat.check()
    files = [e.loc[1] for e in info.value.errors]
    assert files.count("_layout/en.html") == 1 and "c/en.html" in files


# -- directories --------------------------------------------------------------------------------------


def test_a_directory_catalogue_and_a_user_directory_over_the_shipped_one(tmp_path: Path):
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "en.html").write_text("ignored")
    cat = TemplateCatalog.from_directory(tmp_path)
    assert cat.names() == ["german-only", "hello", "plain"] and cat.locales("hello") == ["de", "de_CH", "en"]
    merged = TemplateCatalog.from_package().merged(cat)
    assert "hello" in merged and "thank-you" in merged
    with pytest.raises(NotFoundError):
        TemplateCatalog.from_directory(tmp_path / "missing")
