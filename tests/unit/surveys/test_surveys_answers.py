"""Answers, links and the throttle: the rules the response page and the senders rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.core.errors import TokenError, ValidationError
from aftersales.core.surveys.answers import Answers, is_closed, merge, read_form, read_score
from aftersales.core.surveys.links import (
    PreviewLink,
    SurveyLink,
    read_preview_link,
    read_survey_link,
    sign_preview_link,
    sign_survey_link,
)
from aftersales.core.surveys.parse import parse_survey
from aftersales.core.surveys.throttle import PastSend, throttle_refusal
from aftersales.core.tokens import sign_token

KEY = b"k" * 32
T = datetime(2026, 3, 1, 12, tzinfo=UTC)
NPS = parse_survey(
    {
        "name": "nps",
        "kind": "nps",
        "question": {"en": "?"},
        "comment": {"en": "Why?"},
        "dimensions": [
            {"id": "shipping", "question": {"en": "?"}, "required": True},
            {"id": "product", "question": {"en": "?"}},
        ],
    }
)
REVIEW = parse_survey({"name": "r", "kind": "review", "question": {"en": "Rate"}})


@given(st.integers(-5, 15))
def test_a_link_score_is_taken_only_on_the_scale(score: int) -> None:
    if 0 <= score <= 10:
        assert read_score(NPS, str(score)) == score
    else:
        with pytest.raises(ValidationError, match="from 0 to 10"):
            read_score(NPS, str(score))


@pytest.mark.parametrize("text", ["", " ", "8.0", "٨", "+8", "08x", "1e1", "9999"])
def test_odd_scores_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        read_score(NPS, text)


def test_the_form_reports_each_field_and_keeps_a_stored_score() -> None:
    with pytest.raises(ValidationError) as caught:
        read_form(NPS, {"dim_product": ["12"], "comment": ["x\x00"]})
    assert {e.loc for e in caught.value.errors} == {("score",), ("dim_shipping",), ("dim_product",), ("comment",)}
    a = read_form(NPS, {"dim_shipping": ["3"], "dim_product": [""]}, stored_score=6)
    assert (a.score, dict(a.dimensions), a.comment) == (6, {"shipping": 3}, None)
    r = read_form(REVIEW, {"score": ["5"], "title": [" Great "], "comment": ["Works\r\nwell"]})
    assert (r.score, r.title, r.comment) == (5, "Great", "Works\nwell")
    with pytest.raises(ValidationError, match="title"):
        read_form(REVIEW, {"score": ["5"], "title": ["x" * 201]})


def test_merging_a_resubmit_replaces_instead_of_adding() -> None:
    stored = Answers(7, {"shipping": 5, "product": 9}, "Slow")  # type: ignore[arg-type]
    clicked = merge(stored, Answers(3), from_form=False)
    assert (clicked.score, dict(clicked.dimensions), clicked.comment) == (3, {"shipping": 5, "product": 9}, "Slow")
    form = merge(stored, Answers(None, {"shipping": 2}, None), from_form=True)  # type: ignore[arg-type]
    assert (form.score, dict(form.dimensions), form.comment) == (7, {"shipping": 2}, None)


def test_the_edit_window_closes_an_answer() -> None:
    assert not is_closed(NPS, None, T + timedelta(days=400))
    assert not is_closed(NPS, T, T + NPS.edit_window - timedelta(seconds=1))
    assert is_closed(NPS, T, T + NPS.edit_window)


def test_links_round_trip_and_are_refused_when_altered_expired_or_misused() -> None:
    link = SurveyLink("snd_1", "c1", "srv_1", 3)
    token = sign_survey_link(KEY, link, expires_at=T + timedelta(days=30))
    assert read_survey_link(KEY, token, now=T) == link
    _body, mac = token.split(".")
    other = sign_survey_link(KEY, SurveyLink("snd_2", "c2", "srv_1", 3), expires_at=T + timedelta(days=30))
    reasons = {}
    for name, bad, now in [
        ("tampered", other.split(".")[0] + "." + mac, T),
        ("expired", token, T + timedelta(days=30)),
        ("other key", sign_survey_link(b"x" * 32, link, expires_at=T + timedelta(1)), T),
        ("truncated", token[:-3], T),
        ("unsubscribe", sign_token(KEY, "unsubscribe", "c1", expires_at=T + timedelta(1)), T),
        ("no send", sign_token(KEY, "survey", "c1", expires_at=T + timedelta(1), data={"v": "1"}), T),
    ]:
        with pytest.raises(TokenError) as caught:
            read_survey_link(KEY, bad, now=now)
        reasons[name] = caught.value.reason
    assert reasons == {
        "tampered": "bad_signature", "expired": "expired", "other key": "bad_signature", "truncated": "malformed",
        "unsubscribe": "wrong_purpose", "no send": "malformed",
    }  # fmt: skip
    preview = sign_preview_link(KEY, PreviewLink("srv_1", 2, "de"), expires_at=T + timedelta(1))
    assert read_preview_link(KEY, preview, now=T) == PreviewLink("srv_1", 2, "de")
    with pytest.raises(TokenError, match="another purpose"):
        read_survey_link(KEY, preview, now=T)


def test_the_throttle_counts_every_survey_and_its_own() -> None:
    s = parse_survey({"name": "n", "kind": "nps", "question": {"en": "?"}})  # 90 days each, global default
    assert throttle_refusal(s, "a", [], T) is None
    assert "this survey" in str(throttle_refusal(s, "a", [PastSend("a", T - timedelta(days=89))], T))
    assert "another survey" in str(throttle_refusal(s, "a", [PastSend("b", T - timedelta(days=10))], T))
    assert throttle_refusal(s, "a", [PastSend("b", T - timedelta(days=90))], T) is None
    assert throttle_refusal(s, "a", [PastSend("b", T - timedelta(days=10))], T, global_default=timedelta(0)) is None
    off = parse_survey(
        {"name": "n", "kind": "nps", "question": {"en": "?"}, "throttle": {"survey": "0d", "global": "0d"}}
    )
    assert throttle_refusal(off, "a", [PastSend("a", T)], T) is None
