"""The unsubscribe and preference pages over real HTTP on loopback: RFC 8058 one-click POST without
authentication, the confirmation page that changes nothing, refused tokens, the preference page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from aftersales.adapters.sql.tables import TABLES
from aftersales.core.tokens import sign_token

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def _suppressions(seed: Any, customer: str) -> list[tuple[str, str]]:
    with seed.uow() as u:
        return sorted((s.topic, s.reason) for s in u.messages.suppressions_of([customer], "email"))


def _unsubscribed_events(seed: Any) -> list[dict[str, Any]]:
    events = TABLES["events"]
    with seed.engine.connect() as conn:
        rows = conn.execute(select(events.c.properties).where(events.c.name == "message.unsubscribed")).all()
    return [json.loads(r[0]) for r in rows]


def test_the_list_unsubscribe_url_of_a_sent_email_unsubscribes_with_one_click(
    site: Any, delivery: Any, smtp_sink: Any
) -> None:
    seed = delivery.seed
    delivery.key = b"a-test-signing-key-of-32-bytes!!"  # the server's AFTERSALES_SECRET_KEY
    seed.customer("c1")
    m = seed.message("c1")
    assert delivery.run().sent == 1
    header = str(smtp_sink.messages[0]["List-Unsubscribe"]).strip("<>")
    path = urlsplit(header)
    with site.client() as http:  # no API key: a mailbox provider's one-click request
        first = http.post(f"{path.path}?{path.query}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        again = http.post(f"{path.path}?{path.query}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert first.status_code == again.status_code == 200
    assert "You are unsubscribed" in first.text and "post purchase" in first.text
    assert _suppressions(seed, "c1") == [("post_purchase", "unsubscribed")]
    [event] = _unsubscribed_events(seed)
    assert (event["customer_id"], event["topic"], event["message_id"]) == ("c1", "post_purchase", m.message_id)
    later = seed.message("c1", "later")
    assert delivery.run().suppressed == 1 and seed.get(later.message_id).status == "suppressed"


def test_the_confirmation_page_changes_nothing_and_posts_back(site: Any, seed: Any) -> None:
    seed.customer("c1")
    url = site.signer().unsubscribe_url("c1", "win_back", datetime.now(UTC))
    with site.client() as http:
        page = http.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "win back" in page.text and 'method="post"' in page.text and "/preferences?token=" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in page.headers["Content-Security-Policy"] and "<script" not in page.text
    assert _suppressions(seed, "c1") == []
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    token = parse_qs(urlsplit(action.group(1).replace("&amp;", "&")).query)["token"][0]
    with site.client() as http:  # the button: the form posts List-Unsubscribe=One-Click to the same URL
        done = http.post(f"/v1/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and _suppressions(seed, "c1") == [("win_back", "unsubscribed")]


def test_tampered_expired_and_misdirected_tokens_are_refused(site: Any, seed: Any) -> None:
    seed.customer("c1")
    now = datetime.now(UTC)
    good = site.signer().token("unsubscribe", "c1", now, {"channel": "email", "topic": "*"})
    mac = good.split(".")[1]
    other = sign_token(b"a-test-signing-key-of-32-bytes!!", "unsubscribe", "c2", expires_at=now + timedelta(1))
    tampered = other.split(".")[0] + "." + mac  # another subject under this token's signature
    expired = sign_token(b"a-test-signing-key-of-32-bytes!!", "unsubscribe", "c1", expires_at=now - timedelta(1))
    preferences = site.signer().token("preferences", "c1", now, {"channel": "email"})
    foreign = sign_token(b"another-instance-key-32-bytes!!!", "unsubscribe", "c1", expires_at=now + timedelta(1))
    with site.client() as http:
        for token, says in [
            (tampered, "not valid"), (expired, "expired"), (preferences, "not meant for this page"),
            (foreign, "not valid"), ("", "not valid"), ("x" * 5000, "not valid"),
        ]:  # fmt: skip
            for method in ("GET", "POST"):
                r = http.request(method, "/v1/unsubscribe", params={"token": token}, headers=ONE_CLICK)
                assert r.status_code == 400 and says in r.text, (method, says)
        assert http.post("/preferences", params={"token": good}, data={"all_marketing": "on"}).status_code == 400
    assert _suppressions(seed, "c1") == []


def test_the_preference_page_lists_topics_and_saves_them(site: Any, seed: Any) -> None:
    seed.customer("c1")
    seed.message("c1", "a", topic="post_purchase")
    seed.message("c1", "b", topic="win_back")
    with seed.uow() as u:
        from aftersales.services.ports_messages import SuppressionRecord

        u.messages.add_suppression(SuppressionRecord("c1", "email", "tips", "manual", datetime.now(UTC)))
    url = urlsplit(site.signer().preferences_url("c1", datetime.now(UTC)))
    target = f"{url.path}?{url.query}"
    with site.client() as http:
        page = http.get(target)
        assert page.status_code == 200
        assert re.search(r'name="topic" value="post_purchase" checked', page.text)
        assert re.search(r'name="topic" value="win_back" checked', page.text)
        assert re.search(r'name="topic" value="tips"( disabled)', page.text)  # an admin's entry: fixed
        saved = http.post(target, data={"topic": ["post_purchase"], "all_marketing": "on"})
        assert saved.status_code == 200 and "Your preferences are saved" in saved.text
        assert re.search(r'value="win_back">', saved.text)  # now unticked
        assert _suppressions(seed, "c1") == [("tips", "manual"), ("win_back", "unsubscribed")]
        http.post(target, data={"topic": ["post_purchase", "win_back"]})  # every marketing e-mail off
        assert _suppressions(seed, "c1") == [("*", "unsubscribed"), ("tips", "manual")]
        http.post(target, data={"topic": ["post_purchase", "win_back"], "all_marketing": "on"})
    assert _suppressions(seed, "c1") == [("tips", "manual")]
    assert {e["topic"] for e in _unsubscribed_events(seed)} == {"win_back", "*"}


def test_escaped_output(site: Any, seed: Any) -> None:
    seed.customer("c1")
    url = site.signer().unsubscribe_url("c1", "<script>alert(1)</script>", datetime.now(UTC))
    with site.client() as http:
        page = http.get(url)
    assert page.status_code == 200 and "<script>" not in page.text and "&lt;script&gt;" in page.text
