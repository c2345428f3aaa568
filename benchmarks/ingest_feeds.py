"""Ingest benchmark: 200 journal-sized feeds served locally with 100 ms latency each.

Measures, in one run:
  * a sequential loop of ``feedparser.parse(url)`` over the same server (the baseline),
  * a cold ``run_sources`` (empty database: fetch, parse, merge, store),
  * a warm ``run_sources`` (every feed answers 304),
  * the ingest process's CPU time (user + sys) per phase and its peak RSS.

The ingest phases run in a child process so their CPU and memory are not mixed with the
server's or the baseline's.  All feeds are on one local host, standing in for 200
publishers, so the per-host limit is raised to the global one for the benchmark.

    python benchmarks/ingest_feeds.py [--feeds 200] [--latency 0.1] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

WORDS = ["psoriasis", "atopic", "dermatitis", "eczema", "melanoma", "acne", "vitiligo", "urticaria", "hidradenitis", "biologic", "topical", "randomized", "trial", "patients", "placebo", "week", "efficacy", "safety", "skin", "clearance", "itch", "severity", "index", "score", "adverse", "events", "cohort", "treatment", "response"]


def make_feed(i: int, rng: random.Random) -> bytes:
    n = rng.randint(10, 40)
    items = []
    for j in range(n):
        doi = f"10.5555/bench.{i}.{j}"
        title = " ".join(rng.choice(WORDS) for _ in range(10)).capitalize()
        abstract = " ".join(rng.choice(WORDS) for _ in range(180))
        authors = "".join(f"<dc:creator>Author{k} Surname{i}x{j}x{k}</dc:creator>"
                          for k in range(rng.randint(2, 6)))
        items.append(
            f"<item><title>{title}</title><link>https://journal{i}.example/doi/{doi}</link>"
            f'<guid isPermaLink="false">{doi}</guid><description><![CDATA[<p>{abstract}</p>]]>'
            f"</description>{authors}<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate>"
            f"<prism:doi>{doi}</prism:doi><prism:volume>{i}</prism:volume></item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"><channel>'
            f"<title>Journal {i}</title><link>https://journal{i}.example/</link>"
            f"<description>eTOC</description>{''.join(items)}</channel></rss>").encode()


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(urls_file: str, db_url: str, workdir: str) -> None:
    from helpers.config import write_config
    from newsflow.app import App
    from newsflow.pipeline import run_sources
    from newsflow.settings import load_settings
    from newsflow.store import Store

    urls = json.loads(Path(urls_file).read_text())
    sources = [{"name": f"journal-{i}", "kind": "feed", "url": u} for i, u in enumerate(urls)]
    cfg = write_config(Path(workdir), db_url, sources, **{
        "http.concurrency": 20, "http.per_host_concurrency": 20, "http.retries": 0})
    store = Store(db_url)
    store.migrate()
    app = App(load_settings(cfg), store=store)
    out = {}
    for phase in ("cold", "warm"):
        c0, t0 = cpu(), time.perf_counter()
        report = run_sources(app, all=True, process=False).to_json()
        out[phase] = {"wall": time.perf_counter() - t0, "cpu": cpu() - c0,
                      "fetched": report["fetched"], "not_modified": report["not_modified"],
                      "failed": report["failed"], "entries": report["entries_seen"],
                      "new": report["papers_new"]}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.dispose()
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    import feedparser

    from helpers.server import CorpusServer

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, CorpusServer(Path(tmp)) as server:
        server.default_delay = args.latency
        urls = [server.add(f"/feed/{i}.rss", make_feed(i, rng),
                           content_type="application/rss+xml") for i in range(args.feeds)]
        t0, c0 = time.perf_counter(), cpu()
        entries = sum(len(feedparser.parse(u).entries) for u in urls)
        base_wall, base_cpu = time.perf_counter() - t0, cpu() - c0
        urls_file = Path(tmp) / "urls.json"
        urls_file.write_text(json.dumps(urls))
        db = args.db or f"sqlite:///{tmp}/bench.db"
        proc = subprocess.run([sys.executable, __file__, "--child", str(urls_file), db,
                               str(Path(tmp) / "cfg")], capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            sys.exit(proc.stderr)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    cold, warm = res["cold"], res["warm"]
    print(f"{args.feeds} feeds, {entries} entries, {args.latency * 1000:.0f} ms latency each, "
          f"database {'SQLite' if not args.db else args.db.split(':')[0]}")
    print(f"{'phase':<34}{'wall s':>9}{'CPU s':>9}  notes")
    print(f"{'sequential feedparser.parse(url)':<34}{base_wall:>9.2f}{base_cpu:>9.2f}")
    print(f"{'newsflow run, cold':<34}{cold['wall']:>9.2f}{cold['cpu']:>9.2f}  "
          f"{cold['fetched']} fetched, {cold['new']} new papers, {cold['failed']} failed")
    print(f"{'newsflow run, warm (all 304)':<34}{warm['wall']:>9.2f}{warm['cpu']:>9.2f}  "
          f"{warm['not_modified']} not modified")
    print(f"cold speed-up over sequential: {base_wall / cold['wall']:.1f}x (target >= 10x)")
    print(f"warm CPU / cold CPU: {warm['cpu'] / cold['cpu'] * 100:.0f}% (target <= 20%)")
    print(f"peak RSS of the ingest process: {res['peak_rss_mb']:.0f} MB (target <= 300 MB)")


if __name__ == "__main__":
    main()
