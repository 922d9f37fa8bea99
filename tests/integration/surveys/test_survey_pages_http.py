"""The survey pages over real HTTP on loopback (SQLite and PostgreSQL): one click on a score in the
e-mail records it, the follow-ups resume and resubmits update, refused links get a page saying which
with a 4xx and store nothing, the page speaks German to a Swiss customer, previews store nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aftersales.core.surveys.links import SurveyLink, sign_survey_link
from aftersales.core.surveys.parse import parse_survey
from aftersales.services.operational.surveys import definitions, sends
from aftersales.services.operational.surveys.links import survey_invitation_context
from aftersales.services.ports_surveys import SendRecord

from .conftest import KEY, NPS_DOC, REVIEW_DOC, Site

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _send(site: Site, doc: dict[str, Any] = NPS_DOC, customer: str = "c1", **kw: Any) -> SendRecord:
    now = datetime.now(UTC)
    definitions.apply(site.store.uow, parse_survey(doc), now=now)
    opened = sends.open_send(site.store.uow, doc["name"], customer, key=f"k-{customer}", now=now, **kw)
    assert opened.send is not None
    return opened.send


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _checked(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="(\d+)" checked', html)
    return found.group(1) if found else None


def test_one_click_then_follow_ups_then_a_resubmit_make_one_response(site: Site) -> None:
    send = _send(site)
    context = survey_invitation_context(send, datetime.now(UTC), links=site.store.links, survey=parse_survey(NPS_DOC))
    eight = next(s["url"] for s in context["scores"] if s["score"] == 8)
    assert [s["score"] for s in context["scores"]] == list(range(11))
    with site.client() as http:
        first = http.get(_path(eight))
        twice = http.get(_path(eight))
        head = http.head(_path(context["scores"][0]["url"]))
        resumed = http.get(_path(context["survey_url"]))
        done = http.post(
            _path(context["survey_url"]),
            content=b"score=9&dim_shipping=4&dim_product=&comment=Slow+but+fine",
            headers=FORM,
        )
        again = http.post(_path(context["survey_url"]), data={"score": "9", "dim_shipping": "5", "comment": "Fine"})
    assert first.status_code == twice.status_code == head.status_code == 200
    assert "Thank you, your answer is saved" in first.text and _checked(first.text, "score") == "8"
    assert _checked(resumed.text, "score") == "8" and "How was the delivery?" in resumed.text
    assert done.status_code == again.status_code == 200 and "Thank you!" in again.text
    rows = sorted((r["dimension"], r["score"], r["comment"]) for r in site.store.rows("survey_responses"))
    assert rows == [("overall", 9, "Fine"), ("shipping", 5, None)]
    assert [e["name"] for e in site.store.rows("events")] == ["survey.responded"]
    headers = first.headers
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in headers["Content-Security-Policy"] and "<script" not in first.text
    # every radio button sits in a label, every scale in a fieldset with a legend; the page has a language
    assert first.text.count('type="radio"') == 33 and first.text.count("<label><input") == 33
    assert first.text.count("<fieldset") == first.text.count("<legend>") == 3 and '<html lang="en">' in first.text


def test_refused_links_say_why_with_a_4xx_and_store_nothing(site: Site) -> None:
    send = _send(site)
    token = site.store.links.token(send)
    mac = token.split(".")[1]
    other = _send(site, customer="c3")
    tampered = site.store.links.token(other).split(".")[0] + "." + mac
    link = SurveyLink(send.send_id, send.customer_id, send.survey_id, send.version)
    expired = sign_survey_link(KEY, link, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    foreign = sign_survey_link(KEY, SurveyLink(send.send_id, "c3", send.survey_id, 1), expires_at=send.expires_at)
    with site.client() as http:
        pages = {
            name: (http.get(f"/s/{t}?score=3"), http.post(f"/s/{t}", data={"score": "3"}))
            for name, t in {"tampered": tampered, "expired": expired, "foreign": foreign, "junk": "x.y"}.items()
        }
        bad_form = http.post(f"/s/{token}", data={"score": "12", "comment": "x"})
    for name, (got, posted) in pages.items():
        status = 410 if name == "expired" else 400
        assert got.status_code == posted.status_code == status, name
    assert "has expired" in pages["expired"][0].text and "not valid" in pages["tampered"][0].text
    assert bad_form.status_code == 422 and "Choose a number from 0 to 10." in bad_form.text
    assert 'value="x"' not in bad_form.text and ">x</textarea>" not in bad_form.text  # the comment was not kept either
    assert site.store.rows("survey_responses") == [] and site.store.rows("events") == []


def test_a_closed_answer_and_a_german_page(site: Site) -> None:
    once = _send(site, NPS_DOC | {"name": "once", "edit_window": "0d", "throttle": {"survey": "0d", "global": "0d"}})
    swiss = _send(site, customer="c2")
    with site.client() as http:
        first = http.get(f"/s/{site.store.links.token(once)}?score=10")
        closed = http.get(f"/s/{site.store.links.token(once)}")
        german = http.get(f"/s/{site.store.links.token(swiss)}", headers={"Accept-Language": "en"})
        browser = http.get(
            f"/s/{site.store.links.token(_send(site, customer='c4'))}", headers={"Accept-Language": "de-AT,en;q=0.5"}
        )
    assert first.status_code == 200 and closed.status_code == 409 and "already answered" in closed.text
    assert german.status_code == 200 and '<html lang="de">' in german.text
    assert "Wie wahrscheinlich empfehlen Sie uns?" in german.text and "Antworten senden" in german.text
    assert "Wie war die Lieferung?" in german.text and "How is the product?" in german.text  # no German text given
    assert "Antworten senden" in browser.text


def test_a_review_page_and_a_preview(site: Site) -> None:
    send = _send(site, REVIEW_DOC, product_id="P2")
    preview_url = site.store.links.preview_url(send.survey_id, 1, "en", datetime.now(UTC))
    with site.client() as http:
        page = http.get(f"/s/{site.store.links.token(send)}?score=4")
        saved = http.post(
            f"/s/{site.store.links.token(send)}",
            data={"score": "4", "title": "Solid", "comment": "Good <b>grinder</b>"},
        )
        preview = http.get(_path(preview_url) + "?score=2")
        preview_post = http.post(_path(preview_url), data={"score": "2", "title": "t"})
    assert "Your review of Grinder 2" in page.text and "★" in page.text and 'id="title"' in page.text
    assert saved.status_code == 200
    assert preview.status_code == preview_post.status_code == 200 and "Preview: nothing you enter" in preview.text
    with site.store.uow() as u:
        [review] = u.surveys.list_reviews()
    assert (review.rating, review.title, review.body, review.status) == (4, "Solid", "Good <b>grinder</b>", "pending")
    assert len(site.store.rows("survey_sends")) == 1
