"""Store calls made while ingesting take turns on one thread per store."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from helpers.db import sqlite_url
from newsflow.ingest import db_call
from newsflow.store import Store


def test_store_calls_from_concurrent_sources_take_turns(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}
    names: set[str] = set()

    def work(s: Store, i: int) -> int:
        assert s is store
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            names.add(threading.current_thread().name)
        time.sleep(0.01)
        with lock:
            state["active"] -= 1
        return i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(db_call(store, work, store, i) for i in range(20))))

    assert asyncio.run(main()) == list(range(20))
    assert state["peak"] == 1 and len(names) == 1
    # a second run (a new event loop) reuses the same thread
    assert asyncio.run(main()) == list(range(20)) and len(names) == 1
    store.dispose()
