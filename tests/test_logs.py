"""Structured logs: JSON and text formats, and secrets masked whatever logged them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from newsflow.logs import event, setup_logging
from newsflow.settings import load_settings


@pytest.fixture
def log() -> logging.Logger:
    lg = logging.getLogger("newsflow.test")
    yield lg
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == "newsflow":
            root.removeHandler(h)


def settings(fmt: str, **env: str):
    environ = {"NEWSFLOW_LOG_FORMAT": fmt, **env}
    return load_settings(None, environ=environ, load_sources=False)


def test_json_lines_carry_fields(log: logging.Logger) -> None:
    buf = io.StringIO()
    setup_logging(settings("json"), buf)
    event(log, "fetch", source="JAMA Dermatology", status="ok", http_status=200, ms=12.5)
    log.warning("plain %s", "message")
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[0]["msg"] == "fetch" and lines[0]["source"] == "JAMA Dermatology"
    assert lines[0]["http_status"] == 200 and lines[0]["level"] == "INFO"
    assert lines[0]["ts"].endswith("Z")
    assert lines[1]["msg"] == "plain message" and lines[1]["level"] == "WARNING"


def test_text_lines_quote_values_with_spaces(log: logging.Logger) -> None:
    buf = io.StringIO()
    setup_logging(settings("text"), buf)
    event(log, "fetch", source="JAMA Dermatology", status="ok")
    line = buf.getvalue().strip()
    assert line.endswith('newsflow.test: fetch source="JAMA Dermatology" status=ok')


def test_secrets_never_reach_the_log(log: logging.Logger) -> None:
    buf = io.StringIO()
    s = settings("json", NEWSFLOW_NCBI__API_KEY="ncbi-key-123456",
                 NEWSFLOW_SMTP__PASSWORD="hunter2-smtp")
    setup_logging(s, buf)
    event(log, "fetch", url="https://eutils.example/esearch?db=pubmed&api_key=ncbi-key-123456")
    log.info("connecting to postgresql://newsflow:dbpass99@db/newsflow with %s", "hunter2-smtp")
    event(log, "webhook", url="https://hooks.example/x?token=abcdef", nested={"p": ["hunter2-smtp"]})
    try:
        raise RuntimeError("login failed for password hunter2-smtp")
    except RuntimeError:
        log.exception("smtp")
    out = buf.getvalue()
    for secret in ("ncbi-key-123456", "hunter2-smtp", "dbpass99", "abcdef"):
        assert secret not in out
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows[0]["url"].endswith("api_key=***")
    assert "newsflow:***@db" in rows[1]["msg"]
    assert rows[2]["nested"] == {"p": ["***"]}
    assert "RuntimeError" in rows[3]["exc"]
