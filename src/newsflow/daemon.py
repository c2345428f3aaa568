"""``newsflow daemon``: poll each source on its own schedule and keep the pipeline moving.

APScheduler 3 (AsyncIOScheduler) only *times* the work; it keeps no state.  Its
MemoryJobStore is rebuilt from the config at start-up and on SIGHUP, because APScheduler
3 job stores must never be shared between processes.  Every decision about *who does
what* is a lease in the database (store/leases.py), so any number of daemons, plus
``newsflow run``, can share one PostgreSQL:

* one ``poll:<source>`` job per source fires once in every poll slot (slots.py) with
  jitter; the first daemon to claim the slot polls, the others find it not due;
* ``process`` jobs claim pending papers a few at a time and run the stages on each,
  committing per paper;
* cluster-wide periodic jobs (housekeeping, and publishing jobs as they land) take a
  ``job:<name>`` lease for their whole period, so one daemon runs each per period.

The work itself is the same library code ``newsflow run`` uses (pipeline.py).  Each
step commits per item and is idempotent, so a daemon killed at any instant leaves
only claims that run out after ``daemon.lease_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from newsflow import pipeline
from newsflow.app import App
from newsflow.clock import utcnow
from newsflow.errors import ConfigError
from newsflow.http import Fetcher
from newsflow.logs import event, setup_logging
from newsflow.models import SourceConfig
from newsflow.publish import run as publish
from newsflow.publish.digest import send_digest
from newsflow.settings import Settings, load_settings
from newsflow.slots import slot_after, slot_start
from newsflow.store import leases, monitoring
from newsflow.store import sources as store_sources

log = logging.getLogger(__name__)
UTC = dt.UTC


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


class SlotTrigger(BaseTrigger):
    """Fires once inside every poll slot of one source, ``jitter`` seconds at most after
    the slot starts.

    APScheduler's IntervalTrigger adds each jitter to the previous (jittered) fire
    time, so its schedule drifts; this one always counts from the slot grid, which every
    daemon shares, so each daemon's timer lands in each slot exactly once.
    """

    def __init__(self, name: str, every: float, jitter: float) -> None:
        self.name, self.every = name, float(every)
        self.jitter = max(0.0, min(float(jitter), self.every / 2))

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None,
                           now: dt.datetime) -> dt.datetime:
        ref = _naive(previous_fire_time) if previous_fire_time else _naive(now)
        nxt = slot_after(self.name, self.every, ref)
        if previous_fire_time is None and slot_start(self.name, self.every, ref) == ref:
            nxt = ref
        nxt += dt.timedelta(seconds=random.uniform(0, self.jitter))
        return nxt.replace(tzinfo=UTC)

    def __str__(self) -> str:
        return f"every {self.every:g}s slot (jitter {self.jitter:g}s)"


@dataclass(frozen=True)
class PeriodicJob:
    """A cluster-wide job: one daemon runs it per ``every`` seconds."""

    name: str
    every: float
    fn: Callable[[App], Any]


def _housekeeping(app: App) -> int:
    n = monitoring.prune_job_runs(app.store, app.settings["daemon.job_history_days"])
    return n + leases.purge_expired(app.store, older_than=86400)


def _publish(app: App) -> int:
    report = publish.publish_due(app)
    return len(report.published) + len(report.withdrawn)


def _digest(app: App) -> int:
    return len(send_digest(app).sent)


def _enrich_retry(app: App) -> int:
    # Both lookups go out to PubMed, Europe PMC and Crossref: the offline switch covers them.
    if not app.settings["enrich.enabled"]:
        return 0
    from newsflow.enrich import enrich_due
    return len(enrich_due(app))


def _retraction_check(app: App) -> int:
    if not app.settings["enrich.enabled"]:
        return 0
    from newsflow.retraction import recheck_recent
    return recheck_recent(app).checked


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """The cluster-wide jobs; each runs once per period across every daemon."""
    return [
        PeriodicJob("housekeeping", 3600, _housekeeping),
        PeriodicJob("enrich-retry", 900, _enrich_retry),
        PeriodicJob("retraction-check", 86400, _retraction_check),
        # Publishing is cheap when nothing is due, and editors expect an approved
        # article to go out within a tick or so.
        PeriodicJob("publish", settings["daemon.tick"], _publish),
        # send_digest keeps its own per-period record; checking often is harmless.
        PeriodicJob("digest", 300, _digest),
    ]


class Daemon:
    def __init__(self, app: App, *, owner: str | None = None) -> None:
        self.app = app
        self.owner = owner or leases.make_owner()
        self.stopping = threading.Event()
        self.sources: dict[str, SourceConfig] = {}
        self.scheduler: AsyncIOScheduler | None = None
        self.fetcher: Fetcher | None = None
        self.executor: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: set[str] = set()
        self._stop_requested = asyncio.Event()
        self._metrics_server: Any = None
        self._metrics_task: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self.app.settings

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Build the schedule from the config and start it (inside the running loop)."""
        s = self.settings
        # One pool for the processing workers and for the database calls the pollers
        # make through asyncio.to_thread; the default pool (cores + 4) is too small for
        # many concurrent polls waiting on the database.
        self.executor = ThreadPoolExecutor(max_workers=s["daemon.workers"] + 10,
                                           thread_name_prefix="newsflow-work")
        asyncio.get_running_loop().set_default_executor(self.executor)
        await self._to_thread(store_sources.sync_sources, self.app.store, s.sources)
        self.fetcher = Fetcher.from_settings(s)
        await self.fetcher.__aenter__()
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1,
            "misfire_grace_time": s["daemon.misfire_grace"]})
        self._sync_source_jobs()
        now = dt.datetime.now(UTC)
        for w in range(s["daemon.workers"]):
            self.scheduler.add_job(self._job, "interval", seconds=s["daemon.tick"],
                                   args=(f"process:{w}", "process", self._process_backlog),
                                   id=f"process:{w}", name="process", next_run_time=now)
        for job in periodic_jobs(s):
            jid = f"periodic:{job.name}"
            self.scheduler.add_job(self._job, "interval", seconds=min(job.every, s["daemon.tick"]),
                                   args=(jid, job.name, self._periodic, job),
                                   id=jid, name=job.name, next_run_time=now)
        self.scheduler.add_listener(self._refused, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        await self._start_metrics()
        event(log, "daemon_started", owner=self.owner, sources=len(self.sources),
              database=_redacted_db(s))

    async def stop(self, timeout: float | None = None) -> bool:
        """Stop taking work, let in-flight work finish for ``timeout`` seconds, then
        cancel it.  True if everything finished; False if something had to be abandoned
        (its transaction rolls back when the process exits, its lease runs out)."""
        timeout = self.settings["daemon.shutdown_timeout"] if timeout is None else timeout
        self.stopping.set()
        # Pause, not shut down: shutting APScheduler's asyncio executor down cancels the
        # running jobs at once, and they deserve their grace period.
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        pending = {t for t in self._tasks if not t.done()}
        clean = True
        if pending:
            event(log, "daemon_stopping", in_flight=len(pending), timeout=timeout)
            _done, pending = await asyncio.wait(pending, timeout=timeout)
            for t in pending:
                t.cancel()
            if pending:
                clean = False
                await asyncio.wait(pending, timeout=0.5)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._metrics_server is not None:
            self._metrics_server.should_exit = True
            if self._metrics_task is not None:
                await asyncio.wait({self._metrics_task}, timeout=2)
        if self.fetcher is not None:
            with contextlib.suppress(Exception):
                await self.fetcher.__aexit__(None, None, None)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if clean:
            with contextlib.suppress(Exception):
                leases.release_all(self.app.store, self.owner)
        event(log, "daemon_stopped", owner=self.owner, clean=clean)
        return clean

    def request_stop(self) -> None:
        self.stopping.set()
        self._stop_requested.set()

    async def run_forever(self) -> bool:
        """Run until SIGTERM or SIGINT (SIGHUP reloads); returns whether the stop was clean."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        try:
            await self.start()
            await self._stop_requested.wait()
            return await self.stop()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    async def reload(self) -> bool:
        """Re-read the config (SIGHUP): sources added, removed or changed take effect;
        a bad config is logged and the running one kept."""
        old = self.settings
        overrides = {k: old.values[k] for k, o in old.origins.items() if o == "override"}
        try:
            new = load_settings(old.config_path, overrides=overrides)
        except ConfigError as e:
            event(log, "reload_failed", logging.ERROR, error=str(e))
            return False
        if new.database_url != old.database_url:
            event(log, "reload_warning", logging.WARNING,
                  warning="database_url changed; restart the daemon to use it")
            new.values["database_url"] = old.values["database_url"]
        self.app.settings = new
        setup_logging(new)
        await self._to_thread(store_sources.sync_sources, self.app.store, new.sources)
        changes = self._sync_source_jobs()
        event(log, "reloaded", **changes)
        return True

    # --- scheduling --------------------------------------------------------------------

    def _sync_source_jobs(self) -> dict[str, int]:
        assert self.scheduler is not None
        want = {c.name: c for c in self.settings.sources if c.enabled}
        added = changed = removed = 0
        for name in list(self.sources):
            if name not in want:
                self.scheduler.remove_job(f"poll:{name}")
                del self.sources[name]
                removed += 1
        jitter_share = self.settings["daemon.jitter"]
        for name, cfg in want.items():
            old = self.sources.get(name)
            self.sources[name] = cfg
            if old == cfg:
                continue
            trigger = SlotTrigger(name, cfg.every_seconds, cfg.every_seconds * jitter_share)
            if old is None:
                added += 1
                # First look right away: a source that is due (new, or overdue while no
                # daemon ran) should not wait up to a whole interval.
                first = dt.datetime.now(UTC) + dt.timedelta(
                    seconds=random.uniform(0, min(trigger.jitter, 1.0)))
                self.scheduler.add_job(self._job, trigger,
                                       args=(f"poll:{name}", "poll", self._poll, name),
                                       id=f"poll:{name}", name=f"poll {name}",
                                       next_run_time=first)
            else:
                changed += 1
                self.scheduler.reschedule_job(f"poll:{name}", trigger=trigger)
        return {"added": added, "changed": changed, "removed": removed,
                "sources": len(self.sources)}

    def kick(self, job_prefix: str) -> None:
        """Run a job now instead of at its next tick (e.g. process right after new papers)."""
        if self.scheduler is None or self.stopping.is_set():
            return
        now = dt.datetime.now(UTC)
        for job in self.scheduler.get_jobs():
            # A running job drains its queue before it ends; firing it again would only
            # be refused (max_instances=1) with a warning.
            if job.id.startswith(job_prefix) and job.id not in self._running \
                    and job.next_run_time and job.next_run_time > now:
                job.modify(next_run_time=now)

    def _refused(self, ev: JobSubmissionEvent) -> None:
        # Only a refused poll matters to an operator: processing jobs overlap their
        # ticks by design.
        if ev.job_id.startswith("poll:"):
            event(log, "poll_overran", logging.WARNING, source=ev.job_id[len("poll:"):],
                  detail="the previous poll of this source was still running")

    # --- jobs --------------------------------------------------------------------------

    async def _to_thread(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kw))

    async def _job(self, job_id: str, job: str, fn: Callable[..., Awaitable[int | None]],
                   *args: Any) -> None:
        """Run one job; record it (in job_runs) if it did any work."""
        if self.stopping.is_set():
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._running.add(job_id)
        started, t0 = utcnow(), time.monotonic()
        status, items, error = "ok", None, None
        try:
            items = await fn(*args)
        except asyncio.CancelledError:
            # Only stop() cancels: the work is abandoned, its transaction rolls back and
            # its lease runs out.  Ending quietly keeps APScheduler from logging a trace.
            event(log, "job_abandoned", logging.WARNING, job=job, job_id=job_id)
            return
        except Exception as e:
            log.exception("job %s failed", job)
            status, error, items = "failed", f"{type(e).__name__}: {e}", 0
        finally:
            self._tasks.discard(task)
            self._running.discard(job_id)
        if items is None:  # nothing was due or claimable: not a run worth a row
            return
        ms = (time.monotonic() - t0) * 1000
        with contextlib.suppress(Exception):
            await self._to_thread(monitoring.record_job_run, self.app.store, job, self.owner,
                                  started, ms, status, items, error)

    async def _poll(self, name: str) -> int | None:
        polled = None
        for _ in range(2):
            cfg = self.sources.get(name)
            if cfg is None or self.fetcher is None or self.stopping.is_set():
                break
            started = utcnow()
            result = await pipeline.poll_source(self.app, self.fetcher, cfg, owner=self.owner)
            if result is None:
                break
            polled = (polled or 0) + 1
            if result.new or result.updated:
                self.kick("process:")
            every = cfg.every_seconds
            if slot_start(name, every, utcnow()) == slot_start(name, every, started):
                break
            # The poll overran into the next slot, whose timer was refused while this
            # one ran (max_instances=1): claim that slot now rather than skip it.
        return polled

    async def _process_backlog(self) -> int | None:
        report = await self._to_thread(pipeline.process_pending, self.app, None, 10**9,
                                       owner=self.owner, stop=self.stopping)
        return (report.processed + report.failed) or None

    async def _periodic(self, job: PeriodicJob) -> int | None:
        lease = await self._to_thread(leases.claim, self.app.store, f"job:{job.name}",
                                      self.owner, max(job.every, 1))
        if lease is None:
            return None
        # The lease is left to run out at the end of the period: that is what makes
        # this job run once per period across all daemons.
        items = await self._to_thread(job.fn, self.app)
        return int(items or 0)

    # --- monitoring ------------------------------------------------------------------

    async def _start_metrics(self) -> None:
        port = self.settings["daemon.metrics_port"]
        if not port:
            return
        import uvicorn

        from newsflow.metrics import monitoring_app

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the daemon owns SIGTERM, SIGINT and SIGHUP

        config = uvicorn.Config(monitoring_app(self.app), host=self.settings["daemon.metrics_host"],
                                port=port, log_config=None, lifespan="off", access_log=False)
        self._metrics_server = _Server(config)
        self._metrics_task = asyncio.ensure_future(self._metrics_server.serve())


@contextlib.asynccontextmanager
async def embedded(app: App) -> AsyncIterator[Daemon]:
    """Run a daemon inside an already running event loop, e.g. a web server's lifespan
    (``newsflow serve --with-daemon``).  The host process owns SIGTERM and SIGINT and
    leaves this context on shutdown, which stops the daemon gracefully."""
    daemon = Daemon(app)
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


def with_daemon(asgi_app: Any, app: App) -> Any:
    """Wrap an ASGI app so its server's lifespan also runs a daemon
    (``newsflow serve --with-daemon``): started at start-up, stopped gracefully at
    shutdown.  Other scopes go straight to ``asgi_app``."""
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await asgi_app(scope, receive, send)
            return
        daemon: Daemon | None = None
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                daemon = Daemon(app)
                await daemon.start()
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if daemon is not None:
                    await daemon.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


def _redacted_db(s: Settings) -> str:
    return str(s.public()["database_url"])


def run(app: App, *, owner: str | None = None) -> int:
    """Run a daemon until it is told to stop; the exit status for the CLI."""
    setup_logging(app.settings)
    app.store  # noqa: B018 - fail now, with a clear message, if the schema is missing
    daemon = Daemon(app, owner=owner)
    clean = asyncio.run(daemon.run_forever())
    if not clean:
        # Work still running in threads was abandoned: end the process now so its open
        # transactions roll back, instead of waiting for the threads at interpreter exit.
        logging.shutdown()
        os._exit(1)
    return 0
