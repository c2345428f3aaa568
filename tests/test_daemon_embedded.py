"""The daemon inside another event loop (the web server's, for ``serve --with-daemon``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from helpers.daemons import serve_feeds, state, write_config
from helpers.db import sqlite_url
from helpers.server import CorpusServer
from newsflow.app import App
from newsflow.daemon import SlotTrigger, embedded
from newsflow.settings import load_settings
from newsflow.store import leases as L
from newsflow.store.schema import job_runs


def test_embedded_daemon_polls_processes_and_stops_cleanly(tmp_path: Path) -> None:
    with CorpusServer() as server:
        feeds = serve_feeds(server, 3)
        cfg = write_config(tmp_path, sqlite_url(tmp_path), feeds, every="1h")
        app = App(load_settings(cfg))
        app.open_store_for_init().migrate()

        async def main() -> None:
            async with embedded(app) as d:
                assert len(d.sources) == 3
                for _ in range(300):
                    s = state(app.store)
                    if len(s["links"]) == 11 and all(p[3] for p in s["papers"]):
                        break
                    await asyncio.sleep(0.1)

        asyncio.run(main())
        s = state(app.store)
        assert len(s["papers"]) == 9 and all(p[3] for p in s["papers"])
        assert all(server.hits(f"/feeds/{k}.xml") == 1 for k in range(3))  # once per slot
        assert L.list_leases(app.store) == []  # a clean stop releases every claim
        with app.store.read() as c:
            jobs = {r.job for r in c.execute(sa.select(job_runs.c.job))}
        assert {"poll", "process"} <= jobs
        app.close()


def test_slot_trigger_fires_once_per_slot_without_drift() -> None:
    import datetime as dt

    from newsflow.slots import slot_start

    trig = SlotTrigger("JAMA", 60, 6)
    now = dt.datetime(2026, 11, 25, 12, 0, 7, tzinfo=dt.UTC)
    fire = trig.get_next_fire_time(None, now)
    starts = []
    for _ in range(50):
        naive = fire.replace(tzinfo=None)
        start = slot_start("JAMA", 60, naive)
        assert dt.timedelta(0) <= naive - start <= dt.timedelta(seconds=6)
        starts.append(start)
        fire = trig.get_next_fire_time(fire, fire)
    assert [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)] \
        == [60.0] * 49


def test_with_daemon_runs_the_daemon_in_the_asgi_lifespan(tmp_path: Path) -> None:
    from newsflow.daemon import with_daemon

    calls: list[str] = []

    async def web(scope, receive, send):  # type: ignore[no-untyped-def]
        calls.append(scope["type"])

    with CorpusServer() as server:
        feeds = serve_feeds(server, 2)
        cfg = write_config(tmp_path, sqlite_url(tmp_path), feeds, every="1h")
        app = App(load_settings(cfg))
        app.open_store_for_init().migrate()
        asgi = with_daemon(web, app)

        async def main() -> list[str]:
            inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
            sent: list[str] = []

            async def send(msg: dict[str, str]) -> None:
                sent.append(msg["type"])

            task = asyncio.create_task(asgi({"type": "lifespan"}, inbox.get, send))
            await inbox.put({"type": "lifespan.startup"})
            await asgi({"type": "http"}, inbox.get, send)
            for _ in range(300):
                if all(server.hits(f"/feeds/{k}.xml") for k in range(2)):
                    break
                await asyncio.sleep(0.1)
            await inbox.put({"type": "lifespan.shutdown"})
            await task
            return sent

        sent = asyncio.run(main())
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert calls == ["http"]
        assert all(server.hits(f"/feeds/{k}.xml") == 1 for k in range(2))
        assert L.list_leases(app.store) == []
        app.close()
