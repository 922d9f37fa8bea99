"""The local .eml outbox: the embedded default transport, so the demo works with no mail server.

Each message becomes one file ``<directory>/<name>.eml``, the bytes an SMTP server would have got,
named after its Message-ID (``<as.1f2e...@shop.example>`` -> ``as.1f2e...@shop.example.eml``; an id
with other characters than letters, digits and ``.@_+-`` gets a SHA-256-derived name instead). So:

* **one file per Message-ID**: the same message sent again (a retry, a worker restarted after a
  crash) finds its file and writes nothing: a retry never makes two;
* **atomic**: the bytes go to a temporary file in the same directory (``.tmp-*``), flushed to disk,
  then linked to their final name, which fails if the name exists (so two writers racing on one id
  leave exactly one file, the first); where the file system has no hard links, ``os.replace``
  (same content, still one file). A reader never sees half a message.

:meth:`EmlOutbox.messages` lists summaries (newest first) and :meth:`EmlOutbox.read` gives one
message back by its Message-ID (with or without the angle brackets) or its ``X-Aftersales-Message``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aftersales.core.errors import NotFoundError
from aftersales.core.messaging.mime import MessageSummary, summarize
from aftersales.core.messaging.transport import SendResult

__all__ = ["EmlOutbox"]

log = logging.getLogger(__name__)

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@_+-]{0,190}$")


def _filename(message_id: str) -> str:
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    if _SAFE.match(bare) and ".." not in bare:
        return f"{bare}.eml"
    return f"id-{hashlib.sha256(message_id.strip().encode('utf-8')).hexdigest()[:40]}.eml"


class EmlOutbox:
    """A directory of .eml files (see the module); an
    :class:`~aftersales.core.messaging.transport.EmailTransport`."""

    name = "outbox"

    def __init__(self, directory: str | Path, *, durable: bool = True) -> None:
        self.directory = Path(directory)
        # durable: each file and its name are on disk (fsync) before the send counts as done, so a
        # crash never loses a message recorded as sent. The demo turns it off: its outbox is for
        # reading, and two fsyncs per message cost more than everything else it does.
        self.durable = durable

    def path_for(self, message_id: str) -> Path:
        """Where the message with this Message-ID is (or would be) kept."""
        return self.directory / _filename(message_id)

    # -- writing -----------------------------------------------------------------------------------
    def send(self, message: EmailMessage) -> SendResult:
        """Keep ``message`` as one file; ``sent`` also when its Message-ID is there already (nothing
        is written then). A message without a Message-ID, or a disk error, is a failure."""
        message_id = str(message.get("Message-ID") or "").strip()
        if not message_id:
            return SendResult("permanent_failure", "the message has no Message-ID (the outbox keys files by it)")
        final = self.path_for(message_id)
        if final.exists():
            return SendResult("sent", "already in the outbox")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            written = self._write_once(final, message.as_bytes(policy=message.policy.clone(linesep="\n")))
        except OSError as exc:
            log.warning("outbox %s: cannot write a message (%s)", self.directory, type(exc).__name__)
            return SendResult("temporary_failure", f"cannot write to the outbox directory ({type(exc).__name__})")
        return SendResult("sent", "written to the outbox" if written else "already in the outbox")

    def _write_once(self, final: Path, data: bytes) -> bool:
        """Write ``data`` to ``final`` unless it exists; whether this call wrote it."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                if self.durable:
                    os.fsync(f.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                return False
            except OSError:  # no hard links here (some network and FUSE file systems)
                if final.exists():
                    return False
                os.replace(tmp, final)
            self._sync_directory()
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _sync_directory(self) -> None:
        """Make the new name durable (a rename or link lives in the directory's own data)."""
        if os.name != "posix" or not self.durable:  # pragma: no cover - directories cannot be opened on Windows
            return
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Nothing to release (each send opens and closes its own file)."""

    # -- reading -----------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [p for p in self.directory.iterdir() if p.suffix == ".eml" and not p.name.startswith(".")]

    @staticmethod
    def _load(path: Path, *, headers_only: bool = False) -> EmailMessage:
        with path.open("rb") as f:
            parsed = BytesParser(policy=policy.default).parse(f, headersonly=headers_only)
        assert isinstance(parsed, EmailMessage)  # policy.default builds EmailMessage objects
        return parsed

    def messages(self) -> list[MessageSummary]:
        """Every kept message's summary, newest first (by Date, else the file's time)."""
        out: list[MessageSummary] = []
        for path in self._files():
            summary = summarize(self._load(path, headers_only=True))
            if summary.date is None:
                summary = MessageSummary(
                    summary.message_id,
                    summary.internal_id,
                    datetime.fromtimestamp(path.stat().st_mtime, UTC),
                    summary.subject,
                    summary.sender,
                    summary.recipient,
                )
            out.append(summary)
        return sorted(out, key=lambda s: (s.date or datetime.min.replace(tzinfo=UTC), s.message_id), reverse=True)

    def read(self, message_id: str) -> EmailMessage:
        """The message with this Message-ID (``<id@host>`` or ``id@host``) or ``X-Aftersales-Message``
        id; :class:`~aftersales.core.errors.NotFoundError` when the outbox has none."""
        wanted = message_id.strip()
        bracketed = wanted if wanted.startswith("<") else f"<{wanted}>"
        path = self.path_for(bracketed)
        if path.is_file():
            return self._load(path)
        for candidate in self._files():  # the store's own id: look through the headers
            summary = summarize(self._load(candidate, headers_only=True))
            if wanted in (summary.internal_id, summary.message_id):
                return self._load(candidate)
        raise NotFoundError(f"no message {wanted!r} in the outbox {self.directory}")
