"""Parsing in worker processes: results, a dying worker, and workers of a killed parent."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from helpers.server import corpus_dir
from newsflow.errors import ParseError
from newsflow.parse.feeds import parse_feed
from newsflow.parse.workers import ParserPool, process_count


def test_parses_in_another_process_and_survives_a_dying_worker() -> None:
    body = (corpus_dir() / "feeds/feedparser_example_atom10.xml").read_bytes()
    pool = ParserPool(2)

    async def go() -> None:
        parsed = await pool.run(parse_feed, body, source="s")
        assert parsed.records[0].title == "First entry title"
        assert await pool.run(os.getpid) != os.getpid()
        with pytest.raises(ParseError, match="parser process died"):
            await pool.run(os._exit, 3)
        # a call the worker cannot even unpickle is an error, not a dead worker
        with pytest.raises(ValueError, match="not a number"):
            await pool.run(len, _Unloadable())
        assert await pool.run(len, b"abc") == 3
        # output written straight to fd 1 in a worker cannot corrupt its answers
        assert await pool.run(os.write, 1, b"noise from a C library\n") == 23
        assert await pool.run(len, b"abcd") == 4
        # the broken pool was replaced: the next parse works
        again = await pool.run(parse_feed, body, source="s")
        assert [r.title for r in again.records] == [r.title for r in parsed.records]

    try:
        asyncio.run(go())
    finally:
        pool.close()


class _Unloadable:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (int, ("not a number",))  # fails when the worker unpickles it


def test_zero_processes_parses_in_a_thread_and_auto_uses_the_cores() -> None:
    pool = ParserPool(0)
    assert asyncio.run(pool.run(os.getpid)) == os.getpid()
    pool.close()
    assert process_count(0) == 0 and process_count(3) == 3
    assert 1 <= process_count(-1) <= 4


def _parent(conn: multiprocessing.connection.Connection) -> None:
    pool = ParserPool(2)

    async def pids() -> set[int]:
        await asyncio.gather(*(pool.run(time.sleep, 0.3) for _ in range(2)))  # start both
        return set(await asyncio.gather(*(pool.run(os.getpid) for _ in range(4))))

    conn.send(sorted(asyncio.run(pids())))
    time.sleep(60)  # killed long before this ends


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" in status.read_text()  # exited, not yet reaped by init
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch processes")
def test_workers_leave_when_their_parent_is_killed() -> None:
    ctx = multiprocessing.get_context("fork")  # the parent; the pool makes its own workers
    ours, theirs = ctx.Pipe()
    parent = ctx.Process(target=_parent, args=(theirs,))
    parent.start()
    try:
        assert ours.poll(20), "the pool never answered"
        workers = ours.recv()
        assert workers and parent.pid not in workers
        assert not any(_gone(p) for p in workers)
    finally:
        os.kill(parent.pid or 0, signal.SIGKILL)
        parent.join()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(p) for p in workers):
        time.sleep(0.1)
    assert all(_gone(p) for p in workers), f"orphaned parser processes {workers} still run"


def test_workers_ignore_ctrl_c_and_sigterm_of_the_process_group() -> None:
    # A terminal's Ctrl-C and systemd's SIGTERM reach every process of the group; the
    # daemon then finishes in-flight polls, so their parses must not die under them.
    pool = ParserPool(1)

    async def go() -> None:
        pid = await pool.run(os.getpid)
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.2)
        assert await pool.run(os.getpid) == pid  # same worker, still serving

    try:
        asyncio.run(go())
    finally:
        pool.close()


def test_a_worker_that_cannot_start_falls_back_to_threads(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits before saying "ready"
    pool = ParserPool(2)
    try:
        assert asyncio.run(pool.run(os.getpid)) == os.getpid()
        assert asyncio.run(pool.run(len, b"abcd")) == 4
    finally:
        pool.close()
    assert [r.getMessage() for r in caplog.records].count(
        "a parser process did not start (exit status 1; its error is on stderr); "
        "parsing in threads instead") == 1


def _live_parser_children() -> list[int]:
    out = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"newsflow.parse.serve" in cmd and not _gone(int(pid)):
                out.append(int(pid))
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch processes")
def test_a_worker_started_as_the_pool_closes_does_not_outlive_it() -> None:
    before = set(_live_parser_children())
    pool = ParserPool(2)
    pool.start()  # a worker starting on a pool thread while the pool closes
    pool.close()
    assert pool.running() == 0
    assert set(_live_parser_children()) <= before


def test_the_parent_process_does_not_import_the_parsers() -> None:
    """Ingest names its parsers ("module:function") and their results live apart
    (parse/results.py), so a run's main process never loads feedparser and co."""
    import subprocess

    code = ("import pickle, sys\n"
            "import newsflow.app, newsflow.ingest, newsflow.pipeline\n"
            "from newsflow.parse.results import FeedParse, SearchPage, SearchResult\n"
            "pickle.loads(pickle.dumps([FeedParse([]), SearchPage([]), SearchResult([])]))\n"
            "print(sorted(m for m in sys.modules if m == 'feedparser' or m in (\n"
            "    'newsflow.parse.feeds', 'newsflow.parse.pubmed', 'newsflow.parse.europepmc')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
