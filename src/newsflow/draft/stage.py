"""The pipeline stage: draft one relevant paper that has enough facts, and save it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from newsflow.draft.render import Drafter, current_template_version
from newsflow.models import Fact
from newsflow.store import drafts as store_drafts

if TYPE_CHECKING:
    from newsflow.app import App

log = logging.getLogger(__name__)

# The smallest set a reader-facing draft needs: what kind of study, about what, and
# what it found.  Anything less is left for an editor to write by hand.
REQUIRED_ANY = (("design",), ("intervention", "condition"), ("results", "conclusion"))


def has_enough_facts(facts: dict[str, Fact]) -> bool:
    return all(any(name in facts for name in group) for group in REQUIRED_ANY)


def drafter_for(app: App) -> Drafter:
    """One Drafter per App, rebuilt when template or data files change."""
    cached: Drafter | None = app.__dict__.get("_drafter")
    if cached is None or cached.template_version != current_template_version(app.settings):
        cached = Drafter(app.settings)
        app.__dict__["_drafter"] = cached
    return cached


def draft_stage(app: App, paper_id: int) -> dict[str, Any]:
    """Draft ``paper_id``; returns what happened (for run summaries and logs)."""
    paper = store_drafts.load_paper(app.store, paper_id)
    if paper is None:
        return {"paper_id": paper_id, "action": "skipped", "reason": "no such paper"}
    if not paper.is_relevant:
        return {"paper_id": paper_id, "action": "skipped", "reason": "not relevant"}
    if not has_enough_facts(paper.facts):
        return {"paper_id": paper_id, "action": "skipped", "reason": "not enough facts"}
    content = drafter_for(app).draft(paper)
    result = store_drafts.save_generated(app.store, paper_id, content)
    return {"paper_id": paper_id, "action": result.action, "draft_id": result.draft_id,
            "version": result.version}


def run(app: App, paper_id: int) -> None:
    """The pipeline's entry point; a TemplateError propagates so the paper stays pending."""
    result = draft_stage(app, paper_id)
    log.info("draft stage: %s", result)
