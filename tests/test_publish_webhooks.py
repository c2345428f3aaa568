"""Webhooks reach a real local HTTP server, signed, and are retried with backoff."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import sqlalchemy as sa

from helpers.publishing import T0, add_draft, add_paper, make_app, set_paper
from helpers.server import CorpusServer, Request
from newsflow.publish import deliver_due, enqueue_event, publish_due
from newsflow.publish.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from newsflow.store import Store
from newsflow.store import webhooks as wdb

SECRET = "s3cret-for-tests"


def flaky(fail_first: int) -> tuple[list[Request], object]:
    seen: list[Request] = []

    def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
        seen.append(req)
        if len(seen) <= fail_first:
            return 500, {"Content-Type": "text/plain"}, b"try later"
        return 204, {}, b""
    return seen, handler


def check_signature(req: Request) -> dict[str, object]:
    body = req.headers["x-body"].encode()
    ts = req.headers[TIMESTAMP_HEADER.lower()]
    assert req.headers[SIGNATURE_HEADER.lower()] == sign(SECRET, ts, body)
    assert verify(SECRET, ts, body, req.headers[SIGNATURE_HEADER.lower()], now=time.time())
    assert not verify("wrong", ts, body, req.headers[SIGNATURE_HEADER.lower()], now=time.time())
    assert not verify(SECRET, ts, body + b" ", req.headers[SIGNATURE_HEADER.lower()],
                      now=time.time())
    # A replay outside the window fails even with the right signature.
    assert not verify(SECRET, ts, body, req.headers[SIGNATURE_HEADER.lower()],
                      now=time.time() + 3600)
    data: dict[str, object] = json.loads(body)
    return data


def test_published_and_approved_webhooks_are_signed_and_retried(
        store: Store, tmp_path: Path, server: CorpusServer) -> None:
    seen, handler = flaky(fail_first=2)
    url = server.add_handler("/hook", handler)  # type: ignore[arg-type]
    app = make_app(store, tmp_path, **{"publish.webhook_urls": url,
                                       "publish.webhook_secret": SECRET})
    did = add_draft(store, add_paper(store))
    # What review.py does on approval.
    enqueue_event(store, "approved", did, {"by": "erin"}, now=T0)
    r = publish_due(app, now=T0)
    assert r.webhooks is not None
    assert (r.webhooks.queued, r.webhooks.delivered, r.webhooks.retrying) == (2, 0, 2)
    rows = {d["event"]: d for d in wdb.list_deliveries(store)}
    assert rows["approved"]["attempts"] == 1 and rows["approved"]["status"] == "pending"
    assert rows["approved"]["last_http_status"] == 500
    assert "HTTP 500" in rows["approved"]["last_error"]
    assert rows["approved"]["next_attempt_at"] == T0 + dt.timedelta(seconds=30)

    # Not due yet: nothing is sent.
    assert deliver_due(app, T0 + dt.timedelta(seconds=29)).delivered == 0
    assert len(seen) == 2
    # Due: both sent, both delivered (the server stopped failing after two requests).
    rep = deliver_due(app, T0 + dt.timedelta(seconds=30))
    assert rep.delivered == 2 and len(seen) == 4
    rows = {d["event"]: d for d in wdb.list_deliveries(store)}
    assert all(d["status"] == "delivered" and d["attempts"] == 2 and d["last_error"] is None
               for d in rows.values())
    # Every request is correctly signed; retries carry the same event id and body.
    bodies = [check_signature(req) for req in seen]
    assert [b["event"] for b in bodies] == ["approved", "published", "approved", "published"]
    assert seen[0].headers["x-body"] == seen[2].headers["x-body"]
    assert seen[0].headers["x-newsflow-event-id"] == seen[2].headers["x-newsflow-event-id"]
    pub = bodies[1]
    assert pub["draft_id"] == did and pub["occurred_at"] == "2026-11-20T09:30:00Z"
    data = pub["data"]
    assert isinstance(data, dict)
    assert data["slug"] == "upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck"
    assert data["url"].endswith(".html") and data["status"] == "live"
    assert data["correction"] is False
    assert seen[1].headers["x-newsflow-event"] == "published"
    assert seen[1].headers["content-type"] == "application/json"
    # Nothing further is sent on later runs.
    publish_due(app, now=T0 + dt.timedelta(hours=1))
    assert len(seen) == 4


def test_backoff_doubles_then_gives_up(store: Store, tmp_path: Path,
                                       server: CorpusServer) -> None:
    seen, handler = flaky(fail_first=99)
    url = server.add_handler("/down", handler)  # type: ignore[arg-type]
    app = make_app(store, tmp_path, **{"publish.webhook_urls": url,
                                       "publish.webhook_secret": SECRET,
                                       "publish.webhook_max_attempts": 4})
    enqueue_event(store, "approved", 7, {}, now=T0)
    t = T0
    waits = []
    for _ in range(4):
        deliver_due(app, t)
        d = wdb.list_deliveries(store)[0]
        if d["next_attempt_at"] is None:
            break
        waits.append((d["next_attempt_at"] - t).total_seconds())
        t = d["next_attempt_at"]
    assert waits == [30, 60, 120]
    d = wdb.list_deliveries(store)[0]
    assert d["status"] == "failed" and d["attempts"] == 4 and len(seen) == 4
    # An operator can queue it again.
    assert wdb.retry_failed(store, t) == 1
    assert wdb.list_deliveries(store, status="pending")[0]["id"] == d["id"]


def test_unreachable_url_and_missing_secret_are_logged(store: Store, tmp_path: Path,
                                                      server: CorpusServer) -> None:
    ok_seen, ok = flaky(fail_first=0)
    good = server.add_handler("/ok", ok)  # type: ignore[arg-type]
    dead = "http://127.0.0.1:9/nothing-listens-here"
    app = make_app(store, tmp_path, **{"publish.webhook_urls": f"{dead}, {good}",
                                       "publish.webhook_secret": SECRET})
    enqueue_event(store, "retracted", 3, {"reason": "retracted"}, now=T0)
    rep = deliver_due(app, T0)
    assert rep.delivered == 1 and rep.retrying == 1 and len(ok_seen) == 1
    bad = wdb.list_deliveries(store, status="pending")[0]
    assert bad["url"] == dead and "ConnectError" in bad["last_error"]

    nosecret = make_app(store, tmp_path, **{"publish.webhook_urls": good})
    enqueue_event(store, "approved", 4, {}, now=T0)
    deliver_due(nosecret, T0)
    row = [d for d in wdb.list_deliveries(store) if d["draft_id"] == 4][0]
    assert row["status"] == "pending" and "NEWSFLOW_PUBLISH__WEBHOOK_SECRET" in row["last_error"]
    assert len(ok_seen) == 1  # never sent unsigned


def test_retraction_sends_retracted_webhook(store: Store, tmp_path: Path,
                                            server: CorpusServer) -> None:
    seen, handler = flaky(fail_first=0)
    url = server.add_handler("/hook", handler)  # type: ignore[arg-type]
    app = make_app(store, tmp_path, **{"publish.webhook_urls": url,
                                       "publish.webhook_secret": SECRET})
    pid = add_paper(store)
    add_draft(store, pid)
    publish_due(app, now=T0)
    set_paper(store, pid, retracted=True)
    publish_due(app, now=T0 + dt.timedelta(days=3))
    events = [check_signature(r) for r in seen]
    assert [e["event"] for e in events] == ["published", "retracted"]
    data = events[1]["data"]
    assert isinstance(data, dict)
    assert data["reason"] == "retracted" and data["status"] == "withdrawn"


def test_enqueue_event_shares_the_callers_transaction(store: Store) -> None:
    with store.write() as conn:
        eid = enqueue_event(conn, "approved", 1, {"x": 1}, now=T0)
    from newsflow.store.schema import webhook_events
    with store.read() as c:
        row = c.execute(sa.select(webhook_events).where(webhook_events.c.id == eid)).one()
    assert row.event == "approved" and json.loads(row.payload)["data"] == {"x": 1}
    try:
        with store.write() as conn:
            enqueue_event(conn, "approved", 2, {}, now=T0)
            raise RuntimeError("the transition failed")
    except RuntimeError:
        pass
    with store.read() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 1
