"""/metrics reports what is in the database; /healthz tells a broken database apart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from newsflow.app import App
from newsflow.clock import utcnow
from newsflow.metrics import monitoring_app
from newsflow.settings import load_settings
from newsflow.store import Store, monitoring
from newsflow.store import leases as L
from newsflow.store.schema import drafts, fetches, papers, sources

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def settings():
    return load_settings(None, environ={}, load_sources=False)


def parse(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out


def fill(store: Store) -> None:
    now = utcnow()
    old = now - dt.timedelta(hours=2)
    with store.write() as c:
        c.execute(fetches.insert(), [
            dict(source="a", started_at=now, status=st) for st in ("ok", "ok", "failed",
                                                                   "not_modified")])
        c.execute(sources.insert(), [
            dict(name="a", kind="feed", consecutive_failures=0, last_success_at=old),
            dict(name='b "quoted"', kind="feed", consecutive_failures=3,
                 last_success_at=None)])
        ids = []
        for i, (ch, ph) in enumerate([("h1", "h1"), ("h2", None), ("h3", "old")]):
            r = c.execute(papers.insert().values(
                title=f"p{i}", abstract_sections=[], authors=[], publication_types=[],
                mesh_terms=[], keywords=[], grants=[], updates=[], field_sources={},
                content_hash=ch, processed_hash=ph, created_at=old,
                updated_at=old if i == 1 else now))
            ids.append(r.inserted_primary_key[0])
        for pid, state, created in ((ids[0], "new", old), (ids[1], "approved", now)):
            c.execute(drafts.insert().values(
                paper_id=pid, state=state, template_name="t", template_version="1",
                title="t", body_markdown="b", checks=[], readability={}, provenance=[],
                created_at=created, updated_at=created))
    monitoring.record_job_run(store, "poll", "d1", now, 1500, "ok", 1)
    monitoring.record_job_run(store, "poll", "d2", now, 500, "failed", 0, "boom")
    L.claim(store, "source:a", "d1", 60)


def test_metrics_text(store: Store) -> None:
    fill(store)
    client = TestClient(monitoring_app(App(settings(), store=store)))
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse(r.text)
    assert m['newsflow_fetches_total{status="ok"}'] == 2
    assert m['newsflow_fetches_total{status="failed"}'] == 1
    assert m["newsflow_papers"] == 3
    assert m["newsflow_papers_pending"] == 2
    assert 7100 < m["newsflow_papers_pending_oldest_age_seconds"] < 7300
    assert m['newsflow_drafts{state="new"}'] == 1
    assert m['newsflow_drafts{state="approved"}'] == 1
    assert 7100 < m["newsflow_review_queue_oldest_age_seconds"] < 7300
    assert m['newsflow_source_consecutive_failures{source="b \\"quoted\\""}'] == 3
    assert m["newsflow_sources_failing"] == 1
    assert m['newsflow_job_duration_seconds_count{job="poll"}'] == 2
    assert m['newsflow_job_duration_seconds_sum{job="poll"}'] == 2.0
    assert m['newsflow_job_failures_total{job="poll"}'] == 1
    assert m['newsflow_job_last_duration_seconds{job="poll"}'] == 0.5
    assert m['newsflow_leases{state="live"}'] == 1
    assert m["newsflow_up"] == 1
    # every sample belongs to a declared metric
    declared = set(re.findall(r"^# TYPE (\S+) ", r.text, re.M))
    for key in m:
        name = key.split("{")[0]
        assert name in declared or re.sub(r"_(sum|count)$", "", name) in declared


def test_healthz_ok(store: Store) -> None:
    client = TestClient(monitoring_app(App(settings(), store=store)))
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "reachable",
                        "schema": store.head_revision()}


def test_healthz_fails_on_missing_schema(tmp_path: Path) -> None:
    bare = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    client = TestClient(monitoring_app(App(settings(), store=bare)))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "fail" and "newsflow init" in r.json()["schema"]
    assert client.get("/metrics").status_code == 503


def test_healthz_fails_when_database_is_unreachable() -> None:
    dead = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    client = TestClient(monitoring_app(App(settings(), store=dead)))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"].startswith("unreachable")
    assert "nobody" not in r.text


def test_job_runs_are_pruned(store: Store) -> None:
    now = utcnow()
    monitoring.record_job_run(store, "poll", "d", now - dt.timedelta(days=20), 1, "ok")
    monitoring.record_job_run(store, "poll", "d", now, 1, "ok")
    assert monitoring.prune_job_runs(store, 14) == 1
    assert [r.started_at for r in monitoring.recent_job_runs(store)] == [now]
