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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from newsflow.clock import utcnow
from newsflow.slots import slot_after, slot_start
from newsflow.store import Store, chunks, dialect_insert
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
    return dialect_insert(store.dialect, leases)


def _take(store: Store, conn: sa.Connection, key: str, owner: str, now: dt.datetime,
          ttl: float) -> Lease | None:
    if key not in _take_many(store, conn, [key], owner, now, ttl):
        return None
    return Lease(key, owner, now, now + dt.timedelta(seconds=ttl))


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
    ins = dialect_insert(store.dialect, sources)
    conn.execute(ins.values(name=name, kind=kind, created_at=now, consecutive_failures=0)
                 .on_conflict_do_nothing(index_elements=[sources.c.name]))


def default_tolerance(every: float) -> float:
    """How early a timer may be and still count for its slot: clock skew between hosts."""
    return min(1.0, every * 0.05)


def claim_source(store: Store, name: str, kind: str, owner: str, *, every: float,
                 ttl: float, force: bool = False,
                 now: dt.datetime | None = None) -> Lease | None:
    """Claim one poll of a source (``claim_sources`` for one)."""
    return claim_sources(store, [(name, kind, every)], owner, ttl=ttl, force=force,
                         now=now)[name]


def claim_sources(store: Store, wanted: Sequence[tuple[str, str, float]], owner: str, *,
                  ttl: float, force: bool = False,
                  now: dt.datetime | None = None) -> dict[str, Lease | None]:
    """Claim one poll of each ``(name, kind, every)``, at most once per poll slot across
    every process; name → lease, or None where the source is not due or held.

    In one transaction: lock the source rows (skipping those another claimer has),
    keep those that are due (``next_due_at`` at most the clock-skew tolerance away),
    take their leases, and move their ``next_due_at`` to the next slot, so every later
    timer in this slot finds them not due.  ``force`` skips the due check (``newsflow
    run --source``) but never the lease.  Call ``finish_source`` (or record the attempt
    with its lease) when a poll ends.  A few statements serve any number of sources: a
    run over 200 paid for 200 transactions before its first fetch.
    """
    now = now or utcnow()
    out: dict[str, Lease | None] = {name: None for name, _kind, _every in wanted}
    every = {name: e for name, _kind, e in wanted}
    names = list(every)
    with store.write() as conn:
        known = {n for part in chunks(names) for n in conn.execute(
            sa.select(sources.c.name).where(sources.c.name.in_(part))).scalars()}
        for name, kind, _every in wanted:
            if name not in known:
                _ensure_source_row(store, conn, name, kind, now)
        due: dict[str, dt.datetime | None] = {}
        for part in chunks(names):
            rows = conn.execute(sa.select(sources.c.name, sources.c.next_due_at)
                                .where(sources.c.name.in_(part))
                                .with_for_update(skip_locked=True))
            due.update((name, next_due) for name, next_due in rows)
        tol = {n: default_tolerance(every[n]) for n in names}
        # Rows another claimer holds right now are missing from ``due``: skipped.
        def is_due(n: str) -> bool:
            at = due[n]
            return force or at is None or at <= now + dt.timedelta(seconds=tol[n])

        candidates = [n for n in names if n in due and is_due(n)]
        taken = _take_many(store, conn, [source_key(n) for n in candidates], owner, now, ttl)
        claimed = [n for n in candidates if source_key(n) in taken]
        if claimed:
            conn.execute(
                sources.update().where(sources.c.name == sa.bindparam("b_name"))
                .values(next_due_at=sa.bindparam("b_due")),
                [{"b_name": n, "b_due": slot_after(n, every[n],
                                                   now + dt.timedelta(seconds=tol[n]))}
                 for n in claimed])
    expires = now + dt.timedelta(seconds=ttl)
    out.update((n, Lease(source_key(n), owner, now, expires)) for n in claimed)
    return out


def _take_many(store: Store, conn: sa.Connection, keys: Sequence[str], owner: str,
               now: dt.datetime, ttl: float) -> set[str]:
    """Take each of ``keys`` unless a live lease holds it, one statement per chunk; the
    keys we got."""
    expires = now + dt.timedelta(seconds=ttl)
    got: set[str] = set()
    for part in chunks(keys):
        stmt = _insert(store).values([{"key": k, "owner": owner, "acquired_at": now,
                                       "expires_at": expires} for k in part])
        stmt = stmt.on_conflict_do_update(
            index_elements=[leases.c.key],
            set_={"owner": owner, "acquired_at": now, "expires_at": expires},
            where=leases.c.expires_at <= now,
        ).returning(leases.c.key)
        got.update(conn.execute(stmt).scalars())
    return got


def finish_source(store: Store, lease: Lease, *, every: float) -> None:
    """End a poll: put ``next_due_at`` back on the slot grid and release the lease.

    The poll recorded its health and set ``next_due_at`` itself (now + interval, or a
    failure backoff).  After a success the next slot is the one after the claimed slot,
    even if the poll overran into it (it is then due at once).  After a failure the
    backoff is kept, rounded up to a slot start so timers still find it.  Recording
    the attempt with its lease (``sources.record_attempt``) does the same in one go.
    """
    name = lease.key.removeprefix("source:")
    with store.write() as conn:
        row = conn.execute(sa.select(sources.c.next_due_at, sources.c.consecutive_failures)
                           .where(sources.c.name == name)).first()
        due = due_after_poll(lease, every=every,
                             failures=row.consecutive_failures if row is not None else 0,
                             backoff_due=row.next_due_at if row is not None else None)
        conn.execute(sources.update().where(sources.c.name == name).values(next_due_at=due))
        drop_lease_in(conn, lease)


def due_after_poll(lease: Lease, *, every: float, failures: int,
                   backoff_due: dt.datetime | None) -> dt.datetime:
    """When a source polled under ``lease`` is next due (see ``finish_source``)."""
    name = lease.key.removeprefix("source:")
    planned = slot_after(name, every, lease.acquired_at
                         + dt.timedelta(seconds=default_tolerance(every)))
    if not failures or backoff_due is None:
        return planned
    # Round up: a backoff or Retry-After is a promise not to come back sooner.
    on_grid = slot_start(name, every, backoff_due)
    return max(planned, on_grid if on_grid == backoff_due else on_grid + dt.timedelta(
        seconds=every))


_DROP_LEASE = leases.delete().where(leases.c.key == sa.bindparam("b_key"),
                                    leases.c.owner == sa.bindparam("b_owner"))


def drop_lease_in(conn: sa.Connection, lease: Lease) -> None:
    conn.execute(_DROP_LEASE, {"b_key": lease.key, "b_owner": lease.owner})


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
