"""Generated drafts: create, re-render and read.  Plain functions taking a ``Store``.

This module only writes *generated* content.  Editing, transitions and the review queue
live in the review area's own store module; the one rule shared with it is that a draft
with ``human_edited`` set is never overwritten here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from newsflow.clock import iso, utcnow
from newsflow.models import AbstractSection, Author, DraftContent, Fact, Paper, Relevance
from newsflow.store import Store
from newsflow.store.schema import audit_events, draft_versions, drafts, facts, papers

SYSTEM = "newsflow"  # the actor name the review area uses for automatic changes
SaveAction = Literal["created", "unchanged", "rerendered", "kept_human_edit"]


@dataclass(frozen=True)
class SaveResult:
    draft_id: int
    version: int
    action: SaveAction


def _content_row(content: DraftContent) -> dict[str, Any]:
    return {
        "template_name": content.template_name,
        "template_version": content.template_version,
        "title": content.title,
        "body_markdown": content.body_markdown,
        "checks": [c.to_json() for c in content.checks],
        "readability": content.readability,
        "provenance": content.provenance,
        "blocking_failures": sum(1 for c in content.checks if c.blocking and not c.passed),
    }


def save_generated(store: Store, paper_id: int, content: DraftContent) -> SaveResult:
    """Create the paper's draft, or re-render it if nobody edited it and the text changed.

    Same paper + same template version + same text → nothing is written (idempotent).
    """
    now = utcnow()
    row = _content_row(content)
    with store.write() as conn:
        cur = conn.execute(sa.select(drafts.c.id, drafts.c.version, drafts.c.human_edited,
                                     drafts.c.template_version, drafts.c.title,
                                     drafts.c.body_markdown)
                           .where(drafts.c.paper_id == paper_id)).first()
        if cur is None:
            draft_id = conn.execute(drafts.insert().values(
                paper_id=paper_id, state="new", version=1, created_at=now, updated_at=now,
                **row).returning(drafts.c.id)).scalar_one()
            _add_version(conn, draft_id, 1, "auto", row, now)
            _audit(conn, draft_id, "created", 1, row, now)
            return SaveResult(draft_id, 1, "created")
        if cur.human_edited:
            return SaveResult(cur.id, cur.version, "kept_human_edit")
        if (cur.template_version == row["template_version"] and cur.title == row["title"]
                and cur.body_markdown == row["body_markdown"]):
            return SaveResult(cur.id, cur.version, "unchanged")
        version = cur.version + 1
        # The version guard makes a concurrent re-render or edit lose cleanly, not interleave.
        updated = conn.execute(drafts.update()
                               .where(drafts.c.id == cur.id, drafts.c.version == cur.version,
                                      drafts.c.human_edited == sa.false())
                               .values(version=version, updated_at=now, **row)).rowcount
        if not updated:
            return SaveResult(cur.id, cur.version, "kept_human_edit")
        _add_version(conn, cur.id, version, "rerender", row, now)
        _audit(conn, cur.id, "rerendered", version, row, now)
        return SaveResult(cur.id, version, "rerendered")


def _audit(conn: sa.Connection, draft_id: int, action: str, version: int,
           row: dict[str, Any], now: Any) -> None:
    conn.execute(audit_events.insert().values(
        draft_id=draft_id, actor=SYSTEM, action=action, version=version, created_at=now,
        detail={"template": row["template_name"],
                "template_version": row["template_version"]}))


def _add_version(conn: sa.Connection, draft_id: int, version: int, kind: str,
                 row: dict[str, Any], now: Any) -> None:
    conn.execute(draft_versions.insert().values(
        draft_id=draft_id, version=version, kind=kind, title=row["title"],
        body_markdown=row["body_markdown"], checks=row["checks"],
        readability=row["readability"], template_version=row["template_version"],
        author=SYSTEM, created_at=now))


def resolve_draft_id(store: Store, ident: str | int) -> int | None:
    """A draft id, paper id, DOI or PMID → draft id.

    Prefixes make it explicit ("draft:3", "paper:12", "pmid:38763967", "doi:10.1/x");
    a bare number is tried as draft id, then paper id, then PMID.
    """
    text = str(ident).strip()
    m = re.match(r"^(draft|paper|pmid|doi):\s*(.+)$", text, re.I)
    kind, value = (m.group(1).lower(), m.group(2).strip()) if m else (None, text)
    if kind is None and ("/" in value or value.lower().startswith("10.")):
        kind = "doi"
    if kind == "doi":
        value = re.sub(r"^https?://(dx\.)?doi\.org/", "", value, flags=re.I).lower()
    with store.read() as conn:
        def by_paper(cond: Any) -> int | None:
            return conn.execute(sa.select(drafts.c.id).join(papers, papers.c.id ==
                                                            drafts.c.paper_id)
                                .where(cond)).scalar()

        if kind == "doi":
            return by_paper(sa.func.lower(papers.c.doi) == value)
        if kind == "pmid":
            return by_paper(papers.c.pmid == value)
        if not value.isdigit():
            return None
        n = int(value)
        if kind in (None, "draft"):
            found = conn.execute(sa.select(drafts.c.id).where(drafts.c.id == n)).scalar()
            if found is not None or kind == "draft":
                return found
        if kind in (None, "paper"):
            found = conn.execute(sa.select(drafts.c.id).where(drafts.c.paper_id == n)).scalar()
            if found is not None or kind == "paper":
                return found
        return by_paper(papers.c.pmid == value)


def get_draft(store: Store, draft_id: int) -> dict[str, Any] | None:
    """The draft as `newsflow drafts show --json` prints it."""
    with store.read() as conn:
        r = conn.execute(sa.select(drafts, papers.c.doi, papers.c.pmid, papers.c.title
                                   .label("paper_title"))
                         .join(papers, papers.c.id == drafts.c.paper_id)
                         .where(drafts.c.id == draft_id)).mappings().first()
    if r is None:
        return None
    return {
        "id": r["id"],
        "paper": {"id": r["paper_id"], "doi": r["doi"], "pmid": r["pmid"],
                  "title": r["paper_title"]},
        "state": r["state"],
        "version": r["version"],
        "template_name": r["template_name"],
        "template_version": r["template_version"],
        "title": r["title"],
        "body_markdown": r["body_markdown"],
        "checks": list(r["checks"]),
        "readability": dict(r["readability"]),
        "blocking_failures": r["blocking_failures"],
        "human_edited": bool(r["human_edited"]),
        "created_at": iso(r["created_at"]),
        "updated_at": iso(r["updated_at"]),
    }


def list_versions(store: Store, draft_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(sa.select(draft_versions).where(draft_versions.c.draft_id == draft_id)
                            .order_by(draft_versions.c.version)).mappings().all()
    return [{"version": r["version"], "kind": r["kind"], "title": r["title"],
             "template_version": r["template_version"], "author": r["author"],
             "created_at": iso(r["created_at"])} for r in rows]


def load_paper(store: Store, paper_id: int) -> Paper | None:
    """The paper with its stored facts, as the drafting stage needs it."""
    with store.read() as conn:
        r = conn.execute(sa.select(papers).where(papers.c.id == paper_id)).mappings().first()
        if r is None:
            return None
        fact_rows = conn.execute(sa.select(facts).where(facts.c.paper_id == paper_id)
                                 ).mappings().all()
    rel = r["relevance"]
    paper = Paper(
        id=r["id"], title=r["title"] or "",
        abstract_sections=[AbstractSection(s.get("label"), s.get("text", ""))
                           for s in r["abstract_sections"] or []],
        doi=r["doi"], pmid=r["pmid"], pmcid=r["pmcid"],
        authors=[Author(**a) for a in r["authors"] or []],
        journal=r["journal"], journal_abbrev=r["journal_abbrev"], volume=r["volume"],
        issue=r["issue"], pages=r["pages"], pub_date=r["pub_date"],
        publication_types=list(r["publication_types"] or []),
        mesh_terms=list(r["mesh_terms"] or []), keywords=list(r["keywords"] or []),
        coi_statement=r["coi_statement"], grants=list(r["grants"] or []), url=r["url"],
        language=r["language"], is_preprint=bool(r["is_preprint"]),
        retracted=bool(r["retracted"]), corrected=bool(r["corrected"]),
        relevance=Relevance(**rel) if rel else None,
        relevance_override=r["relevance_override"], enrich_status=r["enrich_status"])
    paper.facts = {f["name"]: Fact(name=f["name"], value=f["value"], normalized=f["normalized"],
                                   confidence=f["confidence"],
                                   span=(f["span_start"], f["span_end"]), sentence=f["sentence"])
                   for f in fact_rows}
    return paper
