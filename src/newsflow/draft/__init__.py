"""Drafting: plain-language article drafts from a paper's facts, with quality checks.

    context.py     facts + metadata → template values (numbers logged for provenance)
    render.py      Jinja templates (site folder first), glossary, template version
    glossary.py    first-use explanations and the acronym check
    numbers.py     number tokens and provenance
    checks.py      the 11 stored checks
    readability.py textstat scores (offline)
    stage.py       the pipeline stage: draft one paper and save it
"""

from __future__ import annotations

from newsflow.draft.render import Drafter

__all__ = ["Drafter"]
