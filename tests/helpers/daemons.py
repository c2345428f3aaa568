"""Run real ``newsflow daemon`` processes against generated feeds, and compare end states.

Used by the daemon tests and by benchmarks/daemon_scaleout.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from helpers.server import CorpusServer
from newsflow.store import Store
from newsflow.store.schema import drafts, leases, paper_sources, papers, sources

SRC = Path(__file__).resolve().parents[2] / "src"


def feed_xml(feed: int, items: int, *, shared_with_next: int = 1) -> str:
    """An RSS 2.0 feed whose last ``shared_with_next`` items also open feed ``feed + 1``,
    so the same paper arrives from two sources."""
    entries = []
    own = [(feed, i) for i in range(items - shared_with_next)]
    prev = [(feed - 1, items - shared_with_next + i) for i in range(shared_with_next)] \
        if feed > 0 else []
    for f, i in prev + own + [(feed, items - shared_with_next + i)
                              for i in range(shared_with_next)]:
        doi = f"10.5555/nf.{f}.{i}"
        entries.append(
            f"<item><title>Topical treatment {f}-{i} for atopic dermatitis</title>"
            f"<link>https://doi.org/{doi}</link><guid>https://doi.org/{doi}</guid>"
            f"<prism:doi>{doi}</prism:doi>"
            f"<description>In this trial of {100 + i} adults with eczema, itch improved."
            f"</description><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"><channel>'
            f"<title>Journal {feed}</title><link>https://example.org/j{feed}</link>"
            f"<description>eTOC</description>{''.join(entries)}</channel></rss>")


def serve_feeds(server: CorpusServer, n: int, items: int = 3) -> list[tuple[str, str]]:
    """Register ``n`` feeds (or replace their content); returns (source name, url) pairs."""
    return [(f"Journal {k:03d}", server.add(f"/feeds/{k}.xml", feed_xml(k, items),
                                           content_type="application/rss+xml"))
            for k in range(n)]


def _table(values: dict[str, Any]) -> str:
    return "".join(f'{k} = "{v}"\n' if isinstance(v, str) else
                   f"{k} = {str(v).lower() if isinstance(v, bool) else v!r}\n"
                   for k, v in values.items())


def write_config(tmp: Path, db_url: str, feeds: Iterable[tuple[str, str]], *,
                 every: str = "2s", daemon: dict[str, Any] | None = None,
                 http: dict[str, Any] | None = None) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    src = "".join(f'[[source]]\nname = "{name}"\nkind = "feed"\nurl = "{url}"\n'
                  f'every = "{every}"\n\n' for name, url in feeds)
    (tmp / "sources.toml").write_text(src)
    d = {"jitter": 0.1, "lease_seconds": 3, "tick": 1, "shutdown_timeout": 5.0,
         "misfire_grace": 5, **(daemon or {})}
    h = {"retries": 0, "timeout": 5.0, "total_timeout": 10.0, "per_host_concurrency": 16,
         **(http or {})}
    site = tmp / "site"
    cfg = tmp / "newsflow.toml"
    cfg.write_text(f'database_url = "{db_url}"\ndata_dir = "{tmp}"\n'
                   f'sources_file = "sources.toml"\nlog_format = "json"\n\n'
                   f"[http]\n{_table(h)}\n[daemon]\n{_table(d)}\n"
                   f'[publish]\noutput_dir = "{site}"\n\n'
                   # The generated DOIs are not real: never look them up online.
                   "[enrich]\nenabled = false\n")
    return cfg


def env() -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def newsflow(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsflow", "--config", str(config), *args],
                          env=env(), capture_output=True, text=True, timeout=timeout)


def start_daemon(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "newsflow", "--config", str(config),
                                 "daemon", *args], env=env(), stdout=fh, stderr=fh)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> float:
    """Send ``sig`` and wait; returns the seconds the process took to exit."""
    t0 = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    return time.monotonic() - t0


def wait_for(cond: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(every)
    return cond()


def state(store: Store) -> dict[str, Any]:
    """The end state that must not depend on crashes: papers, their sources, drafts,
    and each source's conditional-GET validators; no ids or timestamps."""
    with store.read() as c:
        ps = sorted((r.doi, r.title, r.content_hash, r.processed_hash == r.content_hash)
                    for r in c.execute(sa.select(papers)))
        links = sorted((r.doi, r.source, r.entry_id) for r in c.execute(
            sa.select(papers.c.doi, paper_sources.c.source, paper_sources.c.entry_id)
            .join(papers, papers.c.id == paper_sources.c.paper_id)))
        ds = sorted((r.doi, r.state, r.title) for r in c.execute(
            sa.select(papers.c.doi, drafts.c.state, drafts.c.title)
            .join(papers, papers.c.id == drafts.c.paper_id)))
        srcs = sorted((r.name, r.etag, r.consecutive_failures) for r in c.execute(
            sa.select(sources)))
    return {"papers": ps, "links": links, "drafts": ds, "sources": srcs}


def live_leases(store: Store) -> list[str]:
    with store.read() as c:
        return [r.key for r in c.execute(sa.select(leases.c.key, leases.c.expires_at))
                if r.expires_at > _now()]


def _now() -> Any:
    from newsflow.clock import utcnow
    return utcnow()


def _daemon_child(config: str, log: str, overrides: dict[str, Any]) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    # pytest replaced sys.stdout/sys.stderr with its capture objects; log to the file.
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    # Undo the parent's (pytest's) signal set-up; the daemon installs its own.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    from newsflow import daemon
    from newsflow.app import App
    code = daemon.run(App.from_config(config, overrides=overrides or None))
    os._exit(code)


def fork_daemon(config: Path, log: Path, **overrides: Any) -> Any:
    """Start a daemon in a forked child of this (already imported) process.

    A fresh ``python -m newsflow`` pays several seconds of imports on a busy machine;
    forking makes kill/restart trials cheap.  The child is a real process: signals,
    ``kill -9`` and exit codes behave exactly as for the CLI.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_daemon_child, args=(str(config), str(log), overrides), daemon=False)
    p.start()
    return p


def wait_started(log: Path, count: int = 1, timeout: float = 60) -> bool:
    return wait_for(lambda: log.exists() and
                    log.read_text(errors="replace").count('"daemon_started"') >= count,
                    timeout)


def signal_process(p: Any, sig: int, timeout: float = 15) -> float:
    """Send ``sig`` to a forked daemon and wait for it; seconds until it exited."""
    t0 = time.monotonic()
    os.kill(p.pid, sig)
    p.join(timeout)
    if p.is_alive():
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        raise AssertionError(f"daemon {p.pid} ignored signal {sig} for {timeout}s")
    return time.monotonic() - t0
