"""How `opsbot serve` logs: one line per event on standard error, as text or as JSON (`--log-format
json`, for log collectors), each carrying the id of the request it belongs to (the same id the store
keeps for the request, its executions and its approvals), so a line leads to the stored request.

Libraries' chatter below WARNING (Alembic's migration notes, Bolt's and slack_sdk's connection talk) is
hidden unless `--verbose`: an operator sees opsbot's own lines and every library's warnings and errors.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("opsbot_request_id", default=None)
FORMATS = ("text", "json")
OWN = "opsbot"  # our loggers' names start with this (logging.getLogger(__name__))
# LogRecord's own attributes; anything else on a record came from `extra=` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


@contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Log lines written inside carry `request_id` (a context variable: threads never mix them up)."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class _Redact(logging.Filter):
    """Secrets in a log line (a typed password, a token in an error) are masked before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        from opsbot.redact import redact

        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _QuietLibraries(logging.Filter):
    """Only WARNING and above from loggers that are not opsbot's own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name == OWN or record.name.startswith(OWN + ".")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, extras,
    and the traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [request {rid}]" if rid else text


def setup(log_format: str = "text", verbose: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """Configure the root logger for a long-running command; returns the handler it installed."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}; use one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    handler.addFilter(_Redact())
    if not verbose:
        handler.addFilter(_QuietLibraries())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
