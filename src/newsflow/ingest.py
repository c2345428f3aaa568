"""Ingest one source: fetch, parse, merge into the store, record the attempt.

One coroutine per source kind.  Each returns a ``SourceResult`` and never raises:
whatever goes wrong is recorded on the source with a readable reason, so one
broken source cannot stop a run.  Parsing runs in worker processes
(parse/workers.py) so the event loop keeps other sources' downloads moving and
parsing uses every core; database calls run one at a time on a thread of their
own (``db_call``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from newsflow import clock
from newsflow.app import App
from newsflow.errors import NewsflowError, ParseError
from newsflow.http import Fetcher
from newsflow.models import FetchResult, PaperRecord, SourceConfig
from newsflow.parse.workers import parse_for_store
from newsflow.store import Store
from newsflow.store import leases as store_leases
from newsflow.store import papers as store_papers
from newsflow.store import sources as store_sources

log = logging.getLogger(__name__)
EFETCH_BATCH = 200
T = TypeVar("T")
_DB_THREADS: weakref.WeakKeyDictionary[Store, ThreadPoolExecutor] = weakref.WeakKeyDictionary()


async def db_call(store: Store, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store call on the store's own single thread.

    With one worker thread per source, SQLite writers queued on its file lock, and
    under load some waited past the 30 s busy timeout ("database is locked") —
    healthy sources failed (benchmarks/ingest_feeds.py, 200 feeds).  One thread
    per store makes them take turns in-process instead.
    """
    pool = _DB_THREADS.get(store)
    if pool is None:
        pool = _DB_THREADS[store] = ThreadPoolExecutor(1, thread_name_prefix="newsflow-db")
        weakref.finalize(store, pool.shutdown, wait=False)
    return await asyncio.get_running_loop().run_in_executor(pool, partial(fn, *args, **kwargs))


@dataclass
class SourceResult:
    name: str
    kind: str
    status: str = "failed"  # ok | not_modified | unchanged | failed
    http_status: int | None = None
    entries: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    paper_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "status": self.status,
                "http_status": self.http_status, "entries": self.entries, "new": self.new,
                "updated": self.updated, "error": self.error, "problems": self.problems,
                "duration_ms": round(self.duration_ms, 1)}


class _Failed(Exception):
    """Ends one source's attempt with a reason (and what we know about the response)."""

    def __init__(self, reason: str, fetch: FetchResult | None = None) -> None:
        super().__init__(reason)
        self.fetch = fetch


async def ingest_source(app: App, fetcher: Fetcher, cfg: SourceConfig, *,
                        state: store_sources.SourceState | None = None,
                        lease: store_leases.Lease | None = None) -> SourceResult:
    """Run one source end to end and record the attempt on it; never raises.

    ``state`` saves a read when the caller has it; with ``lease`` (the poll's claim),
    recording the attempt also ends the poll, in the same transaction.
    """
    # A claimed poll started when it was claimed: that fixes its poll slot, however long
    # a busy machine takes to get to the fetch.
    started = lease.acquired_at if lease is not None else clock.utcnow()
    t0 = time.monotonic()
    result = SourceResult(name=cfg.name, kind=cfg.kind)
    attempt = store_sources.Attempt(status="failed", started_at=started, url=cfg.url)
    try:
        if state is None:
            state = await db_call(app.store, store_sources.get_state, app.store, cfg.name)
        state = state or store_sources.SourceState(name=cfg.name, kind=cfg.kind)
        runner = {"feed": _feed, "pubmed": _pubmed, "europepmc": _europepmc}[cfg.kind]
        await runner(app, fetcher, cfg, state, result, attempt)
    except _Failed as e:
        result.status = "failed"
        result.error = str(e)
        if e.fetch is not None:
            result.http_status = e.fetch.http_status
            attempt.retry_after_s = e.fetch.retry_after_s
            attempt.url = e.fetch.url
    except NewsflowError as e:
        result.status, result.error = "failed", str(e)
    except Exception as e:  # a bug must not stop the other sources; record it instead
        log.exception("ingest of %s failed", cfg.name)
        result.status, result.error = "failed", f"internal error: {type(e).__name__}: {e}"
    result.duration_ms = (time.monotonic() - t0) * 1000
    attempt.status = result.status
    attempt.http_status = result.http_status
    attempt.error = result.error
    attempt.entries, attempt.new = result.entries, result.new
    attempt.problems = result.problems
    attempt.duration_ms = result.duration_ms
    try:
        await db_call(
            app.store, store_sources.record_attempt, app.store, cfg.name, attempt,
            every_seconds=cfg.every_seconds,
            backoff_max=int(app.settings["sources.failure_backoff_max"]), lease=lease)
    except Exception as e:
        log.exception("could not record the attempt of %s", cfg.name)
        if result.error is None:
            result.status, result.error = "failed", f"could not record the attempt: {e}"
        if lease is not None:
            with contextlib.suppress(Exception):  # else the claim runs out on its own
                await db_call(app.store, store_leases.finish_source, app.store, lease,
                              every=cfg.every_seconds)
    return result


def _check(fetch: FetchResult, what: str) -> FetchResult:
    if fetch.status == "failed":
        raise _Failed(f"{what}: {fetch.error or 'request failed'}", fetch)
    return fetch


async def _parse(app: App, what: str, fetch: FetchResult, fn: str, *args: Any,
                 **kwargs: Any) -> Any:
    """Run a parser ("module:function") in a worker process; a ParseError ends the attempt
    with its reason."""
    try:
        return await app.parsers.run(parse_for_store, fn, *args, **kwargs)
    except ParseError as e:
        raise _Failed(f"{what}: {e}", fetch) from None


async def _store(app: App, records: list[PaperRecord], result: SourceResult) -> None:
    up = await db_call(app.store, store_papers.upsert_records, app.store, records)
    result.entries += up.entries
    result.new += up.new
    result.updated += up.updated
    result.paper_ids.extend(i for i in up.paper_ids if i not in result.paper_ids)


async def _feed(app: App, fetcher: Fetcher, cfg: SourceConfig, state: store_sources.SourceState,
                result: SourceResult, attempt: store_sources.Attempt) -> None:
    assert cfg.url
    fetch = _check(await fetcher.get(cfg.url, etag=state.etag,
                                     last_modified=state.last_modified), "fetch")
    result.http_status = fetch.http_status
    attempt.url, attempt.bytes = fetch.url, len(fetch.body)
    attempt.etag, attempt.last_modified = fetch.etag, fetch.last_modified
    if fetch.status == "not_modified":
        result.status = "not_modified"
        return
    body_hash = hashlib.sha256(fetch.body).hexdigest()
    if body_hash == state.body_hash:
        result.status = "unchanged"  # the server ignores validators; same bytes, skip parsing
        return
    parsed = await _parse(app, "parse", fetch, "newsflow.parse.feeds:parse_feed", fetch.body,
                          source=cfg.name, headers=fetch.headers, url=fetch.url)
    result.problems = parsed.problems
    await _store(app, parsed.records, result)
    attempt.body_hash = body_hash
    result.status = "ok"


def _pubmed_window(app: App, state: store_sources.SourceState,
                   now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = state.window_end or now - dt.timedelta(days=int(app.settings["ncbi.first_window_days"]))
    # Entrez dates are whole days: start on the day the last window ended, so nothing
    # indexed late that day is missed; duplicates merge away.
    return start, now


async def _pubmed(app: App, fetcher: Fetcher, cfg: SourceConfig,
                  state: store_sources.SourceState, result: SourceResult,
                  attempt: store_sources.Attempt) -> None:
    s = app.settings
    base = (cfg.base_url or s["ncbi.base_url"]).rstrip("/")
    now = clock.utcnow()
    start, end = _pubmed_window(app, state, now)
    common = {"db": "pubmed", "tool": s["ncbi.tool"], "email": s["ncbi.email"]}
    if s["ncbi.api_key"]:
        common["api_key"] = s["ncbi.api_key"]
    params = {**common, "term": cfg.query, "datetype": "edat",
              "mindate": start.strftime("%Y/%m/%d"), "maxdate": end.strftime("%Y/%m/%d"),
              "retmax": int(s["ncbi.max_results"]), "retmode": "xml", "sort": "pub_date"}
    fetch = _check(await fetcher.get(base + "/esearch.fcgi", params=params, rate_key="ncbi"),
                   "esearch")
    result.http_status = fetch.http_status
    attempt.url, attempt.bytes = fetch.url, len(fetch.body)
    search = await _parse(app, "esearch", fetch, "newsflow.parse.pubmed:parse_esearch",
                          fetch.body)
    if search.errors:
        raise _Failed("esearch error: " + "; ".join(search.errors), fetch)
    result.problems.extend(search.warnings)
    if search.count > len(search.ids):
        result.problems.append(f"esearch found {search.count} papers; took the first "
                               f"{len(search.ids)} (ncbi.max_results)")
    for i in range(0, len(search.ids), EFETCH_BATCH):
        batch = search.ids[i:i + EFETCH_BATCH]
        fetch = _check(await fetcher.get(base + "/efetch.fcgi", rate_key="ncbi", params={
            **common, "id": ",".join(batch), "retmode": "xml", "rettype": "abstract"}), "efetch")
        result.http_status = fetch.http_status
        attempt.bytes += len(fetch.body)
        records = await _parse(app, "efetch", fetch, "newsflow.parse.pubmed:parse_efetch",
                               fetch.body, source=cfg.name)
        await _store(app, records, result)
    attempt.window_end = end
    result.status = "ok"


async def _europepmc(app: App, fetcher: Fetcher, cfg: SourceConfig,
                     state: store_sources.SourceState, result: SourceResult,
                     attempt: store_sources.Attempt) -> None:
    s = app.settings
    base = (cfg.base_url or s["europepmc.base_url"]).rstrip("/")
    cursor = "*"
    for page_no in range(int(s["europepmc.max_pages"])):
        params = {"query": cfg.query, "format": "json", "resultType": "core",
                  "pageSize": int(s["europepmc.page_size"]), "cursorMark": cursor}
        fetch = _check(await fetcher.get(base + "/search", params=params),
                       f"search page {page_no + 1}")
        result.http_status = fetch.http_status
        if page_no == 0:
            attempt.url = fetch.url
        attempt.bytes += len(fetch.body)
        page = await _parse(app, f"search page {page_no + 1}", fetch,
                            "newsflow.parse.europepmc:parse_search",
                            fetch.body, source=cfg.name)
        result.problems.extend(page.problems)
        await _store(app, page.records, result)
        if not page.next_cursor or page.next_cursor == cursor or not page.records:
            break
        cursor = page.next_cursor
    attempt.window_end = clock.utcnow()
    result.status = "ok"
