"""``aftersales journeys`` as a user runs it on a SQLite store: start from a template, validate, apply
(created, unchanged, a re-bucketing change refused without --reassign), list, show, pause, resume,
archive; bad files exit 2 with one line per problem naming file, line, column and path, and nothing
is stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BAD = """\
name: broken
trigger: {event: order.delivered}
steps:
  - {id: wait, type: wait, duration: 2 days}
  - {id: mail, type: email, template: thank-you, next: nowhere}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", "journeys", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_validate_apply_list_show_pause_resume_archive(tmp_path: Path) -> None:
    listed = run("init", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "win-back" in {row["template"] for row in json.loads(listed.stdout)}
    made = run("init", "--template", "win-back", cwd=tmp_path)
    assert made.returncode == 0 and "wrote journeys/win-back.yaml" in made.stdout, made.stderr
    path = tmp_path / "journeys" / "win-back.yaml"
    again = run("init", "--template", "win-back", cwd=tmp_path)
    assert again.returncode == 2 and "exists already (--force overwrites it)" in again.stderr
    assert run("validate", "journeys/win-back.yaml", cwd=tmp_path).stdout.strip() == (
        "journeys/win-back.yaml: journey 'win-back' is valid (2 steps)"
    )

    applied = run("apply", "journeys/win-back.yaml", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("journey 'win-back' created (jny_") and "version 1, active" in applied.stdout
    assert "unchanged (version 1, active)" in run("apply", "journeys/win-back.yaml", cwd=tmp_path).stdout

    path.write_text(path.read_text().replace("holdout: 0.1", "holdout: 0.2"))
    refused = run("apply", "journeys/win-back.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and "holdout 0.1 -> 0.2" in refused.stderr and "--reassign" in refused.stderr
    reassigned = run("apply", "journeys/win-back.yaml", "--reassign", cwd=tmp_path)
    assert "changed: version 1 -> 2, active" in reassigned.stdout and "new salt drawn" in reassigned.stderr

    rows = json.loads(run("list", "--format", "json", cwd=tmp_path).stdout)
    assert [(r["name"], r["status"], r["version"], r["trigger"]) for r in rows] == [
        ("win-back", "active", 2, "date: no_order_for 120")
    ]
    shown = json.loads(run("show", "win-back", "--format", "json", cwd=tmp_path).stdout)
    assert shown["definition"]["holdout"] == 0.2 and shown["enrollments"] == {} and shown["activated_at"]
    assert "Journey win-back" in run("show", shown["journey_id"], cwd=tmp_path).stdout

    assert run("pause", "win-back", cwd=tmp_path).stdout.strip() == "journey 'win-back' paused"
    paused = json.loads(run("list", "--status", "paused", "--format", "json", cwd=tmp_path).stdout)
    assert [p["name"] for p in paused] == ["win-back"]
    assert run("resume", "win-back", cwd=tmp_path).stdout.strip() == "journey 'win-back' active"
    archived = run("archive", "win-back", cwd=tmp_path)
    assert archived.stdout.strip() == (
        "journey 'win-back' archived: 0 active enrollments ended, 0 queued messages cancelled"
    )
    gone = run("resume", "win-back", cwd=tmp_path)
    assert gone.returncode == 2 and gone.stderr.strip() == "error: journey 'win-back' is archived; it cannot be resumed"
    missing = run("show", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip() == "error: no journey 'nope'"


def test_bad_files_exit_2_naming_file_line_column_and_path_and_store_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "syntax.yaml").write_text("name: x\nsteps: [\n")
    (tmp_path / "good.yaml").write_text(BAD.replace("2 days", "2d").replace(", next: nowhere", ""))
    checked = run("validate", "good.yaml", "bad.yaml", "syntax.yaml", "absent.yaml", cwd=tmp_path)
    assert checked.returncode == 2
    lines = checked.stderr.strip().splitlines()
    assert lines[0].startswith("error: bad.yaml:4:28: steps/0/duration: '2 days' is not a positive duration"), lines
    assert lines[1].startswith("error: syntax.yaml:3:1: not valid YAML"), lines
    assert lines[2].startswith("error: absent.yaml: cannot read the file (No such file or directory)"), lines
    assert len(lines) == 3 and checked.stdout == ""
    fixed = (tmp_path / "bad.yaml").read_text().replace("2 days", "2d")
    (tmp_path / "bad.yaml").write_text(fixed)
    semantic = run("validate", "bad.yaml", cwd=tmp_path)
    assert semantic.returncode == 2
    assert semantic.stderr.strip() == "error: bad.yaml:5:50: steps/1/next: no step has the id 'nowhere'"
    refused = run("apply", "good.yaml", "bad.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert json.loads(run("list", "--format", "json", cwd=tmp_path).stdout) == []  # not even good.yaml
    twice = run("apply", "good.yaml", "good.yaml", cwd=tmp_path)
    assert twice.returncode == 2 and "journey 'broken' is also defined in good.yaml" in twice.stderr
