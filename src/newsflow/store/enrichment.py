"""Relevance, editor overrides, enrichment retry state and retraction marks on papers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from newsflow import clock
from newsflow.errors import StoreError
from newsflow.models import PaperRecord, Relevance
from newsflow.store import Store
from newsflow.store.schema import audit_events, paper_sources, papers


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


# --- enrichment retry state ------------------------------------------------------------------

@dataclass
class EnrichState:
    status: str
    attempts: int
    next_at: dt.datetime | None
    error: str | None


def get_enrich_state(store: Store, paper_id: int) -> EnrichState:
    with store.read() as c:
        row = c.execute(sa.select(papers.c.enrich_status, papers.c.enrich_attempts,
                                  papers.c.enrich_next_at, papers.c.enrich_error)
                        .where(papers.c.id == paper_id)).first()
    if row is None:
        raise StoreError(f"paper {paper_id} does not exist")
    return EnrichState(row.enrich_status, int(row.enrich_attempts or 0), row.enrich_next_at,
                       row.enrich_error)


def record_enrich_outcome(store: Store, paper_id: int, *, status: str, error: str | None,
                          attempts: int, next_at: dt.datetime | None) -> None:
    with store.write() as c:
        c.execute(sa.update(papers).where(papers.c.id == paper_id).values(
            enrich_status=status, enrich_error=error, enrich_attempts=attempts,
            enrich_next_at=next_at))


def due_for_enrichment(store: Store, now: dt.datetime, *, limit: int = 100) -> list[int]:
    """Papers waiting for another enrichment attempt whose backoff has run out, oldest first."""
    with store.read() as c:
        rows = c.execute(sa.select(papers.c.id)
                         .where(papers.c.enrich_status == "retry",
                                sa.or_(papers.c.enrich_next_at.is_(None),
                                       papers.c.enrich_next_at <= now))
                         .order_by(papers.c.enrich_next_at, papers.c.id).limit(limit))
        return [int(r.id) for r in rows]


def link_enrichment_records(store: Store, paper_id: int, records: list[PaperRecord]) -> None:
    """Tie each enrichment record to the paper it was fetched for before it is merged.

    The merge then lands on that paper even when the record's identifiers alone would not
    find it (a feed item with no DOI whose landing page gave one).
    """
    now = clock.utcnow()
    with store.write() as c:
        for rec in records:
            exists = c.execute(sa.select(paper_sources.c.id).where(
                paper_sources.c.source == rec.source,
                paper_sources.c.entry_id == rec.entry_id)).first()
            if exists is None:
                c.execute(sa.insert(paper_sources).values(
                    paper_id=paper_id, source=rec.source, entry_id=rec.entry_id,
                    entry_hash=None, first_seen=now, last_seen=now))


# --- retraction and correction marks ---------------------------------------------------------

def set_retraction_marks(store: Store, paper_id: int, *, retracted: bool, corrected: bool,
                         updates: list[dict[str, Any]]) -> bool:
    """Store the marks and notices; True when something changed.  Marks are never removed."""
    with store.write() as c:
        row = c.execute(sa.select(papers.c.retracted, papers.c.corrected, papers.c.updates)
                        .where(papers.c.id == paper_id)).first()
        if row is None:
            raise StoreError(f"paper {paper_id} does not exist")
        values = {"retracted": bool(row.retracted) or retracted,
                  "corrected": bool(row.corrected) or corrected,
                  "updates": updates}
        if (values["retracted"], values["corrected"], values["updates"]) == \
                (bool(row.retracted), bool(row.corrected), list(row.updates or [])):
            return False
        c.execute(sa.update(papers).where(papers.c.id == paper_id)
                  .values(**values, updated_at=clock.utcnow()))
        return True


def get_retraction_banner(store: Store, paper_id: int) -> str | None:
    with store.read() as c:
        return c.execute(sa.select(papers.c.retraction_banner)
                         .where(papers.c.id == paper_id)).scalar()


def set_retraction_banner(store: Store, paper_id: int, banner: str) -> None:
    with store.write() as c:
        c.execute(sa.update(papers).where(papers.c.id == paper_id)
                  .values(retraction_banner=banner))


@dataclass
class RecentPaper:
    id: int
    doi: str | None
    pmid: str | None
    publication_types: list[str]
    updates: list[dict[str, Any]]


def recent_papers(store: Store, since: dt.datetime, *, limit: int = 500) -> list[RecentPaper]:
    """Papers stored since ``since`` with a DOI or PMID, newest first."""
    with store.read() as c:
        rows = c.execute(sa.select(papers.c.id, papers.c.doi, papers.c.pmid,
                                   papers.c.publication_types, papers.c.updates)
                         .where(papers.c.created_at >= since,
                                sa.or_(papers.c.doi.is_not(None), papers.c.pmid.is_not(None)))
                         .order_by(papers.c.created_at.desc(), papers.c.id.desc()).limit(limit))
        return [RecentPaper(int(r.id), r.doi, r.pmid, list(r.publication_types or []),
                            list(r.updates or [])) for r in rows]


@dataclass
class EnrichmentSummary:
    """What enrichment did across the store, for reports (``newsflow demo``)."""

    by_status: dict[str, int]
    # (paper id, title, {field: "enrich:<step>"}) for papers that took fields from a step
    enriched: list[tuple[int, str, dict[str, str]]]


def enrichment_summary(store: Store, *, limit: int = 20) -> EnrichmentSummary:
    with store.read() as c:
        by_status = {str(s): int(n) for s, n in c.execute(
            sa.select(papers.c.enrich_status, sa.func.count()).group_by(papers.c.enrich_status))}
        rows = c.execute(sa.select(papers.c.id, papers.c.title, papers.c.field_sources)
                         .where(papers.c.enrich_status == "done").order_by(papers.c.id))
        enriched = []
        for r in rows:
            taken = {f: s for f, s in (r.field_sources or {}).items()
                     if str(s).startswith("enrich:")}
            if taken:
                enriched.append((int(r.id), r.title, taken))
    return EnrichmentSummary(by_status, enriched[:limit])
