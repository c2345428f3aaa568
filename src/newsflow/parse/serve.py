"""The parser worker process: ``python -P -m newsflow.parse.serve`` (parse/workers.py).

It reads pickled calls on stdin and answers on a private copy of stdout.  Kept
apart from the pool, with few imports: a run's first worker starts while its first
downloads are in flight, on the same cores.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import IO, Any, TypeVar

from newsflow.errors import ParseError

T = TypeVar("T")
_LEN = struct.Struct("!Q")


def send_obj(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def recv_obj(stream: IO[bytes]) -> Any:
    return pickle.loads(recv_bytes(stream))


def recv_bytes(stream: IO[bytes]) -> bytes:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    size = _LEN.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


READY = "ready"


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
    send_obj(stdout, READY)
    while True:
        try:
            data = recv_bytes(stdin)
        except EOFError:
            return  # the parent closed the pipe or died
        try:
            fn, args, kwargs = pickle.loads(data)
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as e:
            answer = (False, e if _picklable(e) else ParseError(f"{type(e).__name__}: {e}"))
        send_obj(stdout, answer)


def _picklable(e: Exception) -> bool:
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:
        return False
    return True


def parse_for_store(fn: Callable[..., T] | str, *args: Any, **kwargs: Any) -> T:
    """Parse, then prepare the records for storing (``records.prepare``), in the worker.

    ``fn`` may be named, as "module:function" in newsflow.parse: the parent process
    then never imports the parsers (feedparser and the rest) it does not run.
    """
    from newsflow.records import prepare_all

    if isinstance(fn, str):
        module, _, name = fn.partition(":")
        if not module.startswith("newsflow.parse."):
            raise ValueError(f"not a newsflow parser: {fn}")
        fn = getattr(importlib.import_module(module), name)
    assert callable(fn)
    out = fn(*args, **kwargs)
    if isinstance(out, list):
        out[:] = prepare_all(out)
    elif isinstance(getattr(out, "records", None), list):
        out.records[:] = prepare_all(out.records)  # type: ignore[attr-defined]
    return out


if __name__ == "__main__":
    # The feed parser, which most calls want, up front: the first call should not pay for
    # it.  The API parsers load on first use; every worker starting with them cost a run
    # of feeds 50 ms of CPU while its first downloads were arriving.
    import newsflow.parse.feeds
    import newsflow.records  # noqa: F401

    _serve()
