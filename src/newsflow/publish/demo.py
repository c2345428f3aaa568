"""The publishing step of ``newsflow demo``: approve one clean draft and publish it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsflow import review
from newsflow.models import User
from newsflow.publish.run import publish_due
from newsflow.settings import load_settings
from newsflow.store import publish as db

if TYPE_CHECKING:
    from newsflow.app import App

DEMO_EDITOR = User(id=0, username="demo-editor", role="editor")


def demo_step(app: App, directory: Path) -> list[str]:
    """Approve the first draft whose blocking checks all pass, publish it into
    ``<directory>/site`` and say where the files are.  A draft with a failing blocking
    check is never approved here: that needs a person."""
    from newsflow.app import App

    site = (directory / "site").resolve()
    settings = load_settings(app.settings.config_path, load_sources=False, overrides={
        "publish.output_dir": str(site), "publish.base_url": site.as_uri()})
    demo = App(settings, store=app.store)
    found = db.clean_draft_awaiting_review(app.store)
    if found is not None:
        draft_id, state, version = found
        if state == "new":
            version = review.transition(app.store, draft_id, "start_review", version=version,
                                        actor=DEMO_EDITOR).version
        review.transition(app.store, draft_id, "approve", version=version, actor=DEMO_EDITOR)
    report = publish_due(demo, deliver=False)
    if not report.published:
        if not db.count_drafts(app.store):
            return ["Publishing: this run made no drafts, so there is nothing to approve or "
                    "publish yet."]
        return ["Publishing: no draft passed every blocking check, so nothing was approved or "
                "published; review drafts with `newsflow queue list`."]
    a = report.published[0]
    out = [f"Published draft {a.draft_id}: {a.title}"]
    for path in db.article_paths(app.store, a.draft_id):
        out.append(f"  {site / path}")
    out.append(f"  Atom feed: {report.feed_path}")
    return out
