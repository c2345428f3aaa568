from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.db import pg_schema_url, postgres_available, sqlite_url
from helpers.server import CorpusServer, corpus_dir
from newsflow.store import Store

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith("NEWSFLOW_") and k not in ("NEWSFLOW_CORPUS", "NEWSFLOW_TEST_PG"):
            monkeypatch.delenv(k)


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_dir()


@pytest.fixture
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as s:
        yield s


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the database runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not postgres_available():
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432 (set NEWSFLOW_TEST_PG)")
    with pg_schema_url() as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.migrate()
    yield s
    s.dispose()
