"""Webhook events and their deliveries (one row per event × URL, with its attempt log)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from newsflow.store import Store
from newsflow.store.schema import webhook_deliveries, webhook_events

E, W = webhook_events.c, webhook_deliveries.c


@dataclass
class Delivery:
    id: int
    event_id: int | None
    event: str
    draft_id: int | None
    url: str
    payload: str
    attempts: int


def insert_event(conn: sa.Connection, event: str, draft_id: int | None, payload: str,
                 now: dt.datetime) -> int:
    res = conn.execute(sa.insert(webhook_events).values(
        event=event, draft_id=draft_id, payload=payload, created_at=now))
    key = res.inserted_primary_key
    assert key is not None
    return int(key[0])


def dispatch_events(store: Store, urls: list[str], now: dt.datetime) -> int:
    """Fan undispatched events out into one pending delivery per URL; returns deliveries made."""
    made = 0
    with store.write() as conn:
        rows = conn.execute(sa.select(E.id, E.event, E.draft_id, E.payload)
                            .where(E.dispatched_at.is_(None)).order_by(E.id)).all()
        for r in rows:
            # The conditional update makes two daemons dispatching at once harmless.
            claimed = conn.execute(sa.update(webhook_events).where(E.id == r.id)
                                   .where(E.dispatched_at.is_(None))
                                   .values(dispatched_at=now)).rowcount
            if not claimed:
                continue
            for url in urls:
                conn.execute(sa.insert(webhook_deliveries).values(
                    event_id=r.id, event=r.event, draft_id=r.draft_id, url=url,
                    payload=r.payload, status="pending", attempts=0, next_attempt_at=now,
                    created_at=now))
                made += 1
    return made


def claim_due(store: Store, now: dt.datetime, hold_until: dt.datetime,
              limit: int = 100) -> list[Delivery]:
    """Pending deliveries that are due, pushed to ``hold_until`` so no one else sends them."""
    out: list[Delivery] = []
    with store.write() as conn:
        rows = conn.execute(sa.select(W.id, W.event_id, W.event, W.draft_id, W.url, W.payload,
                                      W.attempts)
                            .where(W.status == "pending").where(W.next_attempt_at <= now)
                            .order_by(W.next_attempt_at, W.id).limit(limit)).all()
        for r in rows:
            got = conn.execute(sa.update(webhook_deliveries).where(W.id == r.id)
                               .where(W.status == "pending").where(W.next_attempt_at <= now)
                               .values(next_attempt_at=hold_until)).rowcount
            if got:
                out.append(Delivery(r.id, r.event_id, r.event, r.draft_id, r.url, r.payload,
                                    r.attempts))
    return out


def record_attempt(store: Store, delivery_id: int, *, now: dt.datetime, ok: bool,
                   http_status: int | None, error: str | None,
                   next_attempt_at: dt.datetime | None) -> str:
    """Log one attempt; the delivery becomes delivered, stays pending, or failed for good."""
    status = "delivered" if ok else ("pending" if next_attempt_at else "failed")
    with store.write() as conn:
        conn.execute(sa.update(webhook_deliveries).where(W.id == delivery_id).values(
            attempts=W.attempts + 1, status=status, last_http_status=http_status,
            last_error=None if ok else error, last_attempt_at=now,
            next_attempt_at=None if ok else next_attempt_at,
            delivered_at=now if ok else None))
    return status


def list_deliveries(store: Store, *, status: str | None = None,
                    limit: int = 50) -> list[dict[str, Any]]:
    q = (sa.select(W.id, W.event, W.draft_id, W.url, W.status, W.attempts, W.last_http_status,
                   W.last_error, W.created_at, W.last_attempt_at, W.next_attempt_at,
                   W.delivered_at).order_by(W.id.desc()).limit(limit))
    if status:
        q = q.where(W.status == status)
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def retry_failed(store: Store, now: dt.datetime) -> int:
    with store.write() as conn:
        return conn.execute(sa.update(webhook_deliveries).where(W.status == "failed")
                            .values(status="pending", next_attempt_at=now)).rowcount
