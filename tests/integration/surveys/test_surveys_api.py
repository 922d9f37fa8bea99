"""``/v1/surveys`` and ``/v1/reviews`` over HTTP on loopback (SQLite and PostgreSQL): apply documents
(errors located in the body), list with response rates, preview links that store nothing, the
analysis of a survey's answers, and review moderation and export."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pyarrow.compute as pc
import pytest

from aftersales.core.synthetic import generate_store
from aftersales.core.synthetic.feedback import CES_SURVEY
from aftersales.services.operational.surveys import sends

from .conftest import NPS_DOC, REVIEW_DOC, Site

CES_DOC: dict[str, Any] = {
    "name": CES_SURVEY,
    "kind": "ces",
    "question": {"en": "How easy was it?"},
    "dimensions": [
        {"id": d, "question": {"en": f"{d}?"}} for d in ("order_process", "shipping", "returns", "product", "support")
    ],
    "comment": {"en": "Anything else?"},
}


def _load_generated_answers(site: Site) -> int:
    """The generator's CES answers, anonymous (no customer or order rows needed)."""
    t = generate_store(1_000, seed=2, as_of=date(2025, 6, 1)).tables["survey_responses"]
    t = t.filter(pc.equal(t["kind"], "ces")).to_pylist()
    for row in t:
        row["customer_id"] = row["order_id"] = None
    with site.store.uow() as u:
        u.resources.insert("survey_responses", t)
    return len({r["response_id"] for r in t})


def test_apply_list_preview_and_archive(site: Site) -> None:
    with site.client("admin") as admin, site.client("read") as reader, site.client() as anonymous:
        created = admin.put("/v1/surveys/post-delivery-nps", json=NPS_DOC)
        same = admin.put("/v1/surveys/post-delivery-nps", json=copy.deepcopy(NPS_DOC))
        bad = admin.put("/v1/surveys/broken", json={"name": "broken", "kind": "stars", "question": {"en": "?"}})
        mismatch = admin.put("/v1/surveys/other", json=NPS_DOC)
        refused = reader.put("/v1/surveys/post-delivery-nps", json=NPS_DOC)
        nobody = anonymous.get("/v1/surveys")
        listed = reader.get("/v1/surveys")
        preview = reader.post("/v1/surveys/post-delivery-nps/preview", params={"locale": "de"})
        page = anonymous.get(preview.json()["url"].removeprefix(site.url) + "?score=7")
        shown = reader.get(f"/v1/surveys/{created.json()['survey']['survey_id']}")
        archived = admin.delete("/v1/surveys/post-delivery-nps")
        again = admin.delete("/v1/surveys/post-delivery-nps")
        missing = reader.get("/v1/surveys/nope")
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    assert same.status_code == 200 and same.json()["outcome"] == "unchanged"
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "kind"]
    assert mismatch.status_code == 422 and refused.status_code == 403 and nobody.status_code == 401
    [item] = listed.json()["items"]
    assert item["name"] == "post-delivery-nps" and item["response_rate"]["sent"] == 0
    assert page.status_code == 200 and "Vorschau" in page.text and "Wie wahrscheinlich" in page.text
    assert shown.json()["definition"]["kind"] == "nps" and shown.json()["sends"] == {}
    assert archived.json()["status"] == "archived" and again.status_code == 409 and missing.status_code == 404
    assert site.store.rows("survey_responses") == [] and site.store.rows("survey_sends") == []


@pytest.mark.slow
def test_a_surveys_report_drivers_themes_and_remeasure(site: Site) -> None:
    responses = _load_generated_answers(site)
    with site.client("admin") as admin, site.client("read") as reader:
        assert admin.put(f"/v1/surveys/{CES_SURVEY}", json=CES_DOC).status_code == 201
        report = reader.get(
            f"/v1/surveys/{CES_SURVEY}/report", params={"period": "year", "from": "2023-01-01", "to": "2025-01-01"}
        )
        drivers = reader.get(f"/v1/surveys/{CES_SURVEY}/drivers")
        themes = reader.get(f"/v1/surveys/{CES_SURVEY}/themes", params={"themes": 6})
        change = reader.get(
            f"/v1/surveys/{CES_SURVEY}/remeasure",
            params={"before": "2023-01-01:2024-01-01", "after": "2024-01-01:2025-01-01"},
        )
        bad = reader.get(
            f"/v1/surveys/{CES_SURVEY}/remeasure",
            params={"before": "2024-01-01:2023-01-01", "after": "2024-01-01:2025-01-01"},
        )
    assert report.status_code == 200, report.text
    points = report.json()["points"]
    assert [p["period"] for p in points] == ["2023-01-01", "2024-01-01"] and all(
        p["ci_low"] < p["value"] < p["ci_high"] for p in points
    )
    d = drivers.json()
    assert (
        drivers.status_code == 200
        and d["n"] == responses
        and len(d["coefficients"]) == 5
        and "explain" in d["summary"][0]
    )
    t = themes.json()
    assert (
        themes.status_code == 200 and len(t["themes"]) == 6 and sum(x["comments"] for x in t["themes"]) == t["comments"]
    )
    assert change.status_code == 200 and "CES moved from" in change.json()["summary"]
    assert bad.status_code == 422


def test_reviews_moderate_and_export(site: Site) -> None:
    with site.client("admin") as admin, site.client("read") as reader:
        assert admin.put("/v1/surveys/product-review", json=REVIEW_DOC).status_code == 201
        opened = sends.open_send(
            site.store.uow, "product-review", "c1", key="k", now=datetime.now(UTC), product_id="P1"
        )
        assert opened.send is not None
        token = site.store.links.token(opened.send)
        with site.client() as browser:
            assert (
                browser.post(f"/s/{token}", data={"score": "5", "title": "Top", "comment": "Lovely"}).status_code == 200
            )
        [pending] = reader.get("/v1/reviews", params={"status": "pending"}).json()["items"]
        wrong = admin.post(f"/v1/reviews/{pending['review_id']}/moderation", json={"action": "delete"})
        as_reader = reader.post(f"/v1/reviews/{pending['review_id']}/moderation", json={"action": "publish"})
        done = admin.post(f"/v1/reviews/{pending['review_id']}/moderation", json={"action": "publish", "note": "fine"})
        exported = reader.get("/v1/reviews/export", params={"seller": "Kaffee & Co"})
    assert wrong.status_code == 422 and as_reader.status_code == 403
    assert done.status_code == 200 and done.json()["status"] == "published"
    [doc] = exported.json()["products"]
    assert doc["json_ld"]["@type"] == "Product" and doc["json_ld"]["aggregateRating"]["ratingValue"] == 5
    assert doc["reviews"][0]["incentivised"] and "incentive" in doc["reviews"][0]["disclosure"]
