"""Relevance, editor overrides, enrichment retry state and retraction marks on papers."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from newsflow import clock
from newsflow.errors import StoreError
from newsflow.models import Relevance
from newsflow.store import Store
from newsflow.store.schema import audit_events, papers


def relevance_to_json(rel: Relevance) -> dict[str, Any]:
    return {"relevant": rel.relevant, "score": rel.score, "reasons": list(rel.reasons),
            "population": rel.population}


def relevance_from_json(data: dict[str, Any] | None) -> Relevance | None:
    if not data:
        return None
    return Relevance(relevant=bool(data.get("relevant")), score=float(data.get("score", 0.0)),
                     reasons=list(data.get("reasons", [])),
                     population=data.get("population", "unknown"))


def save_relevance(store: Store, paper_id: int, rel: Relevance) -> None:
    """Store the classifier's decision; an editor's override is left as it is."""
    with store.write() as c:
        n = c.execute(sa.update(papers).where(papers.c.id == paper_id).values(
            relevance=relevance_to_json(rel), relevant=rel.relevant,
            updated_at=clock.utcnow())).rowcount
    if n == 0:
        raise StoreError(f"paper {paper_id} does not exist")


def get_relevance(store: Store, paper_id: int) -> tuple[Relevance | None, bool | None]:
    """(the classifier's decision, the editor's override) for one paper."""
    with store.read() as c:
        row = c.execute(sa.select(papers.c.relevance, papers.c.relevance_override)
                        .where(papers.c.id == paper_id)).first()
    if row is None:
        raise StoreError(f"paper {paper_id} does not exist")
    return relevance_from_json(row.relevance), row.relevance_override


def set_relevance_override(store: Store, paper_id: int, value: bool | None, *,
                           actor: str = "cli", reason: str | None = None) -> None:
    """Promote (True), demote (False) or clear (None) the editor's relevance decision.

    The change is written to the audit log with who made it and why.
    """
    now = clock.utcnow()
    with store.write() as c:
        old = c.execute(sa.select(papers.c.relevance_override)
                        .where(papers.c.id == paper_id)).first()
        if old is None:
            raise StoreError(f"paper {paper_id} does not exist")
        c.execute(sa.update(papers).where(papers.c.id == paper_id)
                  .values(relevance_override=value, updated_at=now))
        action = {True: "paper_promoted", False: "paper_demoted", None: "paper_override_cleared"}
        c.execute(sa.insert(audit_events).values(
            draft_id=None, actor=actor, action=action[value],
            detail={"paper_id": paper_id, "from": old.relevance_override, "to": value,
                    "reason": reason},
            created_at=now))


_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


def find_paper_id(store: Store, ref: str) -> int | None:
    """A paper's internal id from an id, a DOI (bare, doi: or https://doi.org/) or a PMID."""
    ref = ref.strip()
    m = _DOI.match(ref)
    with store.read() as c:
        if m:
            row = c.execute(sa.select(papers.c.id)
                            .where(sa.func.lower(papers.c.doi) == m.group(1).lower())).first()
            return row.id if row else None
        pmid = ref[5:].strip() if ref.lower().startswith("pmid:") else None
        if pmid is None and ref.isdigit():
            row = c.execute(sa.select(papers.c.id).where(papers.c.id == int(ref))).first()
            if row:
                return int(row.id)
            pmid = ref
        if pmid:
            row = c.execute(sa.select(papers.c.id).where(papers.c.pmid == pmid)).first()
            return row.id if row else None
    return None
