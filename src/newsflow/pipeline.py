"""The orchestrator: ingest the due sources, then walk changed papers through the stages.

``STAGES`` is the one ordered list of later stages, ``(name, fn)`` with
``fn(app, paper_id)``.  Each stage module registers itself with ``register_stage``
when imported (the imports are at the bottom of this file, one line each); its place
comes from STAGE_ORDER, never from import order, and tests pin that order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from newsflow import clock
from newsflow.app import App
from newsflow.errors import ConfigError
from newsflow.http import Fetcher
from newsflow.ingest import SourceResult, ingest_source
from newsflow.models import SourceConfig
from newsflow.store import papers as store_papers
from newsflow.store import sources as store_sources

log = logging.getLogger(__name__)

StageFn = Callable[[App, int], Any]
STAGE_ORDER = ("enrich", "classify", "extract", "draft")
Progress = Callable[[SourceResult, int, int], None]


STAGES: list[tuple[str, StageFn]] = []


def register_stage(name: str, fn: StageFn) -> None:
    """Plug a later stage in (again): it replaces any stage of that name."""
    if name not in STAGE_ORDER:
        raise ValueError(f"unknown stage {name!r}; add it to STAGE_ORDER first")
    STAGES[:] = [s for s in STAGES if s[0] != name] + [(name, fn)]
    STAGES.sort(key=lambda s: STAGE_ORDER.index(s[0]))


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


async def run_sources_async(app: App, configs: list[SourceConfig],
                            progress: Progress | None = None) -> list[SourceResult]:
    """Ingest the given sources concurrently; the Fetcher bounds the parallelism."""
    results: list[SourceResult] = []
    async with Fetcher.from_settings(app.settings) as fetcher:
        tasks = [asyncio.create_task(ingest_source(app, fetcher, c)) for c in configs]
        for done in asyncio.as_completed(tasks):
            r = await done
            results.append(r)
            if progress is not None:
                progress(r, len(results), len(configs))
    order = {c.name: i for i, c in enumerate(configs)}
    results.sort(key=lambda r: order[r.name])
    return results


def run_sources(app: App, names: Iterable[str] | None = None, *, all: bool = False,
                progress: Progress | None = None, process: bool = True) -> RunReport:
    """One pass: ingest the due (or all, or named) sources, then process changed papers."""
    report = RunReport(started_at=clock.iso(clock.utcnow()))
    store_sources.sync_sources(app.store, app.settings.sources)
    configs = select_sources(app, names, all=all)
    if configs:
        report.source_results = asyncio.run(run_sources_async(app, configs, progress))
    if process:
        report.processing = process_pending(app)
    report.finished_at = clock.iso(clock.utcnow())
    return report


def process_pending(app: App, stages: list[tuple[str, StageFn]] | None = None,
                    limit: int = 500) -> ProcessReport:
    """Run every stage over each paper whose content changed, committing per paper.

    A stage that raises stops that paper only; the paper stays pending (its hash is
    not marked) so the next pass retries it.  Stages record their own retry state.
    """
    stages = STAGES if stages is None else stages
    report = ProcessReport()
    for paper_id, seen_hash in store_papers.pending_papers(app.store, limit=limit):
        try:
            for _name, fn in stages:
                fn(app, paper_id)
        except Exception as e:
            log.exception("processing paper %s failed", paper_id)
            report.failed += 1
            report.errors.append({"paper_id": paper_id, "stage": _name,
                                  "error": f"{type(e).__name__}: {e}"})
            continue
        store_papers.mark_processed(app.store, paper_id, seen_hash)
        report.processed += 1
    return report


# Stage modules register themselves on import (one line each; STAGE_ORDER sets the order).
import newsflow.draft.stage  # noqa: E402,F401
import newsflow.extract.stage  # noqa: E402,F401
