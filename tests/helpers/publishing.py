"""Fixture rows for publishing tests: papers, facts, drafts, users and sources.

Rows are written straight into the tables so these tests do not depend on the
drafting or review code; the values are what those stages store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsflow.app import App
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store.schema import drafts, facts, papers, sources, users

T0 = dt.datetime(2026, 11, 20, 9, 30, 0)

BODY = """Struggling with eczema on the face and neck? A small study suggests upadacitinib may help.

## What did the study find?

Six people took **15 mg** of upadacitinib daily for 12 weeks. All six had at least a 75% drop in their symptom score.

## How strong is the evidence?

This was a case series, so the evidence is early.
"""


def make_app(store: Store, out: Path, **overrides: Any) -> App:
    values = {"publish.output_dir": str(out), "publish.base_url": "https://news.example.org/skin",
              **overrides}
    return App(load_settings(overrides=values, environ={}, load_sources=False), store=store)


def add_paper(store: Store, *, doi: str | None = "10.1080/09546634.2023.2242540",
              pmid: str | None = "37548209", journal: str | None = "Journal of Dermatological Treatment",
              evidence_level: str | None = "4", condition: str | None = "atopic dermatitis",
              drug: str | None = "upadacitinib", now: dt.datetime = T0) -> int:
    with store.write() as c:
        pid = c.execute(sa.insert(papers).values(
            doi=doi, pmid=pmid, title="Upadacitinib in face and neck atopic dermatitis",
            abstract_sections=[], authors=[], journal=journal, publication_types=[],
            mesh_terms=[], keywords=[], grants=[], updates=[], field_sources={},
            evidence_level=evidence_level, created_at=now, updated_at=now,
        )).inserted_primary_key[0]
        for name, value in (("condition", condition), ("intervention", drug)):
            if value:
                c.execute(sa.insert(facts).values(
                    paper_id=pid, name=name, value=value.title(), normalized=value,
                    confidence=0.9, span_start=0, span_end=10, sentence="..."))
    return int(pid)


def add_draft(store: Store, paper_id: int, *, state: str = "approved",
              title: str = "Upadacitinib may ease stubborn eczema on the face and neck",
              body: str = BODY, approved_by: str | None = "erin",
              embargo_until: dt.datetime | None = None, assignee: str | None = None,
              now: dt.datetime = T0) -> int:
    with store.write() as c:
        return int(c.execute(sa.insert(drafts).values(
            paper_id=paper_id, state=state, version=1, template_name="treatment",
            template_version="t1", title=title, body_markdown=body, checks=[], readability={},
            provenance=[], assignee=assignee, embargo_until=embargo_until,
            approved_by=approved_by if state in ("approved", "published") else None,
            approved_at=now if state == "approved" else None, created_at=now, updated_at=now,
        )).inserted_primary_key[0])


def set_draft(store: Store, draft_id: int, **values: Any) -> None:
    with store.write() as c:
        c.execute(sa.update(drafts).where(drafts.c.id == draft_id).values(**values))


def set_paper(store: Store, paper_id: int, **values: Any) -> None:
    with store.write() as c:
        c.execute(sa.update(papers).where(papers.c.id == paper_id).values(**values))


def draft_state(store: Store, draft_id: int) -> str:
    with store.read() as c:
        return str(c.execute(sa.select(drafts.c.state).where(drafts.c.id == draft_id)).scalar())


def add_user(store: Store, username: str, *, role: str = "editor", email: str | None = None,
             disabled: bool = False) -> None:
    with store.write() as c:
        c.execute(sa.insert(users).values(username=username, password_hash="x", role=role,
                                          email=email, disabled=disabled, created_at=T0))


def add_source(store: Store, name: str, **values: Any) -> None:
    with store.write() as c:
        c.execute(sa.insert(sources).values(name=name, kind="feed", created_at=T0, **values))


def split_front_matter(text: str) -> tuple[str, str]:
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return head, body
