"""Webhooks: signed JSON POSTs on approved, published and retracted, retried with backoff.

Signature scheme (docs/publishing.md has a verification example)::

    X-Newsflow-Timestamp: <unix seconds of this attempt>
    X-Newsflow-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

Signing the timestamp with the body lets a receiver refuse replays: reject a request
whose timestamp is more than a few minutes old.  ``X-Newsflow-Event-Id`` is the same on
every retry of an event, so receivers can also drop duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from newsflow import __version__
from newsflow.clock import iso, utcnow
from newsflow.errors import PublishError
from newsflow.store import Store
from newsflow.store import webhooks as db

if TYPE_CHECKING:
    from newsflow.app import App

log = logging.getLogger(__name__)
EVENTS = ("approved", "published", "retracted")
SIGNATURE_HEADER = "X-Newsflow-Signature"
TIMESTAMP_HEADER = "X-Newsflow-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *,
           now: float, tolerance: float = 300) -> bool:
    """What a receiver does; kept here so the tests and the docs use one definition."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def enqueue_event(store: Store | sa.Connection, event: str, draft_id: int | None,
                  payload: dict[str, Any], *, now: dt.datetime | None = None) -> int:
    """Queue ``event`` for every configured webhook URL; returns the event id.

    Pass the connection of an open ``store.write()`` transaction to queue the event
    atomically with the state change that raised it (and to avoid a second writer on
    SQLite); pass the Store to queue it on its own.
    """
    if event not in EVENTS:
        raise PublishError(f"unknown webhook event {event!r} (allowed: {', '.join(EVENTS)})")
    now = now or utcnow()
    body = json.dumps({"event": event, "draft_id": draft_id, "occurred_at": iso(now),
                       "data": payload}, sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(store, sa.Connection):
        return db.insert_event(store, event, draft_id, body, now)
    with store.write() as conn:
        return db.insert_event(conn, event, draft_id, body, now)


def webhook_urls(app: App) -> list[str]:
    return [u.strip() for u in str(app.settings["publish.webhook_urls"]).split(",") if u.strip()]


@dataclass
class DeliveryReport:
    queued: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(settings: Any, attempts: int) -> float:
    return float(min(settings["publish.webhook_backoff"] * 2 ** max(attempts - 1, 0),
                     settings["publish.webhook_backoff_max"]))


def deliver_due(app: App, now: dt.datetime | None = None,
                client: httpx.Client | None = None) -> DeliveryReport:
    """Fan out new events, then POST every delivery that is due."""
    s = app.settings
    now = now or utcnow()
    report = DeliveryReport(queued=db.dispatch_events(app.store, webhook_urls(app), now))
    timeout = float(s["publish.webhook_timeout"])
    due = db.claim_due(app.store, now, now + dt.timedelta(seconds=timeout * 3 + 60))
    if not due:
        return report
    secret = str(s["publish.webhook_secret"])
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                                  headers={"User-Agent": s["http.user_agent"]})
    try:
        for d in due:
            ok, status, error = _post(http, d, secret)
            attempts = d.attempts + 1
            nxt = None
            if not ok and attempts < s["publish.webhook_max_attempts"]:
                nxt = now + dt.timedelta(seconds=backoff(s, attempts))
            result = db.record_attempt(app.store, d.id, now=now, ok=ok, http_status=status,
                                       error=error, next_attempt_at=nxt)
            if result == "delivered":
                report.delivered += 1
            else:
                report.errors.append(f"delivery {d.id} to {d.url}: {error}")
                log.warning("webhook delivery %s (%s) to %s: %s; %s", d.id, d.event, d.url,
                            error, "will retry" if nxt else "giving up")
                if result == "pending":
                    report.retrying += 1
                else:
                    report.failed += 1
    finally:
        if own:
            http.close()
    return report


def _post(http: httpx.Client, d: db.Delivery, secret: str) -> tuple[bool, int | None, str | None]:
    if not secret:
        return False, None, ("no webhook secret: set NEWSFLOW_PUBLISH__WEBHOOK_SECRET "
                             "(deliveries are never sent unsigned)")
    body = d.payload.encode()
    ts = str(int(utcnow().replace(tzinfo=dt.UTC).timestamp()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: ts,
               SIGNATURE_HEADER: sign(secret, ts, body), "X-Newsflow-Event": d.event,
               "X-Newsflow-Event-Id": str(d.event_id), "X-Newsflow-Delivery": str(d.id),
               "X-Newsflow-Version": __version__}
    try:
        r = http.post(d.url, content=body, headers=headers)
    except httpx.HTTPError as e:
        return False, None, f"{type(e).__name__}: {e}"[:500]
    if 200 <= r.status_code < 300:
        return True, r.status_code, None
    return False, r.status_code, f"HTTP {r.status_code}: {r.text[:200]}"
