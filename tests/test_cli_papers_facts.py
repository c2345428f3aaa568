"""`newsflow papers show` with facts and relevance, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from helpers.config import write_config
from newsflow import pipeline
from newsflow.app import App
from newsflow.classify import RelevanceRules, classify_paper
from newsflow.cli import cli, paper_facts
from newsflow.extract import EXTRACTOR_VERSION, FACT_NAMES
from newsflow.parse.pubmed import parse_efetch
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import enrichment as store_enrichment
from newsflow.store import papers as store_papers


def _load(store: Store, corpus: Path, tmp_path: Path) -> Path:
    body = (corpus / "pubmed" / "metapub_efetch_pmid_38763967.xml").read_bytes()
    store_papers.upsert_records(store, parse_efetch(body, source="pubmed-test"))
    cfg = write_config(tmp_path, store.url, [])
    app = App(load_settings(cfg), store=store)
    assert "extract" in [name for name, _ in pipeline.STAGES]
    report = pipeline.process_pending(app)  # runs the registered stages, extract among them
    assert report.failed == 0, report.errors
    paper = store_papers.get_paper(store, "38763967")
    if paper.relevance is None:  # classify not registered as a stage yet on this branch
        store_enrichment.save_relevance(
            store, paper.id, classify_paper(paper, RelevanceRules.load(app.settings)))
    return cfg


def test_papers_show_json_gives_facts_with_sentences_and_relevance(
        store: Store, corpus: Path, tmp_path: Path) -> None:
    cfg = _load(store, corpus, tmp_path)
    res = CliRunner().invoke(cli, ["--config", str(cfg), "papers", "show", "38763967", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    facts = data["facts"]
    assert set(facts) >= set(FACT_NAMES)
    assert facts["design"]["normalized"] == "case_report"
    assert facts["evidence_level"]["normalized"] == "L4"
    assert facts["sample_size"]["normalized"] == 1
    iv = facts["intervention"]
    assert iv["normalized"] == "terbinafine"
    assert iv["sentence"] == "An effectual treatment was attained with an oral terbinafine tablet."
    assert facts["dose"] is None and facts["comparator"] is None
    for name, f in facts.items():
        if f is not None:
            assert set(f) == {"value", "normalized", "confidence", "span", "sentence"}, name
            a, b = f["span"]
            assert data["abstract"][a:b] == f["sentence"], name
    rel = data["relevance"]
    assert rel["relevant"] is True and 0 < rel["score"] <= 1 and rel["reasons"]
    assert data["extractor_version"] == EXTRACTOR_VERSION


def test_papers_show_text_lists_each_fact_with_its_sentence(
        store: Store, corpus: Path, tmp_path: Path) -> None:
    cfg = _load(store, corpus, tmp_path)
    paper = store_papers.get_paper(store, "38763967")
    res = CliRunner().invoke(cli, ["--config", str(cfg), "papers", "show", str(paper.id)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"Facts (extractor {EXTRACTOR_VERSION}):" in out
    assert "intervention: terbinafine" in out
    assert "\u201cAn effectual treatment was attained with an oral terbinafine tablet.\u201d" in out
    assert "dose: not found" in out
    assert "Relevance: relevant" in out


def test_demo_summary_names_the_extracted_facts(store: Store, corpus: Path,
                                                tmp_path: Path) -> None:
    cfg = _load(store, corpus, tmp_path)
    lines = paper_facts.demo_lines(App(load_settings(cfg), store=store), tmp_path)
    assert lines[0].startswith("Extracted facts")
    assert any("Majocchi" in line and "case_report, 1 participant, tinea, terbinafine" in line
               for line in lines[1:])
