"""Signals: SIGTERM finishes or abandons in-flight work within its bound and leaves no
partial rows; SIGHUP applies source changes and survives a broken config."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpers.daemons import (
    feed_xml,
    fork_daemon,
    serve_feeds,
    signal_process,
    wait_for,
    wait_started,
    write_config,
)
from helpers.db import sqlite_url
from helpers.server import CorpusServer
from newsflow.clock import utcnow
from newsflow.store import Store
from newsflow.store.schema import fetches, leases, paper_sources, papers, sources

pytestmark = pytest.mark.slow


def no_partial_rows(store: Store) -> None:
    """Every paper has the source entry that brought it; every fetch row is complete."""
    with store.read() as c:
        orphans = c.execute(sa.select(papers.c.doi).where(~sa.exists().where(
            paper_sources.c.paper_id == papers.c.id))).all()
        incomplete = c.execute(sa.select(fetches.c.id).where(
            sa.or_(fetches.c.status.is_(None), fetches.c.duration_ms.is_(None)))).all()
    assert orphans == [] and incomplete == []


def papers_from(store: Store, source: str) -> int:
    with store.read() as c:
        return c.execute(sa.select(sa.func.count()).select_from(paper_sources)
                         .where(paper_sources.c.source == source)).scalar_one()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("delay, timeout, code", [(2.0, 6.0, 0), (30.0, 2.0, 1)],
                         ids=["finishes", "abandons"])
def test_sigterm_during_a_poll(tmp_path: Path, delay: float, timeout: float,
                               code: int) -> None:
    with CorpusServer() as server:
        fast = serve_feeds(server, 2)
        slow_url = server.add("/slow.xml", feed_xml(50, 4, shared_with_next=0), delay=delay,
                              content_type="application/rss+xml")
        url = sqlite_url(tmp_path)
        cfg = write_config(tmp_path, url, [*fast, ("Slow", slow_url)], every="1h",
                           daemon={"shutdown_timeout": timeout, "lease_seconds": 5},
                           http={"timeout": 60.0, "total_timeout": 60.0})
        store = Store(url)
        store.migrate()
        log = tmp_path / "d.log"
        proc = fork_daemon(cfg, log)
        assert wait_started(log)
        assert wait_for(lambda: server.hits("/slow.xml") == 1, 30)
        time.sleep(0.3)
        took = signal_process(proc, signal.SIGTERM)
        assert took < 10
        assert proc.exitcode == code
        no_partial_rows(store)
        with store.read() as c:
            slow = c.execute(sa.select(sources).where(sources.c.name == "Slow")).one()
            held = c.execute(sa.select(leases).where(leases.c.key == "source:Slow")).all()
        if code == 0:  # the poll was allowed to finish: all of it is stored
            assert papers_from(store, "Slow") == 4 and slow.last_success_at is not None
            assert held == []
        else:  # abandoned: nothing of it was stored, and its claim runs out by itself
            assert papers_from(store, "Slow") == 0 and slow.last_attempt_at is None
            assert [h.expires_at <= utcnow() + dt.timedelta(seconds=5) for h in held] == [True]
        assert '"daemon_stopped"' in log.read_text()
        store.dispose()


@pytest.mark.timeout(120)
def test_sighup_reloads_sources(tmp_path: Path) -> None:
    with CorpusServer() as server:
        feeds = serve_feeds(server, 3)
        url = sqlite_url(tmp_path)
        cfg = write_config(tmp_path, url, feeds[:2], every="1s")
        store = Store(url)
        store.migrate()
        log = tmp_path / "d.log"
        proc = fork_daemon(cfg, log)
        try:
            assert wait_started(log)
            assert wait_for(lambda: server.hits("/feeds/1.xml") >= 2, 30)
            # drop feed 0, add feed 2
            write_config(tmp_path, url, feeds[1:], every="1s")
            os.kill(proc.pid, signal.SIGHUP)
            assert wait_for(lambda: '"reloaded"' in log.read_text(), 30)
            assert wait_for(lambda: server.hits("/feeds/2.xml") >= 2, 30)
            dropped = server.hits("/feeds/0.xml")
            # a broken config is reported and the running one kept
            (tmp_path / "sources.toml").write_text('[[source]]\nname = "x"\nkind = "nope"\n')
            os.kill(proc.pid, signal.SIGHUP)
            assert wait_for(lambda: '"reload_failed"' in log.read_text(), 30)
            before = server.hits("/feeds/2.xml")
            assert wait_for(lambda: server.hits("/feeds/2.xml") >= before + 2, 30)
            assert server.hits("/feeds/0.xml") == dropped
        finally:
            signal_process(proc, signal.SIGTERM)
        assert proc.exitcode == 0
        assert "kind" in log.read_text().split('"reload_failed"')[1].split("\n")[0]
        store.dispose()
