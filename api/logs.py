"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

What is logged at INFO is what an operator needs (route, status, latency, ids), never what people wrote: message
contents, answers and keys stay out of the logs. The request id comes from a valid `X-Request-ID` header or is
made here; it is returned in the response and follows the request into the turn it starts (contextvars).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Loggers that are chatty at INFO about things that are not ours (or that put secrets in URLs, like httpx with
# Telegram's bot token).
_QUIET = ("pgserver", "httpx", "httpcore", "uvicorn.access", "sentence_transformers", "transformers")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := request_id.get():
            entry["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms"):  # the access line's fields (api/middleware.py)
            if (value := record.__dict__.get(key)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return f"{line} [{rid}]" if (rid := request_id.get()) else line


def configure_logging(level: str, fmt: str = "json") -> None:
    """Route every logger (uvicorn's included) through one stderr handler; safe to call again in each worker."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
