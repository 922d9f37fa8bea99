"""``aftersales demo``: the main job a new user runs first."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _demo(tmp_path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", "demo", "--customers", "1500", "--seed", "3", *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_generates_imports_and_summarises(tmp_path):
    res = _demo(tmp_path, "--format", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    imports = {r["table"]: r for r in out["imports"]}
    assert set(imports) >= {"customers", "orders", "order_lines", "events", "survey_responses", "subscriptions"}
    assert imports["customers"]["inserted"] == 1500
    assert all(r["rejected"] == 0 and r["inserted"] == r["rows"] for r in imports.values())
    assert (tmp_path / "aftersales.db").exists() and (tmp_path / "demo-store" / "truth.json").exists()
    months = out["revenue_by_month"]
    assert len(months) == 12 and all(m["orders"] > 0 and m["revenue"] > 0 for m in months)
    card = {r["metric"]: r for r in out["scorecard"]}
    retention = card["retention_rate"]
    parts = dict(p.split("=") for p in retention["parts"].replace(",", "").split(" ") if "=" in p)
    s, e, n = (int(parts[k]) for k in ("S", "E", "N"))
    assert abs(retention["value"] - (e - n) / s * 100) < 1e-9  # (E - N) / S x 100, as printed
    assert {"nps", "csat", "average_order_value", "checkout_dropout_rate"} <= set(card)
    # the act part: three shipped journeys ran over the last eight weeks; every sent e-mail is one .eml file
    sent = {r["journey"]: r for r in out["journeys_sent"]}
    assert set(sent) == {"post-purchase-thanks", "review-request", "product-registration"}
    assert sent["post-purchase-thanks"]["sent"] > 0 and sent["post-purchase-thanks"]["held out"] > 0
    assert all(r["failed or unknown"] == 0 and r["queued"] == 0 for r in sent.values())
    eml = list((tmp_path / "demo-store" / "outbox").glob("*.eml"))
    assert len(eml) == sum(r["sent"] for r in sent.values())
    assert any("no lift is expected" in n for n in out["journeys_notes"])


def test_demo_twice_changes_nothing(tmp_path):
    assert _demo(tmp_path, "--format", "json").returncode == 0
    again = _demo(tmp_path, "--format", "json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert all(r["unchanged"] == r["rows"] and r["inserted"] == 0 for r in second["imports"])
    first_sent = sum(r["sent"] for r in second["journeys_sent"])
    assert len(list((tmp_path / "demo-store" / "outbox").glob("*.eml"))) == first_sent  # nobody mailed twice
    table = _demo(tmp_path, "--no-journeys")
    assert "retention scorecard" in table.stdout and "revenue by month" in table.stdout
    assert "journeys over the last 8 weeks" not in table.stdout
