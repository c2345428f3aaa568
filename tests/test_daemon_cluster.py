"""Three daemons on one PostgreSQL split the work: every source is fetched exactly once per
poll slot, and no paper, source entry or draft is stored twice."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpers.daemons import (
    fork_daemon,
    serve_feeds,
    signal_process,
    state,
    wait_for,
    wait_started,
    write_config,
)
from helpers.db import pg_schema_url, postgres_available
from helpers.server import CorpusServer
from newsflow.slots import slot_start
from newsflow.store import Store
from newsflow.store.leases import default_tolerance
from newsflow.store.schema import fetches, job_runs, paper_sources, papers, sources

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FEEDS, ITEMS, EVERY = 50, 3, 10.0


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None)


@pytest.mark.timeout(240)
def test_three_daemons_fetch_each_source_once_per_interval(tmp_path: Path) -> None:
    if not postgres_available():
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432")
    with CorpusServer() as server, pg_schema_url() as url:
        feeds = serve_feeds(server, FEEDS, ITEMS)
        names = {f"/feeds/{k}.xml": name for k, (name, _u) in enumerate(feeds)}
        cfg = write_config(tmp_path, url, feeds, every=f"{EVERY:g}s",
                           daemon={"lease_seconds": 10})
        store = Store(url)
        store.migrate()
        try:
            check(server, store, cfg, names, tmp_path)
        finally:
            store.dispose()


def all_polled(store: Store) -> bool:
    with store.read() as c:
        return c.execute(sa.select(sa.func.count()).select_from(sources)
                         .where(sources.c.last_success_at.is_not(None))).scalar_one() == FEEDS


def check(server: CorpusServer, store: Store, cfg: Path, names: dict[str, str],
          tmp_path: Path) -> None:
    logs = [tmp_path / f"d{i}.log" for i in range(3)]
    procs = [fork_daemon(cfg, log) for log in logs]
    try:
        assert all(wait_started(log) for log in logs), "a daemon did not start"
        # Measure once the start-up burst (every source due at once, on three cold
        # processes) is over: every source has been polled.
        assert wait_for(lambda: all_polled(store), 90), "some source was never polled"
        begin = time.time()
        time.sleep(4 * EVERY)
        end = time.time() - 0.5
    finally:
        exits = [signal_process(p, signal.SIGTERM) for p in procs]
    # 0 = clean; 1 = in-flight work outlived daemon.shutdown_timeout and was abandoned
    # (test_daemon_signals.py covers shutdown in detail)
    assert all(p.exitcode in (0, 1) for p in procs), [p.exitcode for p in procs]
    assert max(exits) < 15

    # Every request the server saw belongs to a recorded poll: nothing was fetched
    # behind the claims' back.  (A poll cut off at shutdown reached the server but
    # recorded nothing: at most one per source.  A poll that timed out on a busy
    # machine is recorded though its request may never have arrived.)
    with store.read() as c:
        rows = c.execute(sa.select(fetches.c.source, fetches.c.started_at,
                                   fetches.c.http_status)).all()
    seen = Counter(names[r.path] for r in list(server.requests) if r.path in names)
    recorded = Counter(r.source for r in rows)
    answered = Counter(r.source for r in rows if r.http_status is not None)
    for name in names.values():
        assert answered[name] <= seen[name] <= recorded[name] + 1, \
            (name, seen[name], recorded[name], answered[name])

    # Each poll falls in the slot its claim was for: a claimed poll's attempt starts
    # at its claim.  (The server's arrival times lag behind when the machine is busy.)
    # Slots are computed exactly as the daemons compute them: a timer up to the
    # clock-skew tolerance early counts for the coming slot.
    early = dt.timedelta(seconds=default_tolerance(EVERY))
    fetched: dict[str, Counter[dt.datetime]] = defaultdict(Counter)
    for r in rows:
        fetched[r.source][slot_start(r.source, EVERY, r.started_at + early)] += 1
    checked = 0
    for name in names.values():
        slot = slot_start(name, EVERY, utc(begin)) + dt.timedelta(seconds=EVERY)
        while slot + dt.timedelta(seconds=EVERY) <= utc(end):
            assert fetched[name][slot] == 1, (name, slot, sorted(fetched[name].items()))
            checked += 1
            slot += dt.timedelta(seconds=EVERY)
        # never twice in one slot, during start-up and shutdown either
        assert max(fetched[name].values()) == 1, (name, fetched[name])
    assert checked >= FEEDS * 2

    with store.read() as c:
        owners = Counter(r.owner for r in c.execute(
            sa.select(job_runs.c.owner).where(job_runs.c.job == "poll")))
        n_papers = c.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one()
        n_links = c.execute(sa.select(sa.func.count()).select_from(paper_sources)
                            ).scalar_one()
    assert len(owners) == 3, f"the polls were not shared: {owners}"
    # each feed has ITEMS own items and repeats the previous feed's last one
    assert n_papers == FEEDS * ITEMS
    assert n_links == FEEDS * ITEMS + FEEDS - 1
    s = state(store)
    assert len({p[0] for p in s["papers"]}) == len(s["papers"])
    assert all(p[3] for p in s["papers"]), "a paper was left unprocessed"
    assert len(set(s["drafts"])) == len(s["drafts"])
