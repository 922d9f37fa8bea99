"""``aftersales surveys`` and ``aftersales reviews`` as a user runs them: bad files exit 2 naming file,
line, column and path; apply creates then leaves unchanged; list and preview; drivers and themes on a
folder of generated Parquet files; reviews export on the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aftersales.core.synthetic import generate_store
from aftersales.core.synthetic.feedback import CES_SURVEY

GOOD = """\
name: post-delivery-nps
kind: nps
question:
  en: How likely are you to recommend us?
  de: Wie wahrscheinlich empfehlen Sie uns?
dimensions:
  - id: shipping
    question: {en: "How was the delivery?"}
comment: {en: "Anything else?"}
"""
BAD = """\
name: broken
kind: nps
question: {en: "?"}
dimensions:
  - id: Shipping!
    question: {en: "?"}
throttle: {survey: ninety days}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env["AFTERSALES_SECRET_KEY"] = "a-cli-test-key-of-at-least-32-bytes"
    env["AFTERSALES_PUBLIC_URL"] = "https://shop.example"
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_validate_apply_list_preview(tmp_path: Path) -> None:
    (tmp_path / "nps.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text(BAD)
    bad = run("surveys", "validate", "nps.yaml", "broken.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "error: broken.yaml:5:5: dimensions/0/id: 'Shipping!' is not a dimension id (a-z, 0-9 and _, from a letter)",
        "error: broken.yaml:7:12: throttle/survey: 'ninety days' is not a duration (a whole number and a unit m, h, "
        "d or w, e.g. 30m, 12h, 2d, 3w)",
    ]
    db = ["--db", str(tmp_path / "store.db")]
    applied = run("surveys", "apply", "nps.yaml", *db, cwd=tmp_path)
    again = run("surveys", "apply", "nps.yaml", *db, cwd=tmp_path)
    assert applied.returncode == 0 and applied.stdout.startswith("survey 'post-delivery-nps' created (srv_"), (
        applied.stderr
    )
    assert again.stdout.strip() == "survey 'post-delivery-nps' unchanged (version 1)"
    listed = run("surveys", "list", "-f", "json", *db, cwd=tmp_path)
    assert [(s["name"], s["kind"], s["version"]) for s in json.loads(listed.stdout)] == [
        ("post-delivery-nps", "nps", 1)
    ]
    preview = run("surveys", "preview", "post-delivery-nps", "--locale", "de", *db, cwd=tmp_path)
    assert preview.returncode == 0 and preview.stdout.startswith("https://shop.example/s/"), preview.stderr
    exported = run("reviews", "export", "-f", "json", *db, cwd=tmp_path)
    assert exported.returncode == 0 and json.loads(exported.stdout) == []


@pytest.mark.slow
def test_drivers_and_themes_on_generated_files(tmp_path: Path) -> None:
    store = generate_store(2_000, seed=4, as_of=date(2025, 6, 1))
    pq.write_table(store.tables["survey_responses"], tmp_path / "survey_responses.parquet")
    drivers = run("surveys", "drivers", CES_SURVEY, "--source", str(tmp_path), cwd=tmp_path)
    assert drivers.returncode == 0, drivers.stderr
    assert (
        "dimension scores together explain" in drivers.stdout and "A one-point better product score" in drivers.stdout
    )
    themes = run(
        "surveys",
        "themes",
        "--survey",
        CES_SURVEY,
        "--themes",
        "6",
        "-f",
        "json",
        "--source",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert themes.returncode == 0, themes.stderr
    found = json.loads(themes.stdout)
    assert len(found) == 6 and all(t["terms"] and t["representatives"] for t in found)
