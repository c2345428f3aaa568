"""Parsing in worker processes: results, a dying worker, and workers of a killed parent."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
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
        with pytest.raises(ModuleNotFoundError):
            await pool.run(_local_function)
        # the broken pool was replaced: the next parse works
        again = await pool.run(parse_feed, body, source="s")
        assert [r.title for r in again.records] == [r.title for r in parsed.records]

    try:
        asyncio.run(go())
    finally:
        pool.close()


def _local_function() -> None:
    """Lives in this test module, which worker processes cannot import."""


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
