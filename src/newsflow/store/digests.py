"""What the editor digest reports, and the once-per-period ledger (digests table)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from newsflow.store import Store
from newsflow.store.schema import digests, drafts, sources, users

D, S, U, G = drafts.c, sources.c, users.c, digests.c
WAITING_STATES = ("new", "in_review")
OPEN_STATES = ("new", "in_review", "changes_requested", "approved")


@dataclass
class Recipient:
    username: str
    email: str
    role: str


@dataclass
class DraftLine:
    id: int
    title: str
    state: str
    assignee: str | None
    updated_at: dt.datetime | None


@dataclass
class SourceLine:
    name: str
    problem: str  # "failing" | "quiet"
    detail: str


def recipients(store: Store, roles: list[str]) -> list[Recipient]:
    q = (sa.select(U.username, U.email, U.role).where(U.disabled.is_(sa.false()))
         .where(U.email.is_not(None)).where(U.email != "").order_by(U.username))
    if roles:
        q = q.where(U.role.in_(roles))
    with store.read() as conn:
        return [Recipient(r.username, r.email, r.role) for r in conn.execute(q)]


def _drafts(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> list[DraftLine]:
    q = (sa.select(D.id, D.title, D.state, D.assignee, D.updated_at).where(*where)
         .order_by(D.priority.desc(), D.created_at, D.id))
    # One line each: a title with line breaks must not reshape the plain-text mail.
    return [DraftLine(r.id, " ".join(r.title.split()), r.state, r.assignee, r.updated_at)
            for r in conn.execute(q)]


def draft_lists(store: Store, username: str) -> dict[str, list[DraftLine]]:
    with store.read() as conn:
        return {
            "waiting": _drafts(conn, D.state.in_(WAITING_STATES)),
            "assigned": _drafts(conn, D.assignee == username, D.state.in_(OPEN_STATES)),
            "changes_requested": _drafts(conn, D.state == "changes_requested"),
        }


def source_problems(store: Store, now: dt.datetime, quiet_after: dt.timedelta,
                    only: set[str] | None) -> list[SourceLine]:
    out: list[SourceLine] = []
    with store.read() as conn:
        for r in conn.execute(sa.select(S.name, S.consecutive_failures, S.last_error,
                                        S.last_status, S.last_new_item_at, S.created_at)
                              .order_by(S.name)):
            if only is not None and r.name not in only:
                continue
            if r.consecutive_failures > 0 or r.last_status == "failed":
                out.append(SourceLine(r.name, "failing",
                                      f"{r.consecutive_failures} failure(s) in a row: "
                                      f"{r.last_error or 'no reason recorded'}"))
                continue
            last = r.last_new_item_at or r.created_at
            if last is not None and now - last > quiet_after:
                since = "nothing new since " + last.strftime("%Y-%m-%d %H:%M UTC") \
                    if r.last_new_item_at else "no item yet since it was added " + \
                    last.strftime("%Y-%m-%d %H:%M UTC")
                out.append(SourceLine(r.name, "quiet", since))
    return out


def claim(store: Store, recipient: str, period_key: str, now: dt.datetime) -> bool:
    """Reserve this period's digest for a recipient; False if it was sent (or is being sent).

    The unique (recipient, period_key) constraint is what makes "once per period" hold
    across daemons; a failed send may be claimed again.
    """
    try:
        with store.write() as conn:
            conn.execute(sa.insert(digests).values(recipient=recipient, period_key=period_key,
                                                   sent_at=now, status="sending"))
        return True
    except sa.exc.IntegrityError:
        pass
    with store.write() as conn:
        return conn.execute(sa.update(digests).where(G.recipient == recipient)
                            .where(G.period_key == period_key).where(G.status == "failed")
                            .values(status="sending", sent_at=now, error=None)).rowcount == 1


def finish(store: Store, recipient: str, period_key: str, *, now: dt.datetime, items: int,
           error: str | None) -> None:
    with store.write() as conn:
        conn.execute(sa.update(digests).where(G.recipient == recipient)
                     .where(G.period_key == period_key)
                     .values(status="failed" if error else "sent", sent_at=now, items=items,
                             error=error))


def history(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    q = sa.select(G.recipient, G.period_key, G.status, G["items"], G.sent_at, G.error) \
        .order_by(G.sent_at.desc(), G.id.desc()).limit(limit)
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
