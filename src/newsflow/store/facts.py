"""Extracted study facts: one row per (paper, fact name), plus the paper's design columns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from newsflow import clock
from newsflow.errors import StoreError
from newsflow.models import Fact
from newsflow.store import Store
from newsflow.store.schema import facts, papers


def save_facts(store: Store, paper_id: int, found: dict[str, Fact], version: str) -> None:
    """Replace the paper's facts with ``found`` in one transaction.

    Facts a new extractor no longer finds are removed, so stale values never linger;
    papers.design, evidence_level and extractor_version follow the new set.
    """
    design = found.get("design")
    level = found.get("evidence_level")
    with store.write() as c:
        n = c.execute(sa.update(papers).where(papers.c.id == paper_id).values(
            design=design.normalized if design else None,
            evidence_level=level.normalized if level else None,
            extractor_version=version, updated_at=clock.utcnow())).rowcount
        if n == 0:
            raise StoreError(f"paper {paper_id} does not exist")
        c.execute(sa.delete(facts).where(facts.c.paper_id == paper_id))
        if found:
            c.execute(sa.insert(facts), [
                {"paper_id": paper_id, "name": name, "value": f.value,
                 "normalized": f.normalized, "confidence": f.confidence,
                 "span_start": f.span[0], "span_end": f.span[1], "sentence": f.sentence,
                 "extractor_version": version}
                for name, f in found.items()])


def load_facts(store: Store, paper_id: int) -> dict[str, Fact]:
    with store.read() as c:
        rows = c.execute(sa.select(facts).where(facts.c.paper_id == paper_id)
                         .order_by(facts.c.id)).mappings().all()
    return {r["name"]: fact_from_row(r) for r in rows}


def fact_from_row(r: Any) -> Fact:
    return Fact(name=r["name"], value=r["value"], normalized=r["normalized"],
                confidence=r["confidence"], span=(r["span_start"], r["span_end"]),
                sentence=r["sentence"])


def stale_paper_ids(store: Store, version: str, limit: int = 1000) -> list[int]:
    """Papers whose facts came from another extractor version (or were never extracted)."""
    with store.read() as c:
        rows = c.execute(sa.select(papers.c.id).where(
            sa.or_(papers.c.extractor_version.is_(None),
                   papers.c.extractor_version != version))
            .order_by(papers.c.id).limit(limit)).all()
    return [r[0] for r in rows]


def extractor_version(store: Store, paper_id: int) -> str | None:
    with store.read() as c:
        return c.execute(sa.select(papers.c.extractor_version)
                         .where(papers.c.id == paper_id)).scalar()


def recent_with_facts(store: Store, limit: int = 5) -> list[tuple[int, str, dict[str, Fact]]]:
    """Papers whose study design was found, with their facts (for summaries such as the
    demo's): dermatology papers first, then in the order they arrived."""
    derm_first = sa.case((papers.c.relevant.is_(True), 0), else_=1)
    with store.read() as c:
        heads = c.execute(sa.select(papers.c.id, papers.c.title)
                          .where(papers.c.design.is_not(None))
                          .order_by(derm_first, papers.c.id).limit(limit)).all()
        ids = [h[0] for h in heads]
        rows = c.execute(sa.select(facts).where(facts.c.paper_id.in_(ids))
                         .order_by(facts.c.id)).mappings().all() if ids else []
    found: dict[int, dict[str, Fact]] = {i: {} for i in ids}
    for r in rows:
        found[r["paper_id"]][r["name"]] = fact_from_row(r)
    return [(pid, title, found[pid]) for pid, title in heads]
