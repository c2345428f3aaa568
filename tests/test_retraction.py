"""Retraction and correction marks from recorded PubMed, Europe PMC and Crossref data."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.config import write_config
from helpers.server import CorpusServer
from newsflow.app import App
from newsflow.enrich import enrich_stage
from newsflow.models import DraftContent, PaperRecord
from newsflow.parse.europepmc import parse_search
from newsflow.parse.pubmed import parse_efetch
from newsflow.retraction import mark_retraction, marks_for, recheck_recent
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import papers as sp
from newsflow.store import review as store_review

FATCAT = "pubmed/fatcat_pubmedsample_2019_PubmedArticleSet_176.xml"
PLOS_LIST = "apis/habanero_crossref_api_prefix_10.1371_works_updated-by_correction.json"
CORRECTED_DOI = "10.1371/journal.pbio.0050002"


@pytest.fixture(scope="module")
def fatcat(corpus: Path) -> dict[str, PaperRecord]:
    return {r.pmid or "": r for r in parse_efetch((corpus / FATCAT).read_bytes(), source="x")}


def test_pubmed_retracted_publication_and_retraction_in(fatcat: dict[str, PaperRecord]) -> None:
    rec = fatcat["11543891"]
    m = marks_for(rec.publication_types, rec.updates)
    assert m.retracted and not m.corrected
    assert m.banner is not None and m.banner.startswith("RETRACTED: this paper has been retracted")
    assert "PMID 11600210" in m.banner
    both = fatcat["8863847"]  # erratum and later retraction
    m2 = marks_for(both.publication_types, both.updates)
    assert m2.retracted and m2.corrected


def test_retraction_of_publication_is_a_notice(fatcat: dict[str, PaperRecord]) -> None:
    rec = fatcat["11600210"]
    m = marks_for(rec.publication_types, rec.updates)
    assert m.retracted and m.banner is not None
    assert m.banner.startswith("RETRACTION NOTICE: this record retracts another paper")
    assert "PMID 11543891" in m.banner


def test_erratum_in_marks_corrected_only(fatcat: dict[str, PaperRecord]) -> None:
    rec = fatcat["9861576"]
    m = marks_for(rec.publication_types, rec.updates)
    assert (m.retracted, m.corrected) == (False, True)
    assert m.banner is not None and "ErratumIn: Int Clin Psychopharmacol 1999" in m.banner
    plain = fatcat["14594616"]  # the epidermal nevus case report: no notices
    assert marks_for(plain.publication_types, plain.updates).banner is None


def test_europepmc_comment_correction_list(corpus: Path) -> None:
    page = parse_search((corpus / "apis/europepmc_rest_search_cancer_core.json").read_bytes(),
                        source="epmc")
    rec = next(r for r in page.records if r.doi == "10.1016/s0140-6736(24)02716-8")
    assert rec.updates == [{"type": "ErratumFor", "ref": "Lancet. 2024 Sep 28;404(10459):"
                            "1227-1239. doi: 10.1016/S0140-6736(24)01653-2.",
                            "source": "europepmc", "pmid": "39293462"}]
    # An erratum *for* another paper is a notice, not a correction of this one.
    m = marks_for(rec.publication_types, rec.updates)
    assert (m.retracted, m.corrected) == (False, False)
    fake_in = [{"type": "RetractionIn", "ref": "x", "source": "europepmc"}]
    assert marks_for([], fake_in).retracted


def _draft(store: Store, paper_id: int, state: str = "approved") -> int:
    return store_review.create_draft(store, paper_id, DraftContent(
        title="Eczema study", body_markdown="Body.", template_name="study",
        template_version="1"), state=state)


def test_mark_retraction_sends_drafts_back_once(store: Store) -> None:
    pid = sp.upsert_records(store, [PaperRecord(source="feed", entry_id="a", title="T",
                                                doi="10.5555/r1")]).paper_ids[0]
    draft_id = _draft(store, pid)
    notice = [{"type": "RetractionIn", "doi": "10.5555/notice", "source": "crossref",
               "date": "2024-02-01"}]
    res = mark_retraction(store, pid, retracted=True, corrected=False, updates=notice)
    assert res.changed and res.drafts_sent_back == [draft_id]
    assert res.banner == ("RETRACTED: this paper has been retracted (10.5555/notice, 2024-02-01 "
                          "(crossref)). Do not publish; withdraw any published article.")
    draft = store_review.get_draft(store, draft_id)
    assert draft is not None and draft.state == "in_review" and draft.banner == res.banner
    assert any(c.name == "retraction" and not c.passed and c.blocking for c in draft.checks)
    paper = sp.get_paper(store, pid)
    assert paper.retracted and paper.updates == notice
    again = mark_retraction(store, pid, retracted=True, corrected=False, updates=notice)
    assert not again.changed and again.drafts_sent_back == []
    # Marks are never taken away.
    mark_retraction(store, pid, retracted=False, corrected=False)
    assert sp.get_paper(store, pid).retracted


def _app(store: Store, server: CorpusServer, tmp_path: Path) -> App:
    cfg = write_config(tmp_path, store.url, [], **{
        "ncbi.base_url": server.url("/eutils"), "europepmc.base_url": server.url("/epmc"),
        "crossref.base_url": server.url("/crossref"), "enrich.enabled": True})
    return App(load_settings(cfg), store=store)


def test_crossref_updated_by_found_during_enrichment_flags_the_draft(
        store: Store, server: CorpusServer, corpus: Path, tmp_path: Path) -> None:
    app = _app(store, server, tmp_path)
    server.add("/eutils/esearch.fcgi", (corpus / "pubmed/biopython_esearch8.xml").read_bytes())
    server.add("/epmc/search", (corpus / "apis/europepmc_rest_search_no_results.json")
               .read_bytes())
    # The recorded work list holds this DOI's record; the parser picks it out by DOI.
    server.add(f"/crossref/works/{CORRECTED_DOI}", (corpus / PLOS_LIST).read_bytes())
    pid = sp.upsert_records(store, [PaperRecord(
        source="feed", entry_id="b", title="PLOS Biology teaser", doi=CORRECTED_DOI,
        url=server.url("/gone"))]).paper_ids[0]
    draft_id = _draft(store, pid, state="new")
    enrich_stage(app, pid)
    paper = sp.get_paper(store, pid)
    assert paper.corrected and not paper.retracted
    assert {"type": "ErratumIn", "doi": "10.1371/journal.pbio.0060304"}.items() <= \
        paper.updates[0].items()
    draft = store_review.get_draft(store, draft_id)
    assert draft is not None and draft.state == "in_review"
    assert draft.banner is not None and draft.banner.startswith("CORRECTED: a correction")
    assert "10.1371/journal.pbio.0060304" in draft.banner


def test_recheck_recent_asks_crossref_and_pubmed_again(store: Store, server: CorpusServer,
                                                       corpus: Path, tmp_path: Path) -> None:
    app = _app(store, server, tmp_path)
    server.add("/crossref/works", (corpus / PLOS_LIST).read_bytes(),
               content_type="application/json")
    server.add("/eutils/efetch.fcgi", (corpus / FATCAT).read_bytes(), content_type="text/xml")
    recs = [PaperRecord(source="feed", entry_id="c1", title="Corrected later", doi=CORRECTED_DOI),
            PaperRecord(source="feed", entry_id="c2", title="Retracted later", pmid="11543891"),
            PaperRecord(source="feed", entry_id="c3", title="Fine", pmid="14594616")]
    ids = sp.upsert_records(store, recs).paper_ids
    draft_id = _draft(store, ids[1])
    report = recheck_recent(app, days=30)
    assert report.checked == 3 and report.problems == []
    marked = {m.paper_id: m for m in report.marked}
    assert set(marked) == {ids[0], ids[1]}
    assert marked[ids[0]].corrected and not marked[ids[0]].retracted
    assert marked[ids[1]].retracted and marked[ids[1]].drafts_sent_back == [draft_id]
    q = next(r.query for r in server.requests if r.path == "/crossref/works")
    assert "doi%3A10.1371%2Fjournal.pbio.0050002" in q
    efetch_q = next(r.query for r in server.requests if r.path == "/eutils/efetch.fcgi")
    assert "11543891" in efetch_q and "14594616" in efetch_q
    assert recheck_recent(app, days=30).marked == []  # nothing new the second time


def test_recheck_reports_a_failing_service_and_still_runs_the_other(
        store: Store, server: CorpusServer, corpus: Path, tmp_path: Path) -> None:
    app = _app(store, server, tmp_path)
    server.add("/eutils/efetch.fcgi", (corpus / FATCAT).read_bytes(), content_type="text/xml")
    ids = sp.upsert_records(store, [PaperRecord(source="feed", entry_id="d1", title="R",
                                                doi="10.5555/x", pmid="8655018")]).paper_ids
    report = recheck_recent(app, days=30)  # /crossref/works is not served: 404
    assert len(report.problems) == 1 and report.problems[0] == "Crossref re-check failed: HTTP 404"
    assert [m.paper_id for m in report.marked] == ids
