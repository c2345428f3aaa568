"""Re-run the drafting checks on an edited title and body.

The review area calls this when an editor saves: the checks are rebuilt from the paper's
facts (the same context the draft was rendered from) and the derivations logged when the
draft was generated (stored in ``drafts.provenance``), so a number an editor adds must still
map to the paper.
"""

from __future__ import annotations

from typing import Any

from newsflow.draft.checks import run_checks
from newsflow.draft.context import build_context
from newsflow.draft.numbers import Derivations
from newsflow.draft.render import Drafter, source_texts
from newsflow.models import Check, Paper


def recheck(drafter: Drafter, paper: Paper, title: str, body: str,
            provenance: list[dict[str, Any]]) -> tuple[list[Check], dict[str, float]]:
    """(checks, readability) for an edited draft of ``paper``."""
    log = Derivations()
    ctx = build_context(paper, paper.facts, drafter.resources, Derivations())
    for item in provenance:
        if "derivation" in item:
            d = item["derivation"]
            log.log(str(d["text"]), str(d["rule"]), str(d["from"]))
    checks, scores, _ = run_checks(title, body, ctx, drafter.resources,
                                   source_texts(paper, paper.facts) + ctx["reference_texts"],
                                   log)
    return checks, scores
