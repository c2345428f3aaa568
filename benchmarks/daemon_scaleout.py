"""Daemon scale-out: claim latency, and throughput with 1 and with 3 daemons.

Run: /work/venv/bin/python benchmarks/daemon_scaleout.py [--feeds 200] [--items 5]
     [--latency 0.05] [--claims 300]

1. Claim latency (PostgreSQL, and SQLite for comparison): one ``claim_source`` (lock the
   row with SKIP LOCKED, take the lease, move the slot) plus ``finish_source``, and one
   ``claim_papers`` batch of 10 with its releases.
2. Throughput: a local server serves ``--feeds`` feeds (``--items`` entries each, with
   ``--latency`` seconds added to every response); 1, then 3 daemon processes share one
   fresh PostgreSQL schema and drain the backlog: every source polled once and every
   paper processed.  Reported as wall time, sources/s and papers/s.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from helpers.daemons import (  # noqa: E402
    fork_daemon,
    serve_feeds,
    signal_process,
    wait_for,
    wait_started,
    write_config,
)
from helpers.db import pg_schema_url, postgres_available, sqlite_url  # noqa: E402
from helpers.server import CorpusServer  # noqa: E402
from newsflow.clock import utcnow  # noqa: E402
from newsflow.store import Store  # noqa: E402
from newsflow.store import leases as L  # noqa: E402
from newsflow.store.schema import papers, sources  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def claim_latency(url: str, n: int) -> dict[str, float]:
    store = Store(url)
    store.migrate()
    names = [f"src{i}" for i in range(n)]
    with store.write() as c:
        c.execute(papers.insert(), [dict(title=f"p{i}", abstract_sections=[], authors=[],
                                         publication_types=[], mesh_terms=[], keywords=[],
                                         grants=[], updates=[], field_sources={},
                                         content_hash="h", created_at=utcnow(),
                                         updated_at=utcnow()) for i in range(n * 10)])
    src_ms, batch_ms = [], []
    for name in names:
        t0 = time.perf_counter()
        lease = L.claim_source(store, name, "feed", "bench", every=3600, ttl=60)
        assert lease is not None
        L.finish_source(store, lease, every=3600)
        src_ms.append((time.perf_counter() - t0) * 1000)
    cand = sa.select(papers.c.id).where(papers.c.processed_hash.is_(None))
    for _ in range(n):
        t0 = time.perf_counter()
        got = L.claim_papers(store, "bench", cand, ttl=60, limit=10)
        for _pid, lease in got:
            L.release(store, lease.key, "bench")
        batch_ms.append((time.perf_counter() - t0) * 1000)
        with store.write() as c:  # mark them done so the next batch takes new ones
            c.execute(papers.update().where(papers.c.id.in_([p for p, _ in got]))
                      .values(processed_hash="h"))
    store.dispose()
    return {"source_p50": statistics.median(src_ms), "source_p95": pct(src_ms, 0.95),
            "batch_p50": statistics.median(batch_ms), "batch_p95": pct(batch_ms, 0.95)}


def drained(store: Store, feeds: int, expected_papers: int) -> bool:
    with store.read() as c:
        polled = c.execute(sa.select(sa.func.count()).select_from(sources)
                           .where(sources.c.last_success_at.is_not(None))).scalar_one()
        done = c.execute(sa.select(sa.func.count()).select_from(papers)
                         .where(papers.c.processed_hash == papers.c.content_hash)).scalar_one()
    return polled == feeds and done == expected_papers


def throughput(daemons: int, feeds: int, items: int, latency: float) -> dict[str, float]:
    with CorpusServer() as server, pg_schema_url() as url, \
            tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        server.default_delay = latency
        fs = serve_feeds(server, feeds, items)
        cfg = write_config(tmp, url, fs, every="1h",
                           daemon={"lease_seconds": 30, "tick": 1, "workers": 2})
        store = Store(url)
        store.migrate()
        logs = [tmp / f"d{i}.log" for i in range(daemons)]
        procs = [fork_daemon(cfg, log) for log in logs]
        try:
            assert all(wait_started(log) for log in logs)
            t0 = time.monotonic()
            assert wait_for(lambda: drained(store, feeds, feeds * items), 600, every=0.1)
            wall = time.monotonic() - t0
        finally:
            for p in procs:
                signal_process(p, signal.SIGTERM, timeout=30)
            store.dispose()
    return {"wall": wall, "sources_per_s": feeds / wall, "papers_per_s": feeds * items / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=5)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--claims", type=int, default=300)
    a = ap.parse_args()
    if not postgres_available():
        sys.exit("needs PostgreSQL at 127.0.0.1:5432")

    print(f"## Claim latency ({a.claims} claims each)\n")
    print("| database | source claim+finish p50 | p95 | 10-paper batch claim+release p50 | p95 |")
    print("|---|---|---|---|---|")
    with pg_schema_url() as url:
        r = claim_latency(url, a.claims)
    print(f"| PostgreSQL | {r['source_p50']:.1f} ms | {r['source_p95']:.1f} ms | "
          f"{r['batch_p50']:.1f} ms | {r['batch_p95']:.1f} ms |")
    with tempfile.TemporaryDirectory() as tmp:
        r = claim_latency(sqlite_url(Path(tmp)), a.claims)
    print(f"| SQLite | {r['source_p50']:.1f} ms | {r['source_p95']:.1f} ms | "
          f"{r['batch_p50']:.1f} ms | {r['batch_p95']:.1f} ms |")

    print(f"\n## Throughput: {a.feeds} feeds x {a.items} entries, {a.latency * 1000:.0f} ms "
          "server latency, one PostgreSQL\n")
    print("| daemons | wall | sources/s | papers/s | speed-up |")
    print("|---|---|---|---|---|")
    base = None
    for n in (1, 3):
        r = throughput(n, a.feeds, a.items, a.latency)
        base = base or r["wall"]
        print(f"| {n} | {r['wall']:.1f} s | {r['sources_per_s']:.1f} | "
              f"{r['papers_per_s']:.1f} | {base / r['wall']:.2f}x |")


if __name__ == "__main__":
    main()
