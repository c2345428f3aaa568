"""Review queue speed with 100,000 drafts in SQLite, measured in-process.

Requests go through the whole ASGI app (sessions, CSRF, CSP middleware, templates) via
httpx's ASGI transport, so the numbers are server time without a network.

    /work/venv/bin/python benchmarks/review_queue.py [--drafts 100000] [--runs 60]

Targets (issue #5): queue first and deep page p95 <= 50 ms; draft page p95 <= 80 ms;
approve <= 30 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from helpers.review_data import PASSING, YAN_BODY, YAN_CHECKS, YAN_SECTIONS, provenance_for  # noqa: E402
from newsflow import accounts  # noqa: E402
from newsflow.app import App  # noqa: E402
from newsflow.models import abstract_text  # noqa: E402
from newsflow.settings import load_settings  # noqa: E402
from newsflow.store import Store  # noqa: E402
from newsflow.store.schema import (  # noqa: E402
    audit_events,
    draft_versions,
    drafts,
    facts,
    paper_sources,
    papers,
    sources,
)
from newsflow.web import create_app  # noqa: E402

STATES = (["in_review"] * 60 + ["new"] * 10 + ["changes_requested"] * 5 + ["approved"] * 15
          + ["published"] * 5 + ["rejected"] * 5)
DESIGNS = ["rct", "case_series", "cohort", "meta_analysis", "case_report", None]
SOURCES = [f"source-{i:02d}" for i in range(20)]
TOPICS = ["psoriasis", "atopic dermatitis", "acne", "melanoma", "vitiligo", "rosacea",
          "hidradenitis suppurativa", "alopecia areata", "urticaria", "basal cell carcinoma"]


def populate(store: Store, n: int) -> None:
    rnd = random.Random(5)
    abstract = abstract_text(YAN_SECTIONS)
    sections = [{"label": s.label, "text": s.text} for s in YAN_SECTIONS]
    prov = provenance_for(YAN_BODY, abstract)
    checks_fail = [c.to_json() for c in YAN_CHECKS]
    checks_ok = [c.to_json() for c in PASSING]
    fact_rows = []
    for name, value in (("sample_size", "Six patients"), ("dose", "15 mg"),
                        ("duration", "12 weeks")):
        i = abstract.find(value)
        fact_rows.append((name, value, i, i + len(value)))
    start = dt.datetime(2024, 1, 1)
    chunk = 5000
    with store.write() as c:
        c.execute(sources.insert(), [{"name": s, "kind": "feed", "created_at": start,
                                      "consecutive_failures": 0} for s in SOURCES])
    for base in range(0, n, chunk):
        p_rows, d_rows, v_rows, a_rows, f_rows, s_rows = [], [], [], [], [], []
        for i in range(base, min(n, base + chunk)):
            pid = i + 1
            created = start + dt.timedelta(minutes=7 * i + rnd.randint(0, 5))
            topic = TOPICS[i % len(TOPICS)]
            design = DESIGNS[rnd.randrange(len(DESIGNS))]
            title = f"Study {pid}: {topic} treatment outcomes"
            p_rows.append({"id": pid, "doi": f"10.5555/bench.{pid}", "pmid": str(30_000_000 + pid),
                           "title": title, "abstract_sections": sections,
                           "authors": [{"name": "Yan Y"}], "journal": "J Dermatol Bench",
                           "pub_date": "2024-01-01", "publication_types": ["Journal Article"],
                           "mesh_terms": [], "keywords": [], "grants": [], "updates": [],
                           "field_sources": {}, "relevant": rnd.random() > 0.1,
                           "design": design, "created_at": created, "updated_at": created})
            s_rows.append({"paper_id": pid, "source": SOURCES[i % len(SOURCES)],
                           "entry_id": f"e{pid}", "first_seen": created, "last_seen": created})
            failing = rnd.random() < 0.3
            d_rows.append({"id": pid, "paper_id": pid, "state": STATES[rnd.randrange(100)],
                           "version": 1, "template_name": "case_series",
                           "template_version": "1", "title": f"What a new {topic} study found",
                           "body_markdown": YAN_BODY,
                           "checks": checks_fail if failing else checks_ok,
                           "readability": {"fkgl": 7.4}, "provenance": prov,
                           "blocking_failures": 1 if failing else 0,
                           "priority": rnd.choice([0, 0, 0, 1, 2]),
                           "assignee": rnd.choice([None, None, "erin", "ada"]),
                           "created_at": created, "updated_at": created})
            v_rows.append({"draft_id": pid, "version": 1, "kind": "auto", "title": title,
                           "body_markdown": YAN_BODY, "checks": checks_ok,
                           "readability": {}, "author": "newsflow", "created_at": created})
            a_rows.append({"draft_id": pid, "actor": "newsflow", "action": "created",
                           "detail": {}, "created_at": created, "version": 1})
            for name, value, s0, s1 in fact_rows:
                f_rows.append({"paper_id": pid, "name": name, "value": value,
                               "confidence": 0.9, "span_start": s0, "span_end": s1,
                               "sentence": abstract[s0:s1]})
        with store.write() as c:
            c.execute(papers.insert(), p_rows)
            c.execute(paper_sources.insert(), s_rows)
            c.execute(drafts.insert(), d_rows)
            c.execute(draft_versions.insert(), v_rows)
            c.execute(audit_events.insert(), a_rows)
            c.execute(facts.insert(), f_rows)
    with store.write() as c:
        c.execute(sa.text("ANALYZE"))


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


CPU: list[float] = []  # CPU time of the last timed() call, all threads of this process


async def timed(client: httpx.AsyncClient, method: str, url: str, runs: int,
                expect: int = 200, **kw: Any) -> list[float]:
    """Wall-clock ms per request; CPU ms per request goes to CPU (on a shared, loaded
    machine the CPU time is the fairer measure of the server's own work)."""
    out = []
    CPU.clear()
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        r = await client.request(method, url, **kw)
        out.append((time.perf_counter() - t) * 1000)
        CPU.append((time.process_time() - c) * 1000)
        assert r.status_code == expect, (url, r.status_code, r.text[:300])
    return out


async def bench(app: App, runs: int, n: int) -> list[tuple[str, list[float], list[float], float]]:
    web = create_app(app)
    transport = httpx.ASGITransport(app=web)
    rows: list[tuple[str, list[float], list[float], float]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        page = (await client.get("/login")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = await client.post("/login", data={"username": "erin", "password": "bench-pass-1",
                                              "csrf_token": token})
        assert r.status_code == 303, r.text
        page = (await client.get("/queue")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        await timed(client, "GET", "/queue", 5)  # warm-up

        def deep_cursor(sort: str, offset: int, where: str = "") -> str:
            key = "priority" if sort == "priority" else "created_at"
            order = "DESC" if sort != "oldest" else "ASC"
            with app.store.read() as c:
                row = c.execute(sa.text(
                    f"SELECT {key}, id FROM drafts WHERE state IN ('new','in_review',"
                    f"'changes_requested') {where} ORDER BY {key} {order}, id {order} "
                    f"LIMIT 1 OFFSET {offset}")).one()
            first = str(row[0]) if sort == "priority" else dt.datetime.fromisoformat(
                str(row[0])).isoformat()
            return f"{first}|{row[1]}"

        deep = deep_cursor("newest", 50_000 if n >= 100_000 else n // 2)
        rows.append(("queue, first page", await timed(client, "GET", "/queue", runs), list(CPU), 50))
        rows.append(("queue, deep page (~50,000 in)",
                     await timed(client, "GET", "/queue", runs, params={"after": deep}),
                     list(CPU), 50))
        deep_p = deep_cursor("priority", 30_000 if n >= 100_000 else n // 3)
        rows.append(("queue, priority sort, deep page",
                     await timed(client, "GET", "/queue", runs,
                                 params={"sort": "priority", "after": deep_p}),
                     list(CPU), 50))
        rows.append(("queue, failing checks + source filter",
                     await timed(client, "GET", "/queue", runs,
                                 params={"failing": "1", "source": "source-07"}),
                     list(CPU), 50))
        rows.append(("queue, search by DOI",
                     await timed(client, "GET", "/queue", runs,
                                 params={"q": "10.5555/bench.4242"}), list(CPU), 50))
        rnd = random.Random(9)
        draft_times, draft_cpu = [], []
        for _ in range(runs):
            draft_times += await timed(client, "GET", f"/drafts/{rnd.randint(1, n)}", 1)
            draft_cpu += CPU
        rows.append(("draft page", draft_times, draft_cpu, 80))
        with app.store.read() as c:
            ids = list(c.execute(sa.text(
                "SELECT id FROM drafts WHERE state='in_review' AND blocking_failures=0 "
                f"LIMIT {runs}")).scalars())
        approve_times, approve_cpu = [], []
        for did in ids:
            approve_times += await timed(
                client, "POST", f"/drafts/{did}/action", 1, expect=303,
                data={"action": "approve", "version": "1", "csrf_token": token})
            approve_cpu += CPU
        rows.append(("approve action", approve_times, approve_cpu, 30))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drafts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--db", help="Reuse (or create) this SQLite file.")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nf-bench-"))
    db = Path(args.db) if args.db else tmp / "bench.db"
    store = Store(f"sqlite:///{db}")
    fresh = not db.exists() or store.current_revision() is None
    store.migrate()
    if fresh:
        t = time.perf_counter()
        populate(store, args.drafts)
        accounts.add_user(store, "erin", "bench-pass-1", "editor")
        print(f"populated {args.drafts:,} drafts in {time.perf_counter() - t:.0f} s")
    settings = load_settings(None, overrides={"data_dir": str(tmp / "data"),
                                              "database_url": store.url}, load_sources=False)
    rows = asyncio.run(bench(App(settings, store=store), args.runs, args.drafts))
    print(f"\n{args.drafts:,} drafts, SQLite, {args.runs} runs each, in-process (ms); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(f"| {'request':40} | wall p50 | wall p95 | CPU p50 | CPU p95 | target p95 |")
    print(f"|{'-' * 42}|----------|----------|---------|---------|------------|")
    for name, xs, cpu, target in rows:
        ok = "ok" if pct(cpu, 0.95) <= target else "MISSED"
        print(f"| {name:40} | {statistics.median(xs):8.1f} | {pct(xs, 0.95):8.1f} | "
              f"{statistics.median(cpu):7.1f} | {pct(cpu, 0.95):7.1f} | ≤{target} {ok} (CPU) |")


if __name__ == "__main__":
    main()
