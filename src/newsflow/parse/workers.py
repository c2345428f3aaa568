"""Run parsers in worker processes, so a large run parses on every core.

feedparser is pure Python: in threads, parsing held the GIL and a cold run of 200
feeds used one core while the downloads waited on it (docs/benchmarks.md, ingest).

Each worker is a fresh ``python -P -m newsflow.parse.workers`` that reads pickled
calls on stdin and answers on stdout (pickles only ever pass between a process and
its own child).  Not multiprocessing: a forked worker
inherits every descriptor of its parent (Playwright's driver pipe, the daemon's
sockets) and keeps them open, and a spawned one imports ``__main__`` again (the
whole CLI, or a caller's unguarded script).  These start with nothing but the
parsers, ignore Ctrl-C and SIGTERM (their parent stops them, after in-flight
parses finish), and leave when their parent does, since their stdin closes.

Workers start on the first parse, so a run that only gets 304s never pays for
them.  A worker that dies (a crash, the OOM killer) fails that one call with a
reason and is replaced for the next.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

from newsflow.errors import ParseError

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_AUTO_PROCESSES = 4
_LEN = struct.Struct("!Q")


def process_count(setting: int) -> int:
    """Worker processes for the ``ingest.parse_processes`` setting (-1: one per core)."""
    if setting >= 0:
        return setting
    return max(1, min(MAX_AUTO_PROCESSES, os.cpu_count() or 1))


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def _recv(stream: IO[bytes]) -> Any:
    return pickle.loads(_recv_bytes(stream))


def _recv_bytes(stream: IO[bytes]) -> bytes:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    size = _LEN.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


READY = "ready"


class WorkerStartError(Exception):
    """A parser process could not start (it could not import newsflow, say)."""


class _Worker:
    def __init__(self) -> None:
        # -P: nothing from the working directory shadows our modules.  The parent's
        # import path goes along, so the worker finds newsflow wherever the parent did.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "newsflow.parse.workers"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, close_fds=True, env=env)
        assert self.proc.stdout is not None
        try:
            hello = _recv(self.proc.stdout)
        except Exception:
            hello = None
        if hello != READY:
            self.close()
            raise WorkerStartError(f"a parser process did not start (exit status "
                                   f"{self.proc.returncode}; its error is on stderr)")

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            _send(self.proc.stdin, (fn, args, kwargs))
            ok, value = _recv(self.proc.stdout)
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

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.processes <= 0:
            return await asyncio.to_thread(fn, *args, **kwargs)
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.processes,
                                                   thread_name_prefix="newsflow-parse")
            threads = self._threads
        return await asyncio.get_running_loop().run_in_executor(
            threads, self._call, fn, args, kwargs)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        if self._in_threads:
            return fn(*args, **kwargs)
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None or worker.proc.poll() is not None:
            if worker is not None:  # died while idle: free its pipes and reap it
                worker.close()
                with self._lock:
                    if worker in self._workers:
                        self._workers.remove(worker)
            try:
                worker = _Worker()
            except WorkerStartError as e:
                with self._lock:
                    first, self._in_threads = not self._in_threads, True
                if first:
                    log.error("%s; parsing in threads instead", e)
                return fn(*args, **kwargs)
            self._local.worker = worker
            with self._lock:
                self._workers.append(worker)
        return worker.call(fn, args, kwargs)

    def close(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, None
            workers, self._workers = self._workers, []
        # Workers first: a call stuck in a parser must not hold up shutdown.
        for w in workers:
            w.close()
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)


def _serve() -> None:
    """The worker's loop: run each call it is sent, answer (ok, value or exception)."""
    # Ctrl-C and systemd's SIGTERM reach the whole process group; the parent decides
    # when we stop (it closes our stdin), so in-flight parses finish during its shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    # Answers go to a private copy of fd 1; fd 1 itself (anything a parser or a C
    # library prints) goes to stderr, so it cannot corrupt them.
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _send(stdout, READY)
    while True:
        try:
            data = _recv_bytes(stdin)
        except EOFError:
            return  # the parent closed the pipe or died
        try:
            fn, args, kwargs = pickle.loads(data)
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as e:
            answer = (False, e if _picklable(e) else ParseError(f"{type(e).__name__}: {e}"))
        _send(stdout, answer)


def _picklable(e: Exception) -> bool:
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:
        return False
    return True


def parse_for_store(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Parse, then prepare the records for storing (``records.prepare``), in the worker."""
    from newsflow.records import prepare_all

    out = fn(*args, **kwargs)
    if isinstance(out, list):
        out[:] = prepare_all(out)
    elif isinstance(getattr(out, "records", None), list):
        out.records[:] = prepare_all(out.records)  # type: ignore[attr-defined]
    return out


if __name__ == "__main__":
    # Import the parsers up front: the first call should not pay for them.
    import newsflow.parse.europepmc
    import newsflow.parse.feeds
    import newsflow.parse.pubmed
    import newsflow.records  # noqa: F401

    _serve()
