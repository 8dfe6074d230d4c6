"""JSON log lines, each with the request it belongs to, and never a secret.

Every record becomes one JSON object: time, level, logger, message, the request's id
(``X-Request-ID`` or one made up, returned in the response), and the fields a request line
adds (method, route, status, duration, user, company). Whatever a message carries, the
formatter masks what looks like a secret: API tokens (``sf_…``), invitation tokens
(``inv_…``), ``Bearer …`` credentials, and the value after a key named like password,
secret, token, authorization or api key. Request bodies and headers are never logged."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REDACTED = "[redacted]"
_SECRETS = [
    (re.compile(r"\bsf_[0-9a-f]+_[A-Za-z0-9_-]+"), "sf_" + REDACTED),
    (re.compile(r"\binv_[A-Za-z0-9_-]{8,}"), "inv_" + REDACTED),
    (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|authorization|api[_-]?key|signature)"
            r"[\w-]*)([\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&}\]]+)"
        ),
        r"\1\2" + REDACTED,
    ),
]
# Fields a request line adds to its record (``extra=``).
REQUEST_FIELDS = ("method", "route", "path", "status", "duration_ms", "user", "company")


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record logged while it is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class PlainFormatter(logging.Formatter):
    """The development format, masked the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
