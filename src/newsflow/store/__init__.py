"""The only module that talks to the database.

``Store`` is assembled from one mixin per area (papers, sources, drafts, …) so
each file stays small; all of them share ``read()`` and ``write()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from newsflow.errors import StoreError
from newsflow.store.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration's revision.  Checking it needs no Alembic import (a tenth of a
# second on every command); tests/test_store_schema.py keeps it equal to Alembic's head.
SCHEMA_REVISION = "0001"
# Most values one IN (...) list carries: well under every backend's bound-parameter limit.
IN_CHUNK = 500


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``, for IN lists."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """The dialect's own INSERT (for ON CONFLICT), importing only that dialect's module:
    SQLAlchemy's PostgreSQL package alone took a tenth of a SQLite run's start-up."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql
        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite
    return sqlite.insert(table)


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class StoreBase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    def _alembic_config(self) -> Config:
        from alembic.config import Config
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["engine"] = self.engine
        return cfg

    def migrate(self) -> tuple[str | None, str]:
        """Create the schema or bring it up to date; returns (old, new) revisions."""
        from alembic import command
        before = self.current_revision()
        command.upgrade(self._alembic_config(), "head")
        return before, self.head_revision()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            found = sorted(versions)
        if len(found) > 1:
            raise StoreError(f"the database has several schema revisions ({', '.join(found)})")
        return found[0] if found else None

    def head_revision(self) -> str:
        """The newest revision among the migration scripts (reads them; see SCHEMA_REVISION)."""
        from alembic.script import ScriptDirectory
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def check_schema(self) -> None:
        current = self.current_revision()
        if current != SCHEMA_REVISION:
            state = "has no schema" if current is None else f"is at revision {current}"
            raise StoreError(f"the database {state}; run 'newsflow init' to create or migrate it")

    def dispose(self) -> None:
        self.engine.dispose()


class Store(StoreBase):
    """All database access.  Mixins are added here as areas land."""


def open_store(url: str, *, migrate: bool = False) -> Store:
    store = Store(url)
    if migrate:
        store.migrate()
    return store
