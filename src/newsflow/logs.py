"""Structured logging: ``key=value`` text or one JSON object per line (``log_format``).

Call ``event(logger, "fetch", source=..., status=...)`` for a machine-readable line;
plain ``logger.info`` calls work too.  A filter on the handler masks every secret
setting's value, credentials in URLs and ``api_key=``-style query parameters, so a
secret never reaches a log line whatever code logged it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from newsflow.settings import SETTINGS, Settings

FIELDS = "newsflow_fields"
_URL_CREDS = re.compile(r"(://[^:/@\s]+):[^@/\s]+@")
_SECRET_PARAMS = re.compile(
    r"(?i)\b(api_key|apikey|token|access_token|password|secret|key)=([^&\s\"']+)")
_MASK = "***"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with structured fields (rendered as JSON keys or ``k=v`` pairs)."""
    logger.log(level, name, extra={FIELDS: fields})


class Redactor(logging.Filter):
    """Masks secret values in the message, its arguments and its structured fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Very short values would mask ordinary words; real secrets are longer.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, _MASK)
        text = _URL_CREDS.sub(r"\1:" + _MASK + "@", text)
        return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={_MASK}", text)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        fields = getattr(record, FIELDS, None)
        if fields:
            setattr(record, FIELDS, self._clean(fields))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _ts(record: logging.LogRecord) -> str:
    t = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": _ts(record), "level": record.levelname,
                               "logger": record.name, "msg": record.getMessage()}
        for k, v in (getattr(record, FIELDS, None) or {}).items():
            out.setdefault(k, v)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


def _kv(v: Any) -> str:
    s = str(v)
    return json.dumps(s, ensure_ascii=False) if (not s or re.search(r"[\s=\"]", s)) else s


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_ts(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, FIELDS, None) or {}
        if fields:
            line += " " + " ".join(f"{k}={_kv(v)}" for k, v in fields.items())
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def secret_values(settings: Settings) -> list[str]:
    return [str(settings[s.name]) for s in SETTINGS if s.secret and settings[s.name]]


def setup_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send newsflow's (and uvicorn's, APScheduler's) logs to ``stream`` in the configured
    format; calling it again (config reload) replaces the previous handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("newsflow")
    handler.setFormatter(JsonFormatter() if settings["log_format"] == "json"
                         else TextFormatter())
    handler.addFilter(Redactor(secret_values(settings)))
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == "newsflow":
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(settings["log_level"])
    # APScheduler logs every job run at INFO and every overlapping tick at WARNING; the
    # daemon logs what matters itself (job failures, overrunning polls).
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))
    return handler
