"""Structured JSON logs that never carry API keys or customer PII at INFO and above.

Every record becomes one JSON object per line (``ts``, ``level``, ``logger``, ``msg`` and any
``extra`` fields). A filter scrubs what must not be logged, wherever it appears: API keys
(``as_<id>_<secret>``), bearer tokens, webhook secrets, e-mail addresses and phone numbers.

>>> redact("key as_0123abcd4567_Zx9-secret for ann@example.com, call +47 912 34 567 on 2024-03-01")
'key [key] for [email], call [phone] on 2024-03-01'
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging", "redact"]

_PATTERNS = (
    (re.compile(r"\bas_[0-9a-f]+_[A-Za-z0-9_\-]+"), "[key]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_\-]+"), "[secret]"),
    (re.compile(r"(?i)bearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\+\d[\d ().\-]{6,}\d|\b\d{9,}\b"), "[phone]"),  # E.164-like or a long digit run
)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for k, v in list(record.__dict__.items()):
            if k not in _STANDARD and isinstance(v, str):
                setattr(record, k, redact(v))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Send every log record (ours and uvicorn's) as redacted JSON lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our access log replaces it (no query strings)
