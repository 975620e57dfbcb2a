"""Structured JSON logs with a request id, and a filter that redacts secrets from every record.

Every line is one JSON object (time, level, logger, message, request_id, job_id) so a log
platform can search it. The request id comes from the `X-Request-ID` header (or is made up),
is returned in the response, and is carried into jobs so one producer's action can be followed
from the web process into the worker. The redaction filter is the last line of defence: keys are
never logged on purpose, and anything that looks like one is masked anyway.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)

# Provider keys, bearer tokens, Fernet keys, passwords and signed URL signatures.
SECRET_PATTERNS = [
    re.compile(r"sk-(?:proj-|admin-|svcacct-)?[A-Za-z0-9_-]{8,}"),
    re.compile(r"AIza[0-9A-Za-z_-]{20,}"),
    re.compile(r"mq_[A-Za-z0-9_-]{16,}"),  # our personal access tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*"),
    re.compile(
        r"(?i)((?:api[_-]?key|x-goog-api-key|password|passwd|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]{4,}"
    ),
    re.compile(r"(?i)(X-Amz-Signature=)[0-9a-f]{16,}"),
    re.compile(r"\b[A-Za-z0-9_-]{43}=(?![A-Za-z0-9])"),  # Fernet keys (32 bytes url-safe base64)
]


def redact(text: str) -> str:
    """Mask anything that looks like a secret, keeping a prefix where it helps reading the log."""
    for pattern in SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[REDACTED]", text)
        else:
            text = pattern.sub("[REDACTED]", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites the formatted message (and exception text) of every record that passes through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not getattr(record, "_redacted_exc", False):
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record._redacted_exc = True
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            payload["request_id"] = record.request_id
        if getattr(record, "job_id", None):
            payload["job_id"] = record.job_id
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure(json_logs: bool, level: str = "INFO") -> None:
    """Install one handler on the root logger (idempotent), with context and redaction filters."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_marquee", False):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler._marquee = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    if not any(getattr(h, "_marquee", False) for h in root.handlers):
        root.handlers = [h for h in root.handlers if not isinstance(h, logging.StreamHandler)] + [handler]
    root.setLevel(level)
    install_redacting_factory()
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


_factory_installed = False


def install_redacting_factory() -> None:
    """Redact at record creation, so EVERY handler (gunicorn's, RQ's, pytest's caplog) gets clean
    text — handler and logger filters only see records that pass through them."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()
    redactor = RedactingFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def new_request_id(incoming: str | None) -> str:
    if incoming and re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming):
        return incoming
    return uuid.uuid4().hex
