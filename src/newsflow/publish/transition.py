"""The one place publishing moves a draft's state.

Until review.py's transition table lands this is a guarded UPDATE; it will become a
call into review.py so there is only ever one table of allowed transitions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from newsflow.store import publish as db


def mark_published(conn: sa.Connection, draft_id: int, now: dt.datetime) -> bool:
    """approved → published; False if another process got there first."""
    return db.set_draft_published(conn, draft_id, now)
