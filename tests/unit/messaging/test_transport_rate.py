"""SMTP reply classification (bounce or retry), address scrubbing, the token bucket, the text part made
from HTML, and the personalisation context."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.core.messaging.context import CONTEXT_NAMES, personalisation
from aftersales.core.messaging.plaintext import html_to_text
from aftersales.core.messaging.rate import TokenBucket
from aftersales.core.messaging.transport import SendResult, classify_smtp_reply, scrub_addresses


@pytest.mark.parametrize(
    ("code", "text", "stage", "status", "bounce"),
    [
        (250, "2.0.0 Ok: queued as 12345", "data", "sent", False),
        (550, "5.1.1 <a@b.c>: Recipient address rejected: User unknown", "rcpt", "permanent_failure", True),
        (553, "5.1.3 Bad recipient address syntax", "rcpt", "permanent_failure", True),
        (552, "5.3.4 Too many recipients", "rcpt", "temporary_failure", False),
        (452, "4.2.2 Mailbox full", "rcpt", "temporary_failure", False),
        (451, "4.7.1 Greylisted", "rcpt", "temporary_failure", False),
        (421, "4.3.2 Service shutting down", "mail", "temporary_failure", False),
        (550, "5.1.1 The email account that you tried to reach does not exist", "data", "permanent_failure", True),
        (552, "5.2.2 The recipient's mailbox is full", "data", "temporary_failure", False),
        (554, "5.7.1 Message rejected as spam", "data", "permanent_failure", False),
        (553, "5.1.8 Sender address rejected", "mail", "permanent_failure", False),
        (535, "5.7.8 Authentication credentials invalid", "auth", "temporary_failure", False),
        (554, "5.7.1 No SMTP service here", "connect", "temporary_failure", False),
    ],
)
def test_smtp_replies_are_classified(code, text, stage, status, bounce):
    result = classify_smtp_reply(code, text, stage=stage)
    assert (result.status, result.bounce, result.code) == (status, bounce, code)
    assert "@" not in result.detail


def test_scrubbing_removes_every_address_and_keeps_the_rest():
    assert scrub_addresses("550 5.1.1 <Ana.Ruiz+x@mail.example.com>... User unknown") == (
        "550 5.1.1 <address>... User unknown"
    )
    assert classify_smtp_reply(550, b"user bob@x.org unknown", stage="rcpt").detail == "550 user <address> unknown"


def test_send_result_ok():
    assert SendResult("sent").ok and not SendResult("temporary_failure", outcome_unknown=True).ok


# -- token bucket -------------------------------------------------------------------------------------


def test_the_bucket_queues_instead_of_refusing():
    bucket = TokenBucket(rate_per_s=10, burst=1, now=100.0)
    delays = [bucket.reserve(100.0) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert bucket.reserve(101.0) == 0.0  # a second later the queue has drained


def test_a_clock_stepping_back_adds_no_tokens():
    bucket = TokenBucket(rate_per_s=1, now=50.0)
    assert bucket.try_take(50.0) and not bucket.try_take(10.0) and not bucket.try_take(50.5)
    assert bucket.try_take(51.0)


@given(
    rate=st.floats(0.5, 500),
    gaps=st.lists(st.floats(0, 0.5), min_size=1, max_size=200),
)
def test_sends_never_exceed_burst_plus_rate_times_elapsed(rate, gaps):
    bucket = TokenBucket(rate_per_s=rate, now=0.0)
    now, starts = 0.0, []
    for gap in gaps:
        now += gap
        starts.append(now + bucket.reserve(now))
    span = starts[-1] - 0.0
    assert len(starts) <= bucket.burst + rate * span + 1e-6 * len(starts)


def test_bad_rates_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(0, now=0)
    with pytest.raises(ValueError):
        TokenBucket(1, burst=0.5, now=0)


# -- text part ----------------------------------------------------------------------------------------


def test_text_part_rules():
    html = (
        "<table><tr><td>Item</td><td>Qty</td></tr></table>line<br>break<hr>"
        '<a href="https://x.test">https://x.test</a> <a href="#top">top</a> <a href="mailto:a@b.c">write</a>'
        '<img src="x.png" alt="Logo"><!-- hidden --><script>var x;</script>'
    )
    assert html_to_text(html) == (
        "Item  Qty\n\nline\nbreak\n\n--------------------\n\nhttps://x.test top write (mailto:a@b.c)Logo"
    )


# -- personalisation ----------------------------------------------------------------------------------


def test_personalisation_defines_every_name_and_loyalty_only_when_known():
    ctx = personalisation({"customer_id": "c9"}, None)
    assert set(CONTEXT_NAMES) <= set(ctx) and "loyalty_balance" not in ctx
    assert (ctx["first_name"], ctx["categories"], ctx["products"]) == (None, [], [])
    full = personalisation(
        {"customer_id": "c1", "name": " Ana ", "country": "CH"},
        {
            "clv_tier": "above_average",
            "categories_bought": ("grinders",),
            "products_registered": ["P1"],
            "next_maintenance_due_on": date(2026, 5, 1),
            "warranty_ends_on": date(2027, 1, 1),
            "loyalty_balance": 0,
        },
        trigger={"order_id": "o1"},
        product_names=["Barista Pro"],
        extra={"unsubscribe_url": "https://u", "first_name": "Override"},
    )
    assert full["loyalty_balance"] == 0 and full["products"] == ["Barista Pro"] and full["categories"] == ["grinders"]
    assert full["first_name"] == "Override" and full["name"] == "Ana" and full["trigger"]["order_id"] == "o1"
    assert (full["next_maintenance_due"], full["warranty_end"]) == (date(2026, 5, 1), date(2027, 1, 1))
