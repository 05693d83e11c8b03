"""Structured log lines: one line per event, as JSON (`log_format = "json"`,
CIVIC_HARNESS_LOG_FORMAT=json) or as `key=value` text, each with the trace id of the span it was written in.

An event is a name and a few fields (`event(log, INFO, "http.request", route=..., status=...)`); code that
logs plain messages still gets one line with its level, logger and trace id. Secrets: the gateway never puts
one in a field (routes are canonical paths, never the raw path or query; vendor errors go by kind), and
`configure` also replaces every configured secret (the admin token, the API keys) with `***` in whatever a
line would say, a traceback included."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from .tracing import current_trace_id

FORMATS = ("text", "json")
FIELDS = "civic_fields"  # where an event's fields ride on a LogRecord
HANDLER_NAME = "civic-harness"


def event(log: logging.Logger, level: int, name: str, **fields: Any) -> None:
    """One event: `name` is its message, `fields` its data (None values are left out)."""
    if log.isEnabledFor(level):
        log.log(level, name, extra={FIELDS: {k: v for k, v in fields.items() if v is not None}})


class Redact:
    """Every configured secret out of a text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


class StructuredFormatter(logging.Formatter):
    def __init__(self, style: str = "text", redact: Redact | None = None) -> None:
        super().__init__()
        if style not in FORMATS:
            raise ValueError(f"log format is {' or '.join(FORMATS)}, not {style!r}")
        self.style = style
        self.redact = redact or Redact(())

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        trace_id = current_trace_id()
        if trace_id is not None:
            line["trace_id"] = trace_id
        line.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        if self.style == "json":
            text = json.dumps(line, default=str, ensure_ascii=False)
        else:
            text = " ".join(f"{k}={_text(v)}" for k, v in line.items())
        return self.redact(text)


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if not text or any(c in text for c in ' "=\n') else text


def configure(
    style: str = "text", level: str = "INFO", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """The process's log lines (a command's, once at start): structured, on stderr, secrets redacted. A
    second call replaces the first's handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(StructuredFormatter(style, Redact(secrets)))
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
