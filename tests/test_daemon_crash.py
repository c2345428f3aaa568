"""kill -9 at random points, then restart: the database ends exactly where an uninterrupted
run ends, and the dead daemon's claims run out and are taken over.

Each trial publishes new feed content, kills the running daemon after a random (seeded)
delay, while it polls, parses, stores or processes, starts a fresh one, and waits until
the state equals that of an uninterrupted ``run --all`` of the same content on a
separate reference database.  The daemon started by one trial is the victim of the next,
so a trial costs one fork and one lease expiry.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpers.daemons import (
    feed_xml,
    fork_daemon,
    signal_process,
    state,
    wait_for,
    wait_started,
    write_config,
)
from helpers.db import pg_schema_url, postgres_available, sqlite_url
from helpers.server import CorpusServer
from newsflow import pipeline
from newsflow.app import App
from newsflow.clock import utcnow
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store.schema import leases

pytestmark = pytest.mark.slow

FEEDS, LEASE = 6, 1


def publish(server: CorpusServer, version: int) -> list[tuple[str, str]]:
    """Version v of every feed: two new items per version on top of the older ones.

    No item is shared between feeds here: which feed reports a shared paper first
    decides some merged fields, in an uninterrupted run as much as after a crash."""
    return [(f"Journal {k:03d}",
             server.add(f"/feeds/{k}.xml", feed_xml(k, 3 + 2 * version, shared_with_next=0),
                        content_type="application/rss+xml"))
            for k in range(FEEDS)]


def reference_states(tmp: Path, versions: int) -> list[dict[str, Any]]:
    """What an uninterrupted ``newsflow run --all`` leaves after each content version,
    on its own server and SQLite database."""
    out = []
    ref = tmp / "ref"
    with CorpusServer() as server:
        cfg = write_config(ref, sqlite_url(ref), publish(server, 0), every="1s")
        app = App(load_settings(cfg))
        app.open_store_for_init().migrate()
        try:
            for v in range(versions + 1):
                publish(server, v)
                report = pipeline.run_sources(app, all=True)
                assert report.to_json()["failed"] == 0, report.to_json()
                out.append(state(app.store))
        finally:
            app.close()
    return out


def leases_of(store: Store, pid: int) -> list[Any]:
    with store.read() as c:
        return [r for r in c.execute(sa.select(leases)) if f":{pid}:" in r.owner]


def run_trials(tmp: Path, url: str, seeds: range) -> None:
    with CorpusServer() as server:
        feeds = publish(server, 0)
        cfg = write_config(tmp, url, feeds, every="1s",
                           daemon={"lease_seconds": LEASE, "tick": 1, "shutdown_timeout": 3.0})
        store = Store(url)
        store.migrate()
        expected_states = reference_states(tmp, len(seeds))
        log = tmp / "daemon.log"
        proc = fork_daemon(cfg, log)
        assert wait_started(log)
        kills: list[str] = []
        try:
            for i, seed in enumerate(seeds, start=1):
                rng = random.Random(seed)
                publish(server, i)
                expected = expected_states[i]
                delay = rng.uniform(0.0, 1.5)
                time.sleep(delay)
                victim = proc.pid
                killed_at = utcnow()
                signal_process(proc, signal.SIGKILL)
                assert proc.exitcode == -signal.SIGKILL
                held = leases_of(store, victim)
                kills.append(f"seed {seed}: killed after {delay:.2f}s holding "
                             f"{sorted(r.key for r in held)}")
                started = log.read_text(errors="replace").count('"daemon_started"')
                proc = fork_daemon(cfg, log)
                assert wait_started(log, started + 1)
                ok = wait_for(lambda exp=expected: state(store) == exp, 40, every=0.3)
                assert ok, f"{kills[-1]}: state never matched: {diff(state(store), expected)}"
                # Work claims of the dead daemon ran out (no renewal after its death) and
                # were free for the new one.  job: leases last their whole period by design.
                time.sleep(max(0.0, (killed_at - utcnow()).total_seconds() + LEASE + 0.2))
                for r in leases_of(store, victim):
                    if r.key.startswith("job:"):
                        continue
                    assert r.expires_at <= killed_at + dt.timedelta(seconds=LEASE + 0.5), r
                    assert r.expires_at < utcnow(), f"{kills[-1]}: lease {r.key} still live"
        finally:
            code_time = signal_process(proc, signal.SIGTERM)
            store_leases = leases_of(store, proc.pid)
            store.dispose()
        assert proc.exitcode == 0 and code_time < 10
        # a clean stop releases everything it held
        assert store_leases == [], store_leases


def diff(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    return {k: {"extra": sorted(set(got[k]) - set(want[k]))[:5],
                "missing": sorted(set(want[k]) - set(got[k]))[:5]}
            for k in want if got[k] != want[k]}


@pytest.mark.timeout(300)
def test_kill9_trials_on_postgres(tmp_path: Path) -> None:
    if not postgres_available():
        pytest.skip("no PostgreSQL server answers at 127.0.0.1:5432")
    with pg_schema_url() as url:
        run_trials(tmp_path, url, range(12))


@pytest.mark.timeout(300)
def test_kill9_trials_on_sqlite(tmp_path: Path) -> None:
    run_trials(tmp_path, sqlite_url(tmp_path), range(12, 20))
