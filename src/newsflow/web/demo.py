"""What ``newsflow demo`` prints about the review UI: the URL and a working login."""

from __future__ import annotations

import secrets
from pathlib import Path

from newsflow import accounts
from newsflow.app import App
from newsflow.store import review as queue_store
from newsflow.store import users as user_store

DEMO_USER = "demo"


def demo_steps(app: App, directory: Path) -> list[str]:
    """Create (or reset) the demo admin with a fresh random password and say how to log in."""
    password = secrets.token_urlsafe(9)
    if user_store.get_user(app.store, DEMO_USER) is None:
        accounts.add_user(app.store, DEMO_USER, password, "admin")
    else:
        accounts.set_password(app.store, DEMO_USER, password)
        accounts.set_disabled(app.store, DEMO_USER, False)
    counts = queue_store.queue_counts(app.store, max_age=0)
    waiting = sum(counts[s] for s in queue_store.OPEN_STATES)
    host, port = app.settings["web.host"], app.settings["web.port"]
    cfg = app.settings.config_path or directory / "newsflow.toml"
    return [
        f"Review queue ({waiting} drafts waiting): newsflow --config {cfg} serve",
        f"  then open http://{host}:{port}/ and log in as {DEMO_USER} / {password} (admin)",
    ]
