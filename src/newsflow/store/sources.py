"""Source health and conditional-GET state, plus one ``fetches`` row per attempt.

A failing source is never given up on: each consecutive failure doubles the wait
before the next attempt, capped at ``sources.failure_backoff_max``, and a
server's Retry-After is honoured when it asks for longer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from newsflow import clock
from newsflow.models import SourceConfig
from newsflow.store import Store, chunks, dialect_insert
from newsflow.store.leases import Lease, drop_lease_in, due_after_poll
from newsflow.store.schema import fetches, sources

DEFAULT_BACKOFF_MAX = 86400


@dataclass
class SourceState:
    """What ingest needs to know before fetching a source."""

    name: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    window_end: dt.datetime | None = None
    consecutive_failures: int = 0
    next_due_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None


@dataclass
class Attempt:
    """The outcome of one ingest attempt, as recorded on the source."""

    status: str  # ok | not_modified | unchanged | failed
    url: str | None = None
    http_status: int | None = None
    bytes: int = 0
    duration_ms: float = 0.0
    entries: int = 0
    new: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    window_end: dt.datetime | None = None
    retry_after_s: float | None = None
    started_at: dt.datetime | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def sync_sources(store: Store, configs: Iterable[SourceConfig]) -> None:
    """Make sure every configured source has a health row (kind kept current)."""
    configs = list(configs)
    with store.write() as conn:
        existing = dict(conn.execute(sa.select(sources.c.name, sources.c.kind)).all())
        now = clock.utcnow()
        new = [{"name": c.name, "kind": c.kind, "consecutive_failures": 0, "created_at": now}
               for c in configs if c.name not in existing]
        if new:
            # Several daemons start at once: whoever inserts second must not fail.
            ins = dialect_insert(store.dialect, sources)
            conn.execute(ins.on_conflict_do_nothing(index_elements=[sources.c.name]), new)
        for cfg in configs:
            if cfg.name in existing and existing[cfg.name] != cfg.kind:
                # A source that changed kind starts its conditional-GET state afresh.
                conn.execute(sources.update().where(sources.c.name == cfg.name)
                             .values(kind=cfg.kind, etag=None, last_modified=None,
                                     body_hash=None, window_end=None))


def get_state(store: Store, name: str) -> SourceState | None:
    return get_states(store, [name]).get(name)


def get_states(store: Store, names: Sequence[str]) -> dict[str, SourceState]:
    out: dict[str, SourceState] = {}
    with store.read() as conn:
        for part in chunks(names):
            rows = conn.execute(sa.select(sources).where(sources.c.name.in_(part))).mappings()
            out.update((row["name"], _state(row)) for row in rows)
    return out


def _state(row: Any) -> SourceState:
    return SourceState(name=row["name"], kind=row["kind"], etag=row["etag"],
                       last_modified=row["last_modified"], body_hash=row["body_hash"],
                       window_end=row["window_end"],
                       consecutive_failures=row["consecutive_failures"],
                       next_due_at=row["next_due_at"], last_success_at=row["last_success_at"])


def due_names(store: Store, configs: Iterable[SourceConfig],
              now: dt.datetime | None = None) -> list[str]:
    """Enabled sources never tried, or whose next_due_at has passed, in config order."""
    now = now or clock.utcnow()
    with store.read() as conn:
        due_at = dict(conn.execute(sa.select(sources.c.name, sources.c.next_due_at)).all())
    return [c.name for c in configs
            if c.enabled and (due_at.get(c.name) is None or due_at[c.name] <= now)]


def failure_delay(every_seconds: int, failures: int, backoff_max: int,
                  retry_after_s: float | None = None) -> float:
    """Seconds until a source that has failed ``failures`` times in a row is tried again."""
    delay = float(every_seconds)
    if failures > 0:
        delay = max(float(every_seconds),
                    min(every_seconds * 2.0 ** (failures - 1), float(backoff_max)))
    if retry_after_s:
        delay = max(delay, float(retry_after_s))
    return delay


# Built once: a statement built per call spent more on its cache key than on running it.
_SEL_FAILURES = (sa.select(sources.c.consecutive_failures)
                 .where(sources.c.name == sa.bindparam("b_name")))
_UPDATE_SOURCE = sources.update().where(sources.c.name == sa.bindparam("b_name"))
_INSERT_FETCH = fetches.insert()


def record_attempt(store: Store, name: str, attempt: Attempt, *, every_seconds: int,
                   backoff_max: int = DEFAULT_BACKOFF_MAX, lease: Lease | None = None) -> None:
    """Record one attempt on the source; with ``lease``, end that poll in the same
    transaction (``leases.finish_source``)."""
    now = clock.utcnow()
    started = attempt.started_at or now
    with store.write() as conn:
        row = conn.execute(_SEL_FAILURES, {"b_name": name}).first()
        failures = row.consecutive_failures if row else 0
        values: dict[str, Any] = {"last_attempt_at": started, "last_status": attempt.status,
                                  "last_http_status": attempt.http_status}
        if attempt.failed:
            failures += 1
            values.update(consecutive_failures=failures, last_error=attempt.error)
        else:
            failures = 0
            values.update(consecutive_failures=0, last_success_at=now, last_error=None)
            if attempt.status == "ok":
                values["feed_problems"] = "; ".join(attempt.problems)[:4000] or None
                values["last_entries"] = attempt.entries
            # A 304 keeps the validators we sent; a 200 replaces them, even with nothing.
            if attempt.status != "not_modified" or attempt.etag is not None:
                values["etag"] = attempt.etag
            if attempt.status != "not_modified" or attempt.last_modified is not None:
                values["last_modified"] = attempt.last_modified
            if attempt.body_hash is not None:
                values["body_hash"] = attempt.body_hash
            if attempt.window_end is not None:
                values["window_end"] = attempt.window_end
            if attempt.new:
                values["last_new_item_at"] = now
        delay = failure_delay(every_seconds, failures, backoff_max, attempt.retry_after_s)
        values["next_due_at"] = now + dt.timedelta(seconds=delay)
        if lease is not None:  # the poll ends here: back on its slot grid
            values["next_due_at"] = due_after_poll(lease, every=every_seconds,
                                                   failures=failures,
                                                   backoff_due=values["next_due_at"])
        if row is None:
            conn.execute(sources.insert().values(name=name, kind="feed", created_at=now,
                                                 **{"consecutive_failures": 0, **values}))
        else:
            conn.execute(_UPDATE_SOURCE, {"b_name": name, **values})
        conn.execute(_INSERT_FETCH, {
            "source": name, "url": attempt.url, "started_at": started,
            "status": attempt.status, "http_status": attempt.http_status,
            "bytes": attempt.bytes, "duration_ms": attempt.duration_ms,
            "entries": attempt.entries, "new": attempt.new, "error": attempt.error})
        if lease is not None:
            drop_lease_in(conn, lease)


def list_health(store: Store) -> list[dict[str, Any]]:
    """Every source's health row, by name."""
    with store.read() as conn:
        rows = conn.execute(sa.select(sources).order_by(sources.c.name)).mappings()
        return [dict(r) for r in rows]


def recent_fetches(store: Store, name: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    q = sa.select(fetches).order_by(fetches.c.started_at.desc(), fetches.c.id.desc()).limit(limit)
    if name:
        q = q.where(fetches.c.source == name)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
