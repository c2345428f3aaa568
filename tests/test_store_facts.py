import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsflow import clock
from newsflow.app import App
from newsflow.errors import StoreError
from newsflow.extract import EXTRACTOR_VERSION
from newsflow.extract.stage import extract_stage
from newsflow.models import Fact
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import facts as store_facts
from newsflow.store.schema import papers


def _paper(store: Store) -> int:
    now = clock.utcnow()
    with store.write() as c:
        return c.execute(sa.insert(papers).values(
            title="Upadacitinib for facial atopic dermatitis", abstract_sections=[], authors=[],
            publication_types=["Letter"], mesh_terms=[], keywords=[], grants=[], updates=[],
            field_sources={}, created_at=now, updated_at=now)).inserted_primary_key[0]


def test_save_replaces_facts_and_sets_paper_columns(store: Store) -> None:
    pid = _paper(store)
    first = {
        "design": Fact("design", "case series (text)", "case_series", 0.75, (0, 40), "x" * 40),
        "evidence_level": Fact("evidence_level", "OCEBM level 4", "L4", 0.7, (0, 40), "x" * 40),
        "dose": Fact("dose", "15 mg", [{"amount": 15, "unit": "mg"}], 0.75, (41, 60), "y"),
    }
    store_facts.save_facts(store, pid, first, "1.0")
    got = store_facts.load_facts(store, pid)
    assert got["dose"].normalized == [{"amount": 15, "unit": "mg"}]
    assert got["design"].span == (0, 40)
    with store.read() as c:
        row = c.execute(sa.select(papers.c.design, papers.c.evidence_level,
                                  papers.c.extractor_version).where(papers.c.id == pid)).one()
    assert tuple(row) == ("case_series", "L4", "1.0")
    assert store_facts.stale_paper_ids(store, "1.0") == []
    assert store_facts.stale_paper_ids(store, "1.1") == [pid]

    # A later run that no longer finds the dose removes it, and the design columns follow.
    store_facts.save_facts(store, pid, {"sample_size": Fact("sample_size", "6 patients", 6, 0.8,
                                                            (5, 9), "abcd")}, "1.1")
    got = store_facts.load_facts(store, pid)
    assert list(got) == ["sample_size"] and got["sample_size"].normalized == 6
    with store.read() as c:
        row = c.execute(sa.select(papers.c.design, papers.c.extractor_version)
                        .where(papers.c.id == pid)).one()
    assert tuple(row) == (None, "1.1")


def test_saving_for_a_missing_paper_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="paper 999 does not exist"):
        store_facts.save_facts(store, 999, {}, "1.0")


def test_extract_stage_stores_the_facts_of_a_real_abstract(store: Store) -> None:
    rec = next(r for r in map(json.loads, (Path(__file__).parent / "data" / "eval" /
                                           "records.jsonl").read_text().splitlines())
               if r["id"] == "pubmed:25998582")
    now = clock.utcnow()
    with store.write() as c:
        pid = c.execute(sa.insert(papers).values(
            title=rec["title"], abstract_sections=rec["abstract_sections"], authors=[],
            publication_types=rec["publication_types"], mesh_terms=[], keywords=[], grants=[],
            updates=[], field_sources={}, created_at=now, updated_at=now)
        ).inserted_primary_key[0]
    app = App(load_settings(load_sources=False), store=store)
    result = extract_stage(app, pid)
    assert result["action"] == "extracted" and "sample_size" in result["facts"]
    got = store_facts.load_facts(store, pid)
    assert got["sample_size"].normalized == 1167
    assert got["design"].normalized == "rct"
    with store.read() as c:
        row = c.execute(sa.select(papers.c.design, papers.c.evidence_level,
                                  papers.c.extractor_version).where(papers.c.id == pid)).one()
    assert tuple(row) == ("rct", "L2", EXTRACTOR_VERSION)
    assert extract_stage(app, 424242)["action"] == "skipped"
