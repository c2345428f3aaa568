"""The orchestrator: ingest the due sources, then walk changed papers through the stages.

``STAGES`` (at the bottom) is the one ordered list of later stages, ``(name, fn)``
with ``fn(app, paper_id)``, in STAGE_ORDER order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from newsflow import clock
from newsflow.app import App
from newsflow.errors import ConfigError
from newsflow.http import Fetcher
from newsflow.ingest import SourceResult, db_call, ingest_source
from newsflow.logs import event
from newsflow.models import SourceConfig
from newsflow.store import leases as store_leases
from newsflow.store import papers as store_papers
from newsflow.store import sources as store_sources

log = logging.getLogger(__name__)

StageFn = Callable[[App, int], Any]
STAGE_ORDER = ("enrich", "classify", "extract", "draft")
Progress = Callable[[SourceResult, int, int], None]


@dataclass
class ProcessReport:
    processed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"processed": self.processed, "failed": self.failed, "errors": self.errors}


@dataclass
class RunReport:
    started_at: str | None = None
    finished_at: str | None = None
    source_results: list[SourceResult] = field(default_factory=list)
    processing: ProcessReport = field(default_factory=ProcessReport)

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.source_results if r.status in statuses)

    def to_json(self) -> dict[str, Any]:
        rs = self.source_results
        return {
            "started_at": self.started_at, "finished_at": self.finished_at,
            "sources": len(rs),
            "fetched": self.count("ok"),
            # a 304, or a 200 whose body is byte-identical to the last one parsed
            "not_modified": self.count("not_modified", "unchanged"),
            "failed": self.count("failed"),
            "entries_seen": sum(r.entries for r in rs),
            "papers_new": sum(r.new for r in rs),
            "papers_updated": sum(r.updated for r in rs),
            "source_results": [r.to_json() for r in rs],
            "processing": self.processing.to_json(),
        }


def select_sources(app: App, names: Iterable[str] | None = None, *,
                   all: bool = False) -> list[SourceConfig]:
    """Named sources, or all enabled ones, or (default) the enabled ones that are due."""
    configs = app.settings.sources
    wanted = list(names or [])
    if wanted:
        by_name = {c.name: c for c in configs}
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise ConfigError(f"no source named {unknown[0]!r}", path=str(app.settings.sources_path),
                              allowed=", ".join(sorted(by_name)) or "(none configured)")
        return [by_name[n] for n in wanted]
    enabled = [c for c in configs if c.enabled]
    if all:
        return enabled
    due = set(store_sources.due_names(app.store, enabled))
    return [c for c in enabled if c.name in due]


async def poll_source(app: App, fetcher: Fetcher, cfg: SourceConfig, *, owner: str,
                      force: bool = False, lease: store_leases.Lease | None = None,
                      state: store_sources.SourceState | None = None) -> SourceResult | None:
    """Claim one poll of ``cfg`` (store/leases.py), ingest it, and end the claim.

    None if the source is not due (unless ``force``) or another process is polling it
    right now.  ``newsflow run`` and every daemon go through here, so a source is never
    polled twice at once and at most once per poll slot.  A caller that claimed the
    poll already (``claim_sources``) passes its ``lease``.
    """
    ttl = app.settings["daemon.lease_seconds"]
    if lease is None:
        lease = await db_call(app.store, store_leases.claim_source, app.store, cfg.name,
                              cfg.kind, owner, every=cfg.every_seconds, ttl=ttl, force=force)
    if lease is None:
        return None
    try:
        async with _renewing(app, lease, ttl):
            # Recording the attempt ends the claim too (one transaction).
            result = await ingest_source(app, fetcher, cfg, state=state, lease=lease)
    except asyncio.CancelledError:
        raise  # abandoned at shutdown: the lease runs out and a later slot polls again
    except BaseException:
        await db_call(app.store, store_leases.finish_source, app.store, lease,
                      every=cfg.every_seconds)
        raise
    event(log, "source_polled", source=cfg.name, kind=cfg.kind, status=result.status,
          http_status=result.http_status, entries=result.entries, new=result.new,
          updated=result.updated, ms=round(result.duration_ms, 1), error=result.error)
    return result


@asynccontextmanager
async def _renewing(app: App, lease: store_leases.Lease, ttl: float) -> AsyncIterator[None]:
    """Renew ``lease`` while the body runs, so a slow poll keeps its claim."""
    async def beat() -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            with contextlib.suppress(Exception):
                # Its own thread, not the store thread: a backlog of upserts must not
                # delay a renewal past the lease.
                await asyncio.to_thread(store_leases.renew, app.store, lease.key,
                                        lease.owner, ttl)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


async def run_sources_async(app: App, configs: list[SourceConfig],
                            progress: Progress | None = None, *, force: bool = True,
                            owner: str | None = None) -> list[SourceResult]:
    """Ingest the given sources concurrently; the Fetcher bounds the parallelism.

    A source another process is polling right now is reported as ``skipped``.
    """
    owner = owner or store_leases.make_owner()
    results: list[SourceResult] = []
    # Claim every poll, and read what each needs, in one transaction each up front:
    # one per source kept the first fetches waiting on 200 commits.
    leases = await db_call(app.store, store_leases.claim_sources, app.store,
                           [(c.name, c.kind, c.every_seconds) for c in configs], owner,
                           ttl=app.settings["daemon.lease_seconds"], force=force)
    states = await db_call(app.store, store_sources.get_states, app.store,
                           [n for n, lease in leases.items() if lease is not None])
    if any(_will_parse(c, states.get(c.name)) for c in configs if leases.get(c.name)):
        app.parsers.start()

    async def one(c: SourceConfig) -> SourceResult:
        lease = leases.get(c.name)
        r = None if lease is None else await poll_source(
            app, fetcher, c, owner=owner, lease=lease, state=states.get(c.name))
        return r or SourceResult(name=c.name, kind=c.kind, status="skipped",
                                 error="skipped: not due, or another process is polling it")

    async with Fetcher.from_settings(app.settings) as fetcher:
        tasks = [asyncio.create_task(one(c)) for c in configs]
        for done in asyncio.as_completed(tasks):
            r = await done
            results.append(r)
            if progress is not None:
                progress(r, len(results), len(configs))
    order = {c.name: i for i, c in enumerate(configs)}
    results.sort(key=lambda r: order[r.name])
    return results


def _will_parse(cfg: SourceConfig, state: store_sources.SourceState | None) -> bool:
    """Whether a poll of ``cfg`` is sure to get a body: an API search, or a feed that
    has no validators or body hash yet (a first fetch, say).  A feed that has them
    usually answers 304, and a run of 304s should not start parser processes."""
    if cfg.kind != "feed":
        return True
    return state is None or not (state.etag or state.last_modified or state.body_hash)


def run_sources(app: App, names: Iterable[str] | None = None, *, all: bool = False,
                progress: Progress | None = None, process: bool = True) -> RunReport:
    """One pass: ingest the due (or all, or named) sources, then process changed papers."""
    report = RunReport(started_at=clock.iso(clock.utcnow()))
    store_sources.sync_sources(app.store, app.settings.sources)
    configs = select_sources(app, names, all=all)
    if configs:
        # Sources picked because they are due are re-checked under the claim, in case a
        # daemon polled them meanwhile; named ones (or --all) are polled regardless.
        report.source_results = asyncio.run(run_sources_async(
            app, configs, progress, force=bool(names) or all))
    if process:
        report.processing = process_pending(app)
    report.finished_at = clock.iso(clock.utcnow())
    return report


def process_pending(app: App, stages: list[tuple[str, StageFn]] | None = None,
                    limit: int = 500, *, owner: str | None = None,
                    stop: threading.Event | None = None) -> ProcessReport:
    """Run every stage over each paper whose content changed, committing per paper.

    Papers are claimed a batch at a time (``paper:<id>`` leases), so daemons and
    ``newsflow run`` share the backlog without doing a paper twice.  A stage that
    raises stops that paper only; the paper stays pending (its hash is not marked) so
    the next pass retries it.  Stages record their own retry state.  ``stop`` ends the
    pass after the paper in hand (graceful shutdown).
    """
    stages = STAGES if stages is None else stages
    owner = owner or store_leases.make_owner()
    ttl = app.settings["daemon.lease_seconds"]
    batch = app.settings["daemon.batch_size"]
    report = ProcessReport()
    cursor = seen = 0  # ids only grow within a pass, so a failing paper is tried once
    while seen < limit and not (stop is not None and stop.is_set()):
        claimed = store_leases.claim_papers(app.store, owner, store_papers.pending_ids(cursor),
                                            ttl=ttl, limit=min(batch, limit - seen))
        if not claimed:
            break
        for paper_id, lease in claimed:
            cursor, seen = max(cursor, paper_id), seen + 1
            if stop is not None and stop.is_set():
                store_leases.release(app.store, lease.key, owner)
                continue
            with store_leases.held(app.store, lease, ttl):
                process_paper(app, paper_id, stages, report)
    return report


def process_paper(app: App, paper_id: int, stages: list[tuple[str, StageFn]] | None = None,
                  report: ProcessReport | None = None) -> bool:
    """Run the stages over one paper and mark the content they saw as processed.

    The caller holds the paper's claim.  Returns False (and records why) if a stage
    raised.
    """
    stages = STAGES if stages is None else stages
    report = report if report is not None else ProcessReport()
    seen_hash = store_papers.current_hash(app.store, paper_id)
    stage = ""
    try:
        for stage, fn in stages:  # noqa: B007 - the failing stage is reported below
            fn(app, paper_id)
    except Exception as e:
        log.exception("processing paper %s failed", paper_id)
        report.failed += 1
        report.errors.append({"paper_id": paper_id, "stage": stage,
                              "error": f"{type(e).__name__}: {e}"})
        return False
    store_papers.mark_processed(app.store, paper_id, seen_hash)
    report.processed += 1
    return True


# The later stages, in STAGE_ORDER.  Wrappers import lazily so loading the pipeline (and
# `newsflow --help`) does not load every stage's data files.
def _enrich(app: App, paper_id: int) -> None:
    from newsflow.enrich import enrich_stage
    enrich_stage(app, paper_id)


def _classify(app: App, paper_id: int) -> None:
    from newsflow.classify import classify_stage
    classify_stage(app, paper_id)


def _extract(app: App, paper_id: int) -> None:
    from newsflow.extract.stage import run
    run(app, paper_id)


def _draft(app: App, paper_id: int) -> None:
    from newsflow.draft.stage import run
    run(app, paper_id)


STAGES: list[tuple[str, StageFn]] = [
    ("enrich", _enrich),
    ("classify", _classify),
    ("extract", _extract),
    ("draft", _draft),
]
