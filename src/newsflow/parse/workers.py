"""Run parsers in worker processes, so a large run parses on every core.

feedparser is pure Python: in threads, parsing held the GIL and a cold run of 200
feeds used one core while the downloads waited on it (docs/benchmarks.md, ingest).

Each worker is a fresh ``python -P -m newsflow.parse.serve`` that reads pickled
calls on stdin and answers on stdout (pickles only ever pass between a process and
its own child).  Not multiprocessing: a forked worker
inherits every descriptor of its parent (Playwright's driver pipe, the daemon's
sockets) and keeps them open, and a spawned one imports ``__main__`` again (the
whole CLI, or a caller's unguarded script).  These start with nothing but the
parsers, ignore Ctrl-C and SIGTERM (their parent stops them, after in-flight
parses finish), and leave when their parent does, since their stdin closes.

Workers start on the first parse (or, for a run sure to parse, one at its start:
``ParserPool.start``), so a run that only gets 304s never pays for them.  A worker that dies (a crash, the OOM killer) fails that one call with a
reason and is replaced for the next.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from newsflow.errors import ParseError
from newsflow.parse.serve import READY, parse_for_store, recv_obj, send_obj

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_AUTO_PROCESSES = 4
__all__ = ["ParserPool", "WorkerStartError", "parse_for_store", "process_count"]


def process_count(setting: int) -> int:
    """Worker processes for the ``ingest.parse_processes`` setting (-1: one per core)."""
    if setting >= 0:
        return setting
    return max(1, min(MAX_AUTO_PROCESSES, os.cpu_count() or 1))


class WorkerStartError(Exception):
    """A parser process could not start (it could not import newsflow, say)."""


class _Worker:
    def __init__(self) -> None:
        # -P: nothing from the working directory shadows our modules.  The parent's
        # import path goes along, so the worker finds newsflow wherever the parent did.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "newsflow.parse.serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, close_fds=True, env=env)
        assert self.proc.stdout is not None
        try:
            hello = recv_obj(self.proc.stdout)
        except Exception:
            hello = None
        if hello != READY:
            self.close()
            raise WorkerStartError(f"a parser process did not start (exit status "
                                   f"{self.proc.returncode}; its error is on stderr)")

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            send_obj(self.proc.stdin, (fn, args, kwargs))
            ok, value = recv_obj(self.proc.stdout)
        except (EOFError, BrokenPipeError, OSError, pickle.UnpicklingError):
            self.close()
            raise ParseError("the parser process died while reading this response "
                             f"(exit status {self.proc.returncode}; crash or out of memory)") \
                from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class ParserPool:
    """``await pool.run(parse_feed, body, source=...)``; 0 processes parses in a thread.

    One worker process per pool thread, so calls never wait on each other's pipes.  If
    worker processes cannot start at all, parsing falls back to the pool's threads
    (logged once), so a run still completes, on one core.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._threads: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._in_threads = processes <= 0
        self._generation = 0  # bumped by close(): a worker started across it is closed too

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.processes,
                                                   thread_name_prefix="newsflow-parse")
            return self._threads

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.processes <= 0:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(
            self._executor(), self._call, fn, args, kwargs)

    def start(self) -> None:
        """Start a worker process now, without waiting for it.

        For a run that will surely parse: its first worker then starts while the first
        responses are still on their way.  Only one: starting them all at once kept
        both cores of a small machine busy just as those responses came in.  The
        others start as parses queue up.
        """
        if self.processes <= 0:
            return
        self._executor().submit(self._worker)

    def running(self) -> int:
        """How many worker processes are alive."""
        with self._lock:
            return sum(1 for w in self._workers if w.proc.poll() is None)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        worker = self._worker()
        if worker is None:
            return fn(*args, **kwargs)
        return worker.call(fn, args, kwargs)

    def _worker(self) -> _Worker | None:
        """This pool thread's worker process, started if need be; None: parse in threads."""
        if self._in_threads:
            return None
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None or worker.proc.poll() is not None:
            if worker is not None:  # died while idle: free its pipes and reap it
                worker.close()
                with self._lock:
                    if worker in self._workers:
                        self._workers.remove(worker)
            generation = self._generation
            try:
                worker = _Worker()
            except WorkerStartError as e:
                with self._lock:
                    first, self._in_threads = not self._in_threads, True
                if first:
                    log.error("%s; parsing in threads instead", e)
                return None
            with self._lock:
                closed = generation != self._generation
                if not closed:
                    self._workers.append(worker)
            if closed:  # the pool closed while this one started (start() racing close())
                worker.close()
                return None
            self._local.worker = worker
        return worker

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            threads, self._threads = self._threads, None
            workers, self._workers = self._workers, []
        # Workers first: a call stuck in a parser must not hold up shutdown.
        for w in workers:
            w.close()
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
