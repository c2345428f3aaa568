"""Realistic papers and drafts for review tests and the review benchmark.

Papers and facts are inserted directly (the ingest and extract stages own those writes);
drafts go through ``store.review.create_draft`` like the drafting stage's output.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from newsflow.clock import utcnow
from newsflow.models import AbstractSection, Check, DraftContent, abstract_text
from newsflow.store import Store
from newsflow.store.review import create_draft
from newsflow.store.schema import drafts, facts, paper_sources, papers, sources

YAN_SECTIONS = [
    AbstractSection("Background", "Atopic dermatitis (AD) of the face and neck often persists "
                    "in patients treated with dupilumab."),
    AbstractSection("Methods", "Six patients aged 12 to 35 years with face and neck AD "
                    "unresponsive to dupilumab received upadacitinib 15 mg once daily for 12 "
                    "weeks."),
    AbstractSection("Results", "Eczema Area and Severity Index (EASI) scores improved "
                    "significantly by week 4. At week 12, all 6 patients achieved EASI-75 and "
                    "3 of 6 (50%) achieved EASI-90. No adverse events were reported."),
    AbstractSection("Conclusions", "Upadacitinib may be an effective option for face and neck "
                    "AD that does not respond to dupilumab."),
]

YAN_BODY = """A report of 6 people whose eczema on the face and neck did not improve with \
dupilumab (Dupixent) suggests that upadacitinib (Rinvoq) may help.

## What did the study find?

Everyone took 15 mg of upadacitinib once a day for 12 weeks. By week 4 their eczema \
scores had improved. At week 12, all 6 people had at least a 75% drop in their eczema score, \
and 3 of 6 had a 90% drop.

## Is it safe?

No side effects were reported, but a study this small and short cannot rule out uncommon \
side effects.

## What are the limits?

This was a small study with no comparison group. [EDITOR: cost and availability]
"""

YAN_CHECKS = [
    Check("number_provenance", True, True, "every number maps to the abstract"),
    Check("design_and_n", True, True, "case series, 6 people"),
    Check("hype_words", True, True, "none found"),
    Check("readability", True, False, "grade 7.4"),
    Check("editor_slots", False, True, "open: [EDITOR: cost and availability]"),
]

_NUM = re.compile(r"\d+(?:\.\d+)?%?")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in re.finditer(r"(?<=[.!?])\s+|\n", text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def provenance_for(body: str, abstract: str) -> list[dict[str, Any]]:
    """Each number in the body → the first abstract sentence holding the same number."""
    out = []
    spans = sentence_spans(abstract)
    for m in _NUM.finditer(body):
        token = m.group().rstrip("%")
        for s, e in spans:
            if re.search(rf"(?<![\d.]){re.escape(token)}(?![\d.])", abstract[s:e]):
                out.append({"number": m.group(), "start": m.start(), "end": m.end(),
                            "source_start": s, "source_end": e, "sentence": abstract[s:e]})
                break
    return out


@dataclass
class Seeded:
    paper_id: int
    draft_id: int


def add_source(store: Store, name: str, kind: str = "feed", **health: Any) -> None:
    with store.write() as c:
        c.execute(sources.insert().values(name=name, kind=kind, created_at=utcnow(), **health))


def add_paper(store: Store, *, title: str, sections: list[AbstractSection] | None = None,
              doi: str | None = None, pmid: str | None = None, design: str | None = None,
              relevant: bool | None = True, source: str | None = None,
              journal: str = "Journal of Dermatological Treatment",
              created_at: dt.datetime | None = None) -> int:
    now = created_at or utcnow()
    secs = sections if sections is not None else YAN_SECTIONS
    with store.write() as c:
        pid = c.execute(papers.insert().values(
            doi=doi, pmid=pmid, title=title,
            abstract_sections=[{"label": s.label, "text": s.text} for s in secs],
            authors=[{"name": "Yan Y"}, {"name": "Zhu H"}], journal=journal,
            pub_date="2023-08-01", publication_types=["Letter"], mesh_terms=[], keywords=[],
            grants=[], updates=[], field_sources={}, relevant=relevant,
            relevance={"relevant": relevant, "score": 0.9, "reasons": ["dermatology journal"]},
            design=design, evidence_level="L4" if design == "case_series" else None,
            created_at=now, updated_at=now)).inserted_primary_key[0]
        if source:
            c.execute(paper_sources.insert().values(paper_id=pid, source=source,
                                                    entry_id=f"{source}-{pid}",
                                                    first_seen=now, last_seen=now))
    return int(pid)


def add_facts(store: Store, paper_id: int, sections: list[AbstractSection]) -> None:
    abstract = abstract_text(sections)
    wanted = {"sample_size": "Six patients", "dose": "15 mg", "duration": "12 weeks",
              "outcome": "3 of 6 (50%) achieved EASI-90"}
    with store.write() as c:
        for name, value in wanted.items():
            i = abstract.find(value)
            if i < 0:
                continue
            sent = next((abstract[s:e] for s, e in sentence_spans(abstract) if s <= i < e), value)
            c.execute(facts.insert().values(paper_id=paper_id, name=name, value=value,
                                            normalized=None, confidence=0.9, span_start=i,
                                            span_end=i + len(value), sentence=sent))


def yan_content(title: str = "Eczema pill helped face and neck eczema in a small study",
                body: str = YAN_BODY, checks: list[Check] | None = None) -> DraftContent:
    return DraftContent(title=title, body_markdown=body, template_name="case_series",
                        template_version="1", checks=list(checks or YAN_CHECKS),
                        readability={"fkgl": 7.4},
                        provenance=provenance_for(body, abstract_text(YAN_SECTIONS)))


def seed_draft(store: Store, *, title: str = "Upadacitinib for face and neck atopic dermatitis",
               draft_title: str | None = None, doi: str | None = "10.1080/09546634.2023.2242540",
               pmid: str | None = "37558231", state: str = "in_review",
               checks: list[Check] | None = None, design: str | None = "case_series",
               relevant: bool | None = True, source: str | None = "jdt-feed",
               priority: int = 0, created_at: dt.datetime | None = None,
               assignee: str | None = None, with_facts: bool = True,
               sections: list[AbstractSection] | None = None,
               body: str = YAN_BODY) -> Seeded:
    pid = add_paper(store, title=title, doi=doi, pmid=pmid, design=design, relevant=relevant,
                    source=source, created_at=created_at, sections=sections)
    if with_facts:
        add_facts(store, pid, sections if sections is not None else YAN_SECTIONS)
    content = yan_content(title=draft_title or f"Small study: {title}", body=body,
                          checks=checks)
    did = create_draft(store, pid, content, state=state, priority=priority,
                       created_at=created_at, assignee=assignee)
    return Seeded(pid, did)


PASSING = [Check("number_provenance", True, True, "every number maps to the abstract"),
           Check("hype_words", True, True, "none found"),
           Check("readability", False, False, "grade 9.1 (target 8)")]


def count_rows(store: Store, table: sa.Table) -> int:
    with store.read() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, but with test-sized cost: the shared CI box is busy."""
    from argon2 import PasswordHasher

    from newsflow import accounts
    monkeypatch.setattr(accounts, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(accounts, "_dummy", {})


def ingest_feed_for_review(app: Any, url: str, source: str) -> list[int]:
    """Ingest a feed over HTTP through the real ingest path, then queue a draft for each
    paper it stored, built from the paper's own (untrusted) title and abstract text.
    Returns the draft ids."""
    import asyncio
    import threading

    from newsflow.models import SourceConfig
    from newsflow.pipeline import run_sources_async
    from newsflow.store import sources as store_sources

    cfg = SourceConfig(name=source, kind="feed", url=url)
    store_sources.sync_sources(app.store, [cfg])
    # Its own thread: Playwright's sync API already runs an event loop in this one.
    worker = threading.Thread(target=lambda: asyncio.run(run_sources_async(app, [cfg])))
    worker.start()
    worker.join(60)
    with app.store.read() as c:
        rows = c.execute(sa.select(papers.c.id, papers.c.title, papers.c.abstract_sections)
                         .join(paper_sources, paper_sources.c.paper_id == papers.c.id)
                         .where(paper_sources.c.source == source)
                         .order_by(papers.c.id)).all()
    out = []
    for pid, title, sections in rows:
        text = abstract_text([AbstractSection(x.get("label"), x.get("text", ""))
                              for x in sections or []])
        draft = DraftContent(title=title or f"Untitled entry from {source}",
                             body_markdown=f"{title}\n\n{text}\n",
                             template_name="feed_item", template_version="1",
                             checks=[Check("hype_words", True, True, "none found")])
        out.append(create_draft(app.store, pid, draft, state="in_review"))
    return out


def seed_generated(store: Store, app: Any, *, state: str = "in_review",
                   doi: str = "10.1080/09546634.2023.2242540", pmid: str = "37558231",
                   created_at: dt.datetime | None = None) -> Seeded:
    """The six-patient case series drafted by the real drafting stage from stored facts."""
    import json
    from pathlib import Path

    from newsflow.draft.stage import draft_stage
    from newsflow.review import transition

    rec = json.loads((Path(__file__).resolve().parent.parent / "data"
                      / "yan2023_case_series.json").read_text())
    p = rec["paper"]
    now = utcnow()
    with store.write() as c:
        pid = c.execute(papers.insert().values(
            doi=doi, pmid=pmid, title=p["title"], abstract_sections=p["abstract_sections"],
            authors=p["authors"], journal=p["journal"], volume=p.get("volume"),
            issue=p.get("issue"), pub_date=p.get("pub_date"),
            publication_types=p["publication_types"], mesh_terms=[], keywords=[], grants=[],
            updates=[], field_sources={}, relevance=p["relevance"], relevant=True,
            design="case_series", evidence_level="4", created_at=now,
            updated_at=now)).inserted_primary_key[0]
        for name, f in rec["facts"].items():
            c.execute(facts.insert().values(
                paper_id=pid, name=name, value=f["value"], normalized=f["normalized"],
                confidence=f["confidence"], span_start=f["span"][0], span_end=f["span"][1],
                sentence=f["sentence"]))
    result = draft_stage(app, int(pid))
    draft_id = int(result["draft_id"])
    if created_at:
        with store.write() as c:
            c.execute(drafts.update().where(drafts.c.id == draft_id)
                      .values(created_at=created_at))
    if state == "in_review":
        from newsflow.models import User
        transition(store, draft_id, "start_review", version=1,
                   actor=User(id=0, username="newsflow", role="editor"))
    return Seeded(int(pid), draft_id)
