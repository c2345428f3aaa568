"""One daemon on SQLite while an operator runs ``newsflow run --all`` again and again from
another process: no duplicates, no "database is locked", no failed source."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from helpers.daemons import (
    feed_xml,
    fork_daemon,
    signal_process,
    state,
    wait_for,
    wait_started,
    write_config,
)
from helpers.db import sqlite_url
from helpers.server import CorpusServer
from newsflow.cli import cli
from newsflow.store import Store
from newsflow.store.schema import paper_sources, papers

pytestmark = pytest.mark.slow

FEEDS = 10


def publish(server: CorpusServer, items: int, shared: int = 1) -> list[tuple[str, str]]:
    """Feeds whose last ``shared`` items also open the next feed."""
    return [(f"Journal {k:03d}",
             server.add(f"/feeds/{k}.xml", feed_xml(k, items, shared_with_next=shared),
                                            content_type="application/rss+xml"))
            for k in range(FEEDS)]


@pytest.mark.timeout(300)
def test_daemon_and_run_share_sqlite(tmp_path: Path) -> None:
    with CorpusServer() as server:
        feeds = publish(server, 3)
        url = sqlite_url(tmp_path)
        cfg = write_config(tmp_path, url, feeds, every="1s")
        store = Store(url)
        store.migrate()
        log = tmp_path / "d.log"
        proc = fork_daemon(cfg, log)
        runner = CliRunner()
        outputs: list[str] = []
        try:
            assert wait_started(log)
            for n in range(4):
                if n == 2:  # new items mid-way: both processes write papers at once
                    publish(server, 6, shared=0)
                r = runner.invoke(cli, ["--config", str(cfg), "run", "--all", "--json"])
                outputs.append(r.output)
                assert r.exit_code == 0, r.output
                report = json.loads(r.output)
                assert report["failed"] == 0, report["source_results"]
                assert report["processing"]["failed"] == 0
            # the daemon catches up with the newest content too
            assert wait_for(lambda: all_linked(store, 6), 30)
        finally:
            signal_process(proc, signal.SIGTERM)
        assert proc.exitcode == 0
        daemon_log = log.read_text()
        for text in (*outputs, daemon_log):
            assert "database is locked" not in text
        assert '"level": "ERROR"' not in daemon_log
        s = state(store)
        dois = [p[0] for p in s["papers"]]
        assert len(dois) == len(set(dois)) == FEEDS * 6
        # every entry ever listed: 6 own items per feed, plus the first version's shared one
        assert len(s["links"]) == len(set(s["links"])) == FEEDS * 6 + FEEDS - 1
        assert len(s["drafts"]) == len(set(s["drafts"]))
        assert all(p[3] for p in s["papers"])
        store.dispose()


def all_linked(store: Store, items: int) -> bool:
    with store.read() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(paper_sources)).scalar_one()
        unprocessed = c.execute(sa.select(sa.func.count()).select_from(papers).where(
            sa.or_(papers.c.processed_hash.is_(None),
                   papers.c.processed_hash != papers.c.content_hash))).scalar_one()
    return n == FEEDS * items + FEEDS - 1 and unprocessed == 0
