"""Ingest benchmark: 200 journal feeds, 100 ms latency each, cold and warm runs.

    /work/venv/bin/python benchmarks/ingest_feeds.py [--feeds 200] [--latency 0.1]

Serves ``--feeds`` generated eTOC feeds (benchmarks/feedgen.py, 10-40 entries,
RSS 2.0 and RSS 1.0, DOIs, 1-2 KB abstracts) from ``--hosts`` local servers
(publishers host many journals each), every response delayed by ``--latency``.
Then, each in its own subprocess so CPU and peak RSS are that run's alone
(``os.wait4``):

- seq:  ``feedparser.parse(url)`` over every feed, one after another;
- cold: the real ingest path (``newsflow.pipeline.run_sources``) on an empty
  SQLite database;
- warm: the same again; every feed answers 304.

Targets (issue #2): cold ≥ 10× faster than seq in wall time; warm CPU ≤ 20% of
cold CPU; peak RSS ≤ 300 MB.  Wall time is the run itself (imports excluded,
for both seq and cold); CPU is the whole child process, imports included, and
the newsflow children exit as the ``newsflow`` command does (``skip_final_gc``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Another checkout's code can be measured with the same harness (branch comparisons).
SRC = Path(os.environ.get("NEWSFLOW_BENCH_SRC") or REPO / "src")
sys.path[:0] = [str(SRC), str(REPO / "tests"), str(REPO)]


# -- children -------------------------------------------------------------------


def child_seq(urls: list[str]) -> dict[str, Any]:
    import feedparser

    t0 = time.perf_counter()
    entries = failed = 0
    for url in urls:
        d = feedparser.parse(url)
        entries += len(d.entries)
        failed += int(not d.entries)
    return {"wall": time.perf_counter() - t0, "entries": entries, "failed": failed}


def child_fetch_only(config: str) -> dict[str, Any]:
    """Before newsflow.pipeline exists: Fetcher + feedparser, validators kept in a file."""
    import asyncio
    import io

    import feedparser

    from newsflow.http import Fetcher
    from newsflow.settings import load_settings

    settings = load_settings(config)
    state_file = Path(config).with_name("validators.json")
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    counts = {"fetched": 0, "not_modified": 0, "failed": 0, "entries_seen": 0}

    async def one(f: Fetcher, url: str) -> None:
        etag, modified = state.get(url, (None, None))
        r = await f.get(url, etag=etag, last_modified=modified)
        counts[{"ok": "fetched"}.get(r.status, r.status)] += 1
        if r.status == "ok":
            state[url] = (r.etag, r.last_modified)
            d = feedparser.parse(io.BytesIO(r.body), response_headers=r.headers)
            counts["entries_seen"] += len(d.entries)

    async def run() -> None:
        async with Fetcher.from_settings(settings) as f:
            await asyncio.gather(*(one(f, s.url or "") for s in settings.sources))

    t0 = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - t0
    state_file.write_text(json.dumps(state))
    new = counts["entries_seen"]
    return {"wall": wall, "sources": len(settings.sources), **counts, "papers_new": new,
            "papers_updated": 0, "errors": []}


def child_ingest(config: str) -> dict[str, Any]:
    from newsflow.app import App, skip_final_gc
    try:
        from newsflow.pipeline import run_sources
    except ImportError:
        return child_fetch_only(config)

    app = App.from_config(config)
    skip_final_gc()  # exit as the newsflow command does (cli.main)
    profile = os.environ.get("NEWSFLOW_BENCH_PROFILE")
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    setup_cpu = time.process_time()  # interpreter, imports, config: before the timed run
    t0 = time.perf_counter()
    report = run_sources(app, all=True, process=False).to_json()
    wall = time.perf_counter() - t0
    if profile:
        prof.disable()
        n = len(list(Path(profile).parent.glob(Path(profile).name + "*")))
        prof.dump_stats(f"{profile}.{n}")
    app.close()  # joins the parser processes, so their CPU shows in RUSAGE_CHILDREN
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    keys = ("sources", "fetched", "not_modified", "failed", "entries_seen", "papers_new",
            "papers_updated")
    out = {k: report[k] for k in keys}
    errors = sorted({r["error"] for r in report["source_results"] if r.get("error")})
    return {"wall": wall, **out, "errors": errors[:3],
            "cpu_main": own.ru_utime + own.ru_stime, "cpu_setup": setup_cpu, "cpu_parsers": kids.ru_utime + kids.ru_stime,
            "rss_parser_mb": kids.ru_maxrss / 1024}


def run_child(mode: str, arg: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEWSFLOW_") or k.startswith("NEWSFLOW_BENCH_")}
    env["PYTHONPATH"] = str(SRC)
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, arg],
                            stdout=subprocess.PIPE, env=env, cwd=REPO)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{mode} child failed with status {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["cpu"] = usage.ru_utime + usage.ru_stime
    result["user"], result["sys"] = usage.ru_utime, usage.ru_stime
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


# -- parent ---------------------------------------------------------------------


def write_config(tmp: Path, urls: list[str], extra: list[str] | None = None) -> Path:
    sources = "".join(f'[[source]]\nname = "journal-{i:03d}"\nkind = "feed"\nurl = "{u}"\n'
                      f'every = "1h"\n\n' for i, u in enumerate(urls))
    (tmp / "sources.toml").write_text(sources)
    cfg = tmp / "newsflow.toml"
    cfg.write_text(f'database_url = "sqlite:///{tmp / "bench.db"}"\n'
                   f'sources_file = "{tmp / "sources.toml"}"\ndata_dir = "{tmp}"\n')
    for item in extra or []:  # --set section.key=value
        name, value = item.split("=", 1)
        section, key = name.split(".", 1)
        cfg.write_text(cfg.read_text() + f"[{section}]\n{key} = {value}\n")
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--hosts", type=int, default=25)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--skip-seq", action="store_true", help="skip the slow sequential baseline")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="a newsflow setting for the cold and warm runs (TOML value)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, arg = args.child
        res = child_seq(json.loads(Path(arg).read_text())) if mode == "seq" \
            else child_ingest(arg)
        print(json.dumps(res))
        return

    from benchmarks.feedgen import journal_feeds
    from helpers.server import CorpusServer
    from newsflow.store import Store

    feeds = journal_feeds(args.feeds, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="nf-bench-") as tmpname:
        tmp = Path(tmpname)
        servers = [CorpusServer(root=tmp) for _ in range(args.hosts)]
        for s in servers:
            s.default_delay = args.latency
            s.__enter__()
        try:
            urls = []
            for i, f in enumerate(feeds):
                ctype = "application/rss+xml" if f.fmt == "rss2" else "application/rdf+xml"
                urls.append(servers[i % len(servers)].add(f.path, f.body, content_type=ctype))
            (tmp / "urls.json").write_text(json.dumps(urls))
            cfg = write_config(tmp, urls, args.set)
            store = Store(f"sqlite:///{tmp / 'bench.db'}")
            store.migrate()
            store.dispose()
            results: dict[str, dict[str, Any]] = {}
            if not args.skip_seq:
                results["seq"] = run_child("seq", str(tmp / "urls.json"))
            for name in ("cold", "warm"):
                before = time.process_time()  # this process serves the feeds
                results[name] = run_child("ingest", str(cfg))
                results[name]["server_cpu"] = time.process_time() - before
            hits = sum(len(s.requests) for s in servers)
        finally:
            for s in servers:
                s.__exit__(None, None, None)
    report(args, feeds, results, hits)


def report(args: argparse.Namespace, feeds: list[Any], results: dict[str, dict[str, Any]],
           hits: int) -> None:
    entries = sum(f.entries for f in feeds)
    size = sum(len(f.body) for f in feeds)
    print(f"{len(feeds)} feeds on {args.hosts} hosts, {entries} entries, "
          f"{size / 1e6:.1f} MB, {args.latency * 1000:.0f} ms latency; "
          f"{os.cpu_count()} CPUs; {hits} requests served")
    print()
    print("| run | wall s | CPU s (user+sys) | peak RSS MB | result |")
    print("|---|---:|---:|---:|---|")
    for name, r in results.items():
        if name == "seq":
            what = f"{r['entries']} entries, {r['failed']} empty"
        else:
            parsers = (f", peak {r['rss_parser_mb']:.0f} MB" if r['cpu_parsers'] else "")
            what = (f"main {r['cpu_main']:.2f} s (of it {r['cpu_setup']:.2f} s start-up) + parsers {r['cpu_parsers']:.2f} s CPU{parsers} "
                    f"(feed server {r['server_cpu']:.2f} s); fetched {r['fetched']}, 304 {r['not_modified']}, failed {r['failed']}, "
                    f"entries {r['entries_seen']}, new {r['papers_new']}")
        print(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} ({r['user']:.2f}+{r['sys']:.2f}) "
              f"| {r['rss_mb']:.0f} | {what} |")
    for name, r in results.items():
        if r.get("errors"):
            print(f"{name} errors: {r['errors']}")
    print()
    cold, warm = results["cold"], results["warm"]
    checks = []
    if "seq" in results:
        speedup = results["seq"]["wall"] / cold["wall"]
        checks.append((f"cold is {speedup:.1f}x faster than sequential feedparser", speedup >= 10))
    share = warm["cpu"] / cold["cpu"]
    checks.append((f"warm CPU is {share:.0%} of cold CPU", share <= 0.20))
    peak = max(r["rss_mb"] for r in results.values() if r is not results.get("seq"))
    checks.append((f"peak RSS of newsflow runs {peak:.0f} MB", peak <= 300))
    checks.append((f"cold run stored {cold['papers_new']} of {entries} entries",
                   cold["papers_new"] == entries and cold["failed"] == 0))
    checks.append((f"warm run: {warm['not_modified']} of {len(feeds)} not modified, "
                   f"{warm['papers_new']} new", warm["not_modified"] == len(feeds)
                   and warm["papers_new"] == 0))
    for text, ok in checks:
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")


if __name__ == "__main__":
    main()
