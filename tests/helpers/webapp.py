"""Run the review web app with uvicorn in a thread on 127.0.0.1, port 0 (a free port)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from newsflow.app import App
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.web import create_app


def make_app(store: Store, data_dir: Path, **overrides: Any) -> App:
    settings = load_settings(None, overrides={"data_dir": str(data_dir),
                                              "database_url": store.url, **overrides},
                             load_sources=False)
    return App(settings, store=store)


@contextmanager
def serve(app: App) -> Iterator[str]:
    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=0, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
