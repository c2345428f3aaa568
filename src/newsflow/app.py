"""The application object the CLI, the web app and the daemon share.

It owns the settings and opens the store lazily, so ``--help`` and
``config show`` work without a database.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from newsflow.parse.workers import ParserPool, process_count
from newsflow.settings import Settings, load_settings
from newsflow.store import Store


def skip_final_gc() -> None:
    """Let this process exit without the interpreter's last garbage collections.

    They walk everything imported (SQLAlchemy, httpx, ...): 60 ms of CPU at the end
    of every command, for memory the OS takes back anyway.  The ``newsflow``
    command calls this; atexit handlers and flushes still run.
    """
    atexit.register(gc.freeze)


class App:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        if store is not None:
            self.__dict__["store"] = store

    @classmethod
    def from_config(cls, config_path: str | Path | None = None,
                    overrides: Mapping[str, Any] | None = None) -> App:
        return cls(load_settings(config_path, overrides=overrides))

    @cached_property
    def store(self) -> Store:
        store = Store(self.settings.database_url)
        store.check_schema()
        return store

    @cached_property
    def parsers(self) -> ParserPool:
        return ParserPool(process_count(self.settings["ingest.parse_processes"]))

    def open_store_for_init(self) -> Store:
        store = Store(self.settings.database_url)
        self.__dict__["store"] = store
        return store

    def close(self) -> None:
        parsers = self.__dict__.pop("parsers", None)
        if parsers is not None:
            parsers.close()
        store = self.__dict__.get("store")
        if store is not None:
            store.dispose()
