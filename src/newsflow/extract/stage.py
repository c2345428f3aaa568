"""The pipeline stage: extract one paper's facts and store them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from newsflow.extract import EXTRACTOR_VERSION, ConditionIndex, DrugIndex, extract_facts
from newsflow.store import drafts as store_drafts
from newsflow.store import facts as store_facts

if TYPE_CHECKING:
    from newsflow.app import App

log = logging.getLogger(__name__)


def indexes_for(app: App) -> tuple[DrugIndex, ConditionIndex]:
    """The drug and condition lists, read once per App."""
    cached: tuple[DrugIndex, ConditionIndex] | None = app.__dict__.get("_extract_indexes")
    if cached is None:
        cached = (DrugIndex.load(app.settings), ConditionIndex.load(app.settings))
        app.__dict__["_extract_indexes"] = cached
    return cached


def extract_stage(app: App, paper_id: int) -> dict[str, Any]:
    """Extract and store ``paper_id``'s facts; returns what happened."""
    paper = store_drafts.load_paper(app.store, paper_id)
    if paper is None:
        return {"paper_id": paper_id, "action": "skipped", "reason": "no such paper"}
    drugs, conditions = indexes_for(app)
    found = extract_facts(paper, drugs, conditions)
    store_facts.save_facts(app.store, paper_id, found, EXTRACTOR_VERSION)
    return {"paper_id": paper_id, "action": "extracted", "facts": sorted(found),
            "extractor_version": EXTRACTOR_VERSION}


def run(app: App, paper_id: int) -> None:
    """The pipeline's entry point: a broken paper raises, so it stays pending with its reason."""
    log.info("extract stage: %s", extract_stage(app, paper_id))
