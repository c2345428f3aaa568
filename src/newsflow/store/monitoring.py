"""Counts for /metrics and /healthz, and the job-run log every daemon writes.

Job runs are kept in the database (``job_runs``), not per process, so /metrics on any
web or daemon process shows every daemon's jobs; ``prune_job_runs`` keeps it small.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from newsflow.clock import utcnow
from newsflow.store import Store
from newsflow.store.schema import drafts, fetches, job_runs, leases, papers, sources

OPEN_DRAFT_STATES = ("new", "in_review", "changes_requested")


@dataclass
class JobStats:
    runs: int = 0
    failures: int = 0
    seconds_total: float = 0.0
    last_seconds: float = 0.0
    last_started: dt.datetime | None = None


@dataclass
class Snapshot:
    fetches_by_status: dict[str, int] = field(default_factory=dict)
    papers: int = 0
    papers_pending: int = 0
    pending_oldest_age: float = 0.0
    drafts_by_state: dict[str, int] = field(default_factory=dict)
    queue_oldest_age: float = 0.0
    source_failures: dict[str, int] = field(default_factory=dict)
    source_last_success: dict[str, dt.datetime | None] = field(default_factory=dict)
    leases_live: int = 0
    leases_expired: int = 0
    jobs: dict[str, JobStats] = field(default_factory=dict)


def record_job_run(store: Store, job: str, owner: str, started_at: dt.datetime,
                   duration_ms: float, status: str, items: int = 0,
                   error: str | None = None) -> None:
    with store.write() as conn:
        conn.execute(job_runs.insert().values(
            job=job[:255], owner=owner[:100], started_at=started_at, duration_ms=duration_ms,
            status=status, items=items, error=(error or None) and error[:2000]))


def prune_job_runs(store: Store, keep_days: float, *, now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - dt.timedelta(days=keep_days)
    with store.write() as conn:
        return conn.execute(job_runs.delete().where(job_runs.c.started_at < cutoff)).rowcount


def recent_job_runs(store: Store, limit: int = 20) -> list[sa.Row[tuple]]:
    with store.read() as conn:
        return list(conn.execute(sa.select(job_runs).order_by(job_runs.c.id.desc())
                                 .limit(limit)).all())


def _age(now: dt.datetime, ts: dt.datetime | None) -> float:
    return max(0.0, (now - ts).total_seconds()) if ts else 0.0


def snapshot(store: Store, *, now: dt.datetime | None = None) -> Snapshot:
    now = now or utcnow()
    s = Snapshot()
    with store.read() as c:
        s.fetches_by_status = {r[0]: r[1] for r in c.execute(
            sa.select(fetches.c.status, sa.func.count()).group_by(fetches.c.status))}
        s.papers = c.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()
        pending = sa.or_(papers.c.processed_hash.is_(None),
                         papers.c.processed_hash != papers.c.content_hash)
        row = c.execute(sa.select(sa.func.count(), sa.func.min(papers.c.updated_at))
                        .where(pending)).one()
        s.papers_pending, s.pending_oldest_age = row[0], _age(now, row[1])
        s.drafts_by_state = {r[0]: r[1] for r in c.execute(
            sa.select(drafts.c.state, sa.func.count()).group_by(drafts.c.state))}
        oldest = c.execute(sa.select(sa.func.min(drafts.c.created_at))
                           .where(drafts.c.state.in_(OPEN_DRAFT_STATES))).scalar_one()
        s.queue_oldest_age = _age(now, oldest)
        for r in c.execute(sa.select(sources.c.name, sources.c.consecutive_failures,
                                     sources.c.last_success_at)):
            s.source_failures[r.name] = r.consecutive_failures or 0
            s.source_last_success[r.name] = r.last_success_at
        live = leases.c.expires_at > now
        s.leases_live = c.execute(sa.select(sa.func.count()).where(live)).scalar_one()
        s.leases_expired = c.execute(sa.select(sa.func.count()).where(~live)).scalar_one()
        agg = c.execute(sa.select(
            job_runs.c.job, sa.func.count(),
            sa.func.sum(sa.case((job_runs.c.status == "failed", 1), else_=0)),
            sa.func.sum(job_runs.c.duration_ms), sa.func.max(job_runs.c.id),
        ).group_by(job_runs.c.job)).all()
        last_ids = [r[4] for r in agg]
        last = {r.job: r for r in c.execute(
            sa.select(job_runs.c.job, job_runs.c.duration_ms, job_runs.c.started_at)
            .where(job_runs.c.id.in_(last_ids)))} if last_ids else {}
        for job, n, failed, total_ms, _ in agg:
            lr = last.get(job)
            s.jobs[job] = JobStats(runs=n, failures=int(failed or 0),
                                   seconds_total=float(total_ms or 0) / 1000,
                                   last_seconds=(lr.duration_ms / 1000) if lr else 0.0,
                                   last_started=lr.started_at if lr else None)
    return s


def ping(store: Store) -> None:
    """Raise if the database does not answer."""
    with store.read() as c:
        c.execute(sa.text("SELECT 1"))
