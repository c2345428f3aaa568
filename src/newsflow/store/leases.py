"""Work claims kept in the database, so several daemons (and ``newsflow run``) never do
the same work at once and a crashed process's claims simply run out.

A lease is a row ``(key, owner, acquired_at, expires_at)``.  Taking one is a single
``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` statement, atomic on both
databases: PostgreSQL re-checks the WHERE clause after waiting for a concurrent writer,
and SQLite writers are serialised by ``BEGIN IMMEDIATE`` (``Store.write``).

Choosing *what* to claim uses row locks: on PostgreSQL ``SELECT … FOR UPDATE SKIP
LOCKED`` lets concurrent claimers pass each other's candidates instead of queueing
behind them; SQLite has one writer at a time, so the same transaction is already
exclusive there.

Keys: ``source:<name>`` for a source poll, ``paper:<id>`` for one paper's processing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsflow.clock import utcnow
from newsflow.slots import slot_after, slot_start
from newsflow.store import Store
from newsflow.store.schema import leases, papers, sources


@dataclass(frozen=True)
class Lease:
    key: str
    owner: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


def make_owner() -> str:
    """A name for one process's claims: host, pid and a nonce (pids get reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def source_key(name: str) -> str:
    return f"source:{name}"


def paper_key(paper_id: int) -> str:
    return f"paper:{paper_id}"


def _insert(store: Store) -> Any:
    return (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(leases)


def _take(store: Store, conn: sa.Connection, key: str, owner: str, now: dt.datetime,
          ttl: float) -> Lease | None:
    expires = now + dt.timedelta(seconds=ttl)
    stmt = _insert(store).values(key=key, owner=owner, acquired_at=now, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=[leases.c.key],
        set_={"owner": owner, "acquired_at": now, "expires_at": expires},
        where=leases.c.expires_at <= now,
    ).returning(leases.c.key)
    if conn.execute(stmt).first() is None:
        return None
    return Lease(key, owner, now, expires)


def claim(store: Store, key: str, owner: str, ttl: float, *,
          now: dt.datetime | None = None) -> Lease | None:
    """Take ``key`` for ``ttl`` seconds unless a live lease exists (even our own: two
    threads of one daemon must not share work); None if one does."""
    now = now or utcnow()
    with store.write() as conn:
        return _take(store, conn, key, owner, now, ttl)


def renew(store: Store, key: str, owner: str, ttl: float, *,
          now: dt.datetime | None = None) -> bool:
    """Extend a lease we still hold; False if it expired and someone else took it."""
    now = now or utcnow()
    with store.write() as conn:
        n = conn.execute(
            leases.update()
            .where(leases.c.key == key, leases.c.owner == owner)
            .values(expires_at=now + dt.timedelta(seconds=ttl))
        ).rowcount
    return n == 1


def release(store: Store, key: str, owner: str) -> bool:
    with store.write() as conn:
        return conn.execute(
            leases.delete().where(leases.c.key == key, leases.c.owner == owner)
        ).rowcount == 1


def release_all(store: Store, owner: str) -> int:
    """Drop every lease ``owner`` holds (a clean shutdown)."""
    with store.write() as conn:
        return conn.execute(leases.delete().where(leases.c.owner == owner)).rowcount


def purge_expired(store: Store, *, older_than: float = 0,
                  now: dt.datetime | None = None) -> int:
    """Delete leases that ran out more than ``older_than`` seconds ago (housekeeping only:
    an expired lease is already free to take)."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=older_than)
    with store.write() as conn:
        return conn.execute(leases.delete().where(leases.c.expires_at <= cutoff)).rowcount


def list_leases(store: Store) -> list[Lease]:
    with store.read() as conn:
        rows = conn.execute(sa.select(leases).order_by(leases.c.key)).all()
    return [Lease(r.key, r.owner, r.acquired_at, r.expires_at) for r in rows]


@contextmanager
def held(store: Store, lease: Lease, ttl: float) -> Iterator[Lease]:
    """Keep ``lease`` alive while the body runs (renewing every ttl/3), release it after.

    Long work therefore never loses its claim to another daemon, while a crashed
    process stops renewing and its claim runs out within ``ttl``.
    """
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ttl / 3):
            # A missed beat only shortens the claim; the next one may succeed.
            with contextlib.suppress(Exception):
                renew(store, lease.key, lease.owner, ttl)

    t = threading.Thread(target=beat, name=f"lease {lease.key}", daemon=True)
    t.start()
    try:
        yield lease
    finally:
        stop.set()
        t.join()
        release(store, lease.key, lease.owner)


# --- sources ---------------------------------------------------------------------------

def _ensure_source_row(store: Store, conn: sa.Connection, name: str, kind: str,
                       now: dt.datetime) -> None:
    ins = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(sources)
    conn.execute(ins.values(name=name, kind=kind, created_at=now, consecutive_failures=0)
                 .on_conflict_do_nothing(index_elements=[sources.c.name]))


def default_tolerance(every: float) -> float:
    """How early a timer may be and still count for its slot: clock skew between hosts."""
    return min(1.0, every * 0.05)


def claim_source(store: Store, name: str, kind: str, owner: str, *, every: float,
                 ttl: float, tolerance: float | None = None, force: bool = False,
                 now: dt.datetime | None = None) -> Lease | None:
    """Claim one poll of a source, at most once per poll slot across every process.

    In one transaction: lock the source row (skipping it if another claimer has it),
    check it is due (``next_due_at`` at most ``tolerance`` seconds away), take the
    lease, and move ``next_due_at`` to the next slot, so every later timer in this slot
    finds it not due.  ``force`` skips the due check (``newsflow run --source``) but
    never the lease.  Call ``finish_source`` when the poll ends.
    """
    now = now or utcnow()
    tol = default_tolerance(every) if tolerance is None else tolerance
    with store.write() as conn:
        _ensure_source_row(store, conn, name, kind, now)
        row = conn.execute(
            sa.select(sources.c.next_due_at).where(sources.c.name == name)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:  # another claimer holds the row right now
            return None
        due = row.next_due_at
        if not force and due is not None and due > now + dt.timedelta(seconds=tol):
            return None
        lease = _take(store, conn, source_key(name), owner, now, ttl)
        if lease is None:
            return None
        conn.execute(sources.update().where(sources.c.name == name)
                     .values(next_due_at=slot_after(name, every, now + dt.timedelta(seconds=tol))))
        return lease


def finish_source(store: Store, lease: Lease, *, every: float) -> None:
    """End a poll: put ``next_due_at`` back on the slot grid and release the lease.

    The poll recorded its health and set ``next_due_at`` itself (now + interval, or a
    failure backoff).  After a success the next slot is the one after the claimed slot,
    even if the poll overran into it (it is then due at once).  After a failure the
    backoff is kept, rounded up to a slot start so timers still find it.
    """
    name = lease.key.removeprefix("source:")
    planned = slot_after(name, every, lease.acquired_at
                         + dt.timedelta(seconds=default_tolerance(every)))
    with store.write() as conn:
        row = conn.execute(sa.select(sources.c.next_due_at, sources.c.consecutive_failures)
                           .where(sources.c.name == name)).first()
        due = planned
        if row is not None and row.consecutive_failures and row.next_due_at is not None:
            # Round up: a backoff or Retry-After is a promise not to come back sooner.
            back = row.next_due_at
            on_grid = slot_start(name, every, back)
            due = max(planned, on_grid if on_grid == back else on_grid + dt.timedelta(
                seconds=every))
        conn.execute(sources.update().where(sources.c.name == name).values(next_due_at=due))
        conn.execute(leases.delete().where(leases.c.key == lease.key,
                                           leases.c.owner == lease.owner))


def claim_due_sources(store: Store, owner: str, everies: dict[str, float], *, ttl: float,
                      limit: int = 10, now: dt.datetime | None = None) -> list[Lease]:
    """Claim up to ``limit`` due sources (oldest due first) among ``everies``' names.

    Sources never seen before have no row yet and are not returned; register them
    (``claim_source`` or the ingest store) first.
    """
    now = now or utcnow()
    out: list[Lease] = []
    if not everies:
        return out
    with store.write() as conn:
        rows = conn.execute(
            sa.select(sources.c.name)
            .where(sources.c.name.in_(list(everies)),
                   sa.or_(sources.c.next_due_at.is_(None), sources.c.next_due_at <= now))
            .order_by(sources.c.next_due_at.is_not(None), sources.c.next_due_at,
                      sources.c.name)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for r in rows:
            lease = _take(store, conn, source_key(r.name), owner, now, ttl)
            if lease is None:
                continue
            conn.execute(sources.update().where(sources.c.name == r.name)
                         .values(next_due_at=slot_after(r.name, everies[r.name], now)))
            out.append(lease)
    return out


# --- papers ----------------------------------------------------------------------------

def claim_papers(store: Store, owner: str, candidates: sa.Select[Any], *, ttl: float,
                 limit: int = 20, now: dt.datetime | None = None) -> list[tuple[int, Lease]]:
    """Claim up to ``limit`` papers from ``candidates`` (a SELECT of ``papers.id``).

    Papers with a live lease are left out, and on PostgreSQL rows
    another claimer is choosing right now are skipped, not waited for.
    """
    now = now or utcnow()
    key_expr = sa.literal("paper:") + sa.cast(papers.c.id, sa.String)
    busy = sa.exists().where(leases.c.key == key_expr, leases.c.expires_at > now)
    ids_sub = candidates.subquery()
    q = (sa.select(papers.c.id)
         .where(papers.c.id.in_(sa.select(ids_sub.c[0])), ~busy)
         .order_by(papers.c.id).limit(limit))
    if store.dialect == "postgresql":
        q = q.with_for_update(skip_locked=True, of=papers)
    out: list[tuple[int, Lease]] = []
    with store.write() as conn:
        for (pid,) in conn.execute(q).all():
            lease = _take(store, conn, paper_key(pid), owner, now, ttl)
            if lease is not None:
                out.append((pid, lease))
    return out
