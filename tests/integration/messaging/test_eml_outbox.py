"""EmlOutbox on a real directory: one file per Message-ID, never two (a retry, racing writers), no
temporary file left, read back by Message-ID or store id; the bootstrap picks it by settings; the
`aftersales outbox` command lists (recipients masked) and shows a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aftersales.adapters.channels.outbox_dir import EmlOutbox
from aftersales.adapters.channels.smtp import SmtpTransport
from aftersales.bootstrap import messaging
from aftersales.config import Settings
from aftersales.core.errors import NotFoundError, ValidationError
from aftersales.core.messaging.mime import build_email, message_id_for, text_part
from aftersales.core.messaging.templates import RenderedEmail
from aftersales.core.messaging.transport import EmailTransport

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(key: str, *, subject: str = "Hello", to: str = "jane.doe@example.com", at: datetime = AT):
    return build_email(
        RenderedEmail(subject, f"<p>Body of {key}</p>", f"Body of {key}\n"),
        sender="Shop <noreply@shop.example>",
        recipient=to,
        message_id=message_id_for(key, "shop.example"),
        date=at,
        internal_id=key,
    )


def eml_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_one_file_per_message_id_and_a_retry_writes_nothing(tmp_path):
    outbox = EmlOutbox(tmp_path / "outbox")
    first = outbox.send(message("msg_1"))
    path = outbox.path_for(message_id_for("msg_1", "shop.example"))
    before = path.stat().st_mtime_ns, path.read_bytes()
    again = outbox.send(message("msg_1", subject="Changed on retry"))
    assert (first.status, first.detail) == ("sent", "written to the outbox")
    assert (again.status, again.detail) == ("sent", "already in the outbox")
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    assert eml_files(tmp_path / "outbox") == [path.name]


def test_racing_writers_leave_exactly_one_file_and_no_temporary_one(tmp_path):
    outbox = EmlOutbox(tmp_path)
    barrier = threading.Barrier(8)
    results = []

    def write(i: int) -> None:
        barrier.wait()
        results.append(EmlOutbox(tmp_path).send(message("msg_race", subject=f"writer {i}")))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == ["sent"] * 8
    assert [r.detail for r in results].count("written to the outbox") == 1
    assert eml_files(tmp_path) == [outbox.path_for(message_id_for("msg_race", "shop.example")).name]


def test_messages_are_listed_newest_first_and_read_back(tmp_path):
    outbox = EmlOutbox(tmp_path)
    for i in range(3):
        assert outbox.send(message(f"msg_{i}", subject=f"S{i}", at=AT + timedelta(hours=i))).ok
    listed = outbox.messages()
    assert [m.subject for m in listed] == ["S2", "S1", "S0"]
    assert listed[0].recipient == "jane.doe@example.com" and listed[0].internal_id == "msg_2"
    mid = message_id_for("msg_1", "shop.example")
    for ref in (mid, mid.strip("<>"), "msg_1"):
        assert text_part(outbox.read(ref)).strip() == "Body of msg_1"
    with pytest.raises(NotFoundError):
        outbox.read("msg_404")


def test_odd_message_ids_get_a_safe_file_name(tmp_path):
    outbox = EmlOutbox(tmp_path)
    msg = message("x")
    msg.replace_header("Message-ID", "<../../etc/passwd@evil>")
    assert outbox.send(msg).ok
    [name] = eml_files(tmp_path)
    assert name.startswith("id-") and name.endswith(".eml")
    assert outbox.read("<../../etc/passwd@evil>")["Message-ID"] == "<../../etc/passwd@evil>"


def test_an_unwritable_directory_is_a_temporary_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = EmlOutbox(blocker / "outbox").send(message("m"))
    assert result.status == "temporary_failure"


def test_bootstrap_picks_the_transport_from_settings(tmp_path):
    outbox = messaging.email_transport(Settings(email_transport="outbox", outbox_dir=str(tmp_path)))
    smtp = messaging.email_transport(Settings(email_transport="smtp", smtp_port=2525, smtp_security="starttls"))
    assert isinstance(outbox, EmlOutbox) and isinstance(outbox, EmailTransport)
    assert isinstance(smtp, SmtpTransport) and (smtp.port, smtp.security) == (2525, "starttls")
    with pytest.raises(ValidationError, match="AFTERSALES_EMAIL_TRANSPORT"):
        messaging.email_transport(Settings(email_transport="carrier-pigeon"))
    with pytest.raises(ValidationError, match="AFTERSALES_SMTP_SECURITY"):
        messaging.email_transport(Settings(email_transport="smtp", smtp_security="ssl"))
    assert messaging.mail_domain(Settings(mail_from="Shop <hi@Shop.Example>")) == "shop.example"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run(
        [sys.executable, "-m", "aftersales", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_outbox_command_lists_masked_and_shows_one(tmp_path):
    outbox = EmlOutbox(tmp_path / "outbox")  # the default directory, relative to where the CLI runs
    outbox.send(message("msg_a", subject="First", at=AT))
    outbox.send(message("msg_b", subject="Second", to="Bob <bob@example.org>", at=AT + timedelta(minutes=5)))

    table = run_cli("outbox", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "j***@example.com" in table.stdout and "b***@example.org" in table.stdout
    assert "jane.doe" not in table.stdout and "bob@" not in table.stdout

    rows = json.loads(run_cli("outbox", "--format", "json", cwd=tmp_path).stdout)
    assert [(r["subject"], r["to"]) for r in rows] == [("Second", "b***@example.org"), ("First", "j***@example.com")]
    assert rows[0]["message_id"] == message_id_for("msg_b", "shop.example")
    assert rows[0]["time"] == "2026-03-02T09:05:00+00:00"

    csv_out = run_cli("outbox", "--format", "csv", cwd=tmp_path).stdout.splitlines()
    assert csv_out[0] == "time,message_id,subject,to" and len(csv_out) == 3

    shown = run_cli("outbox", "show", message_id_for("msg_a", "shop.example").strip("<>"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Subject: First" in shown.stdout and "To: j***@example.com" in shown.stdout
    assert "X-Aftersales-Message: msg_a" in shown.stdout and shown.stdout.rstrip().endswith("Body of msg_a")

    missing = run_cli("outbox", "show", "msg_nope", "--dir", str(tmp_path / "outbox"), cwd=tmp_path)
    assert missing.returncode == 2 and "no message 'msg_nope'" in missing.stderr


def test_an_empty_outbox_says_so(tmp_path):
    res = run_cli("outbox", "--dir", str(tmp_path / "none"), cwd=tmp_path)
    assert res.returncode == 0 and "no messages" in res.stderr
    assert json.loads(run_cli("outbox", "-f", "json", "--dir", str(tmp_path), cwd=tmp_path).stdout) == []


def test_listing_the_outbox_loads_no_heavy_library():
    code = (
        "import sys, json\n"
        "from aftersales.bootstrap import messaging\n"
        "messaging.outbox_messages(directory='.')\n"
        "print(json.dumps([m for m in ('pandas', 'ibis', 'pyarrow', 'jinja2', 'babel') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
