"""The publishing step of ``newsflow demo``: approve one draft and publish it.

A draft whose blocking checks all pass is approved as is.  Otherwise the demo plays the
editor: it removes the open EDITOR notes (a real editor fills them in) and says so in the
article, then approves it as an admin override with a reason.  Both steps go through the
same review functions the UI uses, so the audit log shows exactly what the demo did.
"""

from __future__ import annotations

import re
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
DEMO_ADMIN = User(id=0, username="demo-admin", role="admin")
EDITOR_NOTE = re.compile(r"^\[EDITOR \([^)]*\):[^\n]*\]\n?", re.MULTILINE)
DEMO_NOTICE = ("*Demo: `newsflow demo` removed this draft's open editor notes and approved it "
               "with an admin override. A real editor fills those notes in first.*")


def _approve_one(app: App) -> None:
    """Approve the oldest clean waiting draft; failing that, play the editor on the oldest
    waiting draft: edit out its editor notes and approve it with an admin override."""
    clean = db.draft_awaiting_review(app.store, clean_only=True)
    found = clean or db.draft_awaiting_review(app.store, clean_only=False)
    if found is None:
        return
    draft_id, state, version = found
    if state == "new":
        version = review.transition(app.store, draft_id, "start_review", version=version,
                                    actor=DEMO_EDITOR).version
    if clean:
        review.transition(app.store, draft_id, "approve", version=version, actor=DEMO_EDITOR)
        return
    draft = review.load(app.store, draft_id)
    body = EDITOR_NOTE.sub("", draft.body_markdown)
    body = re.sub(r"\n{3,}", "\n\n", body).rstrip() + "\n\n" + DEMO_NOTICE + "\n"
    version = review.edit(app.store, draft_id, version=version, actor=DEMO_EDITOR,
                          title=draft.title, body_markdown=body,
                          checker=review.draft_checker(app)).version
    review.transition(app.store, draft_id, "approve", version=version, actor=DEMO_ADMIN,
                      override_reason="newsflow demo: sample data, shown end to end")


def demo_step(app: App, directory: Path) -> list[str]:
    """Approve one waiting draft (see ``_approve_one``), publish it into ``<directory>/site``
    and say where the files are."""
    from newsflow.app import App

    site = (directory / "site").resolve()
    settings = load_settings(app.settings.config_path, load_sources=False, overrides={
        "publish.output_dir": str(site), "publish.base_url": site.as_uri()})
    demo = App(settings, store=app.store)
    _approve_one(app)
    report = publish_due(demo, deliver=False)
    if not report.published:
        if not db.count_drafts(app.store):
            return ["Publishing: this run made no drafts, so there is nothing to approve or "
                    "publish yet."]
        return ["Publishing: the demo could not publish a draft; see `newsflow queue list`."]
    a = report.published[0]
    out = [f"Published draft {a.draft_id}: {a.title}"]
    for path in db.article_paths(app.store, a.draft_id):
        out.append(f"  {site / path}")
    out.append(f"  Atom feed: {report.feed_path}")
    return out
