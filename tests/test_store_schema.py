from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsflow.errors import StoreError
from newsflow.store import SCHEMA_REVISION, Store


def test_schema_revision_constant_is_alembics_head(store: Store) -> None:
    # A new migration must bump SCHEMA_REVISION, or every command would refuse the
    # migrated database (or accept an old one).
    assert store.head_revision() == SCHEMA_REVISION
    assert store.current_revision() == SCHEMA_REVISION
    store.check_schema()


def test_check_schema_names_the_fix_for_empty_and_old_databases(db_url: str) -> None:
    s = Store(db_url)
    try:
        with pytest.raises(StoreError, match="has no schema; run 'newsflow init'"):
            s.check_schema()
        s.migrate()
        with s.write() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(StoreError, match="is at revision 0000; run 'newsflow init'"):
            s.check_schema()
    finally:
        s.dispose()
