"""The one place publishing moves a draft's state: through review.py's transition table."""

from __future__ import annotations

from newsflow import review
from newsflow.errors import StaleVersionError, TransitionError
from newsflow.models import User
from newsflow.store import Store

# The publish job acts as a system editor in the audit log.
PUBLISHER = User(id=0, username="newsflow", role="editor")


def mark_published(store: Store, draft_id: int, version: int) -> bool:
    """approved → published; False if the draft moved on (another daemon won, or an editor
    changed it since ``version`` was read)."""
    try:
        review.transition(store, draft_id, "publish", version=version, actor=PUBLISHER)
    except (TransitionError, StaleVersionError):
        return False
    return True
