"""Every enrichment path against recorded responses served locally, failures included."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from helpers.config import write_config
from helpers.server import CorpusServer
from newsflow import clock, pipeline
from newsflow.app import App
from newsflow.cli import cli
from newsflow.enrich import EnrichResult, enrich_one, retry_delay
from newsflow.errors import ConfigError
from newsflow.http import Fetcher
from newsflow.models import AbstractSection, PaperRecord
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import enrichment as se
from newsflow.store import papers as sp

ESEARCH_NONE = "pubmed/biopython_esearch8.xml"  # Count 0, PhraseNotFound
ESEARCH_MANY = "pubmed/biopython_esearch3.xml"  # Count 2651
MAJOCCHI = "pubmed/metapub_efetch_pmid_38763967.xml"
EPMC_CORE = "apis/europepmc_rest_search_cancer_core.json"
EPMC_NONE = "apis/europepmc_rest_search_no_results.json"
JCP = "apis/habanero_crossref_api_work_10.1136_jclinpath-2020-206745.json"
PLOS = "landing-pages/sandcrawler_plos_one_article.html"
ELIFE = "landing-pages/sandcrawler_elife_article.html"


def esearch_hit(corpus: Path, pmid: str) -> bytes:
    """A recorded esearch answer with its IdList narrowed to the one record under test."""
    body = (corpus / ESEARCH_MANY).read_text()
    body = re.sub(r"<IdList>.*?</IdList>", f"<IdList><Id>{pmid}</Id></IdList>", body,
                  flags=re.S)
    return re.sub(r"<Count>\d+</Count>", "<Count>1</Count>", body).encode()


def make_app(store: Store, server: CorpusServer, tmp_path: Path, **settings: object) -> App:
    cfg = write_config(tmp_path, store.url, [], **{
        "ncbi.base_url": server.url("/eutils"), "europepmc.base_url": server.url("/epmc"),
        "crossref.base_url": server.url("/crossref"), "enrich.enabled": True, **settings})
    return App(load_settings(cfg), store=store)


@pytest.fixture
def app(store: Store, server: CorpusServer, tmp_path: Path) -> App:
    return make_app(store, server, tmp_path)


def serve(server: CorpusServer, corpus: Path, *, esearch: str | bytes = ESEARCH_NONE,
          efetch: str | None = None, epmc: str = EPMC_NONE) -> None:
    server.add("/eutils/esearch.fcgi",
               esearch if isinstance(esearch, bytes) else (corpus / esearch).read_bytes(),
               content_type="text/xml")
    if efetch:
        server.add("/eutils/efetch.fcgi", (corpus / efetch).read_bytes(), content_type="text/xml")
    server.add("/epmc/search", (corpus / epmc).read_bytes(), content_type="application/json")


def add_feed_paper(store: Store, *, doi: str | None, title: str, url: str | None = None,
                   teaser: str = "Short teaser from the feed...") -> int:
    rec = PaperRecord(source="derm-feed", entry_id=f"feed:{doi or title}", title=title, doi=doi,
                      url=url, abstract_sections=[AbstractSection(None, teaser)])
    return sp.upsert_records(store, [rec]).paper_ids[0]


def enrich(app: App, paper_id: int, *, force: bool = False) -> EnrichResult:
    async def go() -> EnrichResult:
        async with Fetcher.from_settings(app.settings) as f:
            return await enrich_one(app, f, paper_id, force=force)
    return asyncio.run(go())


def query(server: CorpusServer, path: str) -> dict[str, list[str]]:
    return parse_qs(next(r.query for r in server.requests if r.path == path))


def test_pubmed_by_doi_esearch_then_efetch(app: App, server: CorpusServer, corpus: Path) -> None:
    serve(server, corpus, esearch=esearch_hit(corpus, "38763967"), efetch=MAJOCCHI)
    pid = add_feed_paper(app.store, doi="10.1007/s13730-024-00883-1",
                         title="Widespread form of Majocchi's granuloma")
    res = enrich(app, pid)
    assert res.status == "done" and res.missing_before[0] == "abstract"
    assert [s.step for s in res.steps] == ["pubmed"]
    assert "abstract" in res.steps[0].found and "publication_types" in res.steps[0].found
    q = query(server, "/eutils/esearch.fcgi")
    assert q["term"] == ['"10.1007/s13730-024-00883-1"[doi]'] and q["tool"] == ["newsflow"]
    assert query(server, "/eutils/efetch.fcgi")["id"] == ["38763967"]
    assert server.hits("/epmc/search") == 0
    paper = sp.get_paper(app.store, pid)
    assert paper.pmid == "38763967"
    assert paper.abstract.startswith("Kidney transplantation is the encouraged kidney")
    assert "Tinea" in paper.mesh_terms and paper.publication_types[0] == "Case Reports"
    assert paper.field_sources["abstract"] == "enrich:pubmed"
    # PubMed outranks the feed, so its full title replaces the feed's.
    assert paper.title == ("Widespread form of Majocchi's granuloma in a kidney transplant "
                           "recipient.")
    assert paper.field_sources["title"] == "enrich:pubmed"
    state = se.get_enrich_state(app.store, pid)
    assert (state.status, state.attempts, state.error) == ("done", 1, None)
    # Done means done: no second look-up.
    before = len(server.requests)
    assert enrich(app, pid).status == "skipped" and len(server.requests) == before


def test_europepmc_when_pubmed_has_no_record(app: App, server: CorpusServer,
                                             corpus: Path) -> None:
    serve(server, corpus, epmc=EPMC_CORE)
    pid = add_feed_paper(app.store, doi="10.1111/bjhp.12807", title="A feed title")
    res = enrich(app, pid)
    assert res.status == "done"
    assert [(s.step, s.note) for s in res.steps][0] == ("pubmed", "no PubMed record for this DOI")
    assert res.steps[1].step == "europepmc" and "abstract" in res.steps[1].found
    assert query(server, "/epmc/search")["query"] == ['DOI:"10.1111/bjhp.12807"']
    paper = sp.get_paper(app.store, pid)
    assert paper.field_sources["abstract"] == "enrich:europepmc"
    assert len(paper.abstract) > 1500 and paper.authors


def test_crossref_jats_when_indexes_have_nothing(app: App, server: CorpusServer,
                                                corpus: Path) -> None:
    serve(server, corpus)
    server.add("/crossref/works/10.1136/jclinpath-2020-206745", (corpus / JCP).read_bytes(),
               content_type="application/json")
    pid = add_feed_paper(app.store, doi="10.1136/jclinpath-2020-206745", title="A feed title")
    res = enrich(app, pid)
    assert res.status == "done"
    assert [s.step for s in res.steps] == ["pubmed", "europepmc", "crossref"]
    assert res.steps[1].note == "no Europe PMC record for this DOI"
    assert query(server, "/crossref/works/10.1136/jclinpath-2020-206745")["mailto"] == [
        "news@example.org"]
    paper = sp.get_paper(app.store, pid)
    assert [s.label for s in paper.abstract_sections][:2] == ["Background", "Objective"]
    assert paper.field_sources["abstract"] == "enrich:crossref"
    assert paper.journal == "Journal of Clinical Pathology"
    assert paper.field_sources["journal"] == "enrich:crossref"
    # Publication types come only from PubMed/Europe PMC; their absence is not retried.
    assert res.missing_after == ["publication_types"]


def test_landing_page_when_crossref_answers_404(app: App, server: CorpusServer,
                                               corpus: Path) -> None:
    serve(server, corpus)
    page = server.add("/article/plos", (corpus / PLOS).read_bytes(),
                      content_type="text/html; charset=utf-8")
    pid = add_feed_paper(app.store, doi="10.1371/journal.pone.0213978", title="PLOS teaser",
                         url=page)
    res = enrich(app, pid)
    assert res.status == "done"
    notes = {s.step: s.line() for s in res.steps}
    assert notes["crossref"] == "crossref: Crossref does not know this DOI (HTTP 404)"
    assert notes["landing"].startswith("landing: found abstract, authors, journal, pub_date")
    paper = sp.get_paper(app.store, pid)
    assert paper.abstract.startswith("Reticuloendotheliosis virus (REV)")
    assert paper.field_sources["abstract"] == "enrich:landing"
    assert len(paper.authors) == 11 and paper.pub_date == "2019-04-22"


def test_no_abstract_anywhere_keeps_paper_and_retries_with_backoff(
        app: App, server: CorpusServer, corpus: Path) -> None:
    serve(server, corpus)
    page = server.add("/article/elife", (corpus / ELIFE).read_bytes(), content_type="text/html")
    pid = add_feed_paper(app.store, doi="10.7554/eLife.44753",
                         title="Parallel visual circuitry in a basal chordate", url=page)
    t0 = clock.utcnow()
    res = enrich(app, pid)
    assert res.status == "retry" and "abstract" in res.missing_after
    state = se.get_enrich_state(app.store, pid)
    assert state.status == "retry" and state.attempts == 1
    assert state.next_at is not None
    assert dt.timedelta(seconds=890) < state.next_at - t0 < dt.timedelta(seconds=920)
    assert state.error is not None and state.error.startswith("still missing abstract")
    assert "crossref: Crossref does not know this DOI (HTTP 404)" in state.error
    assert "landing: found authors" in state.error  # the page had metadata, no abstract
    paper = sp.get_paper(app.store, pid)
    assert paper.title == "Parallel visual circuitry in a basal chordate"
    assert len(paper.authors) == 7 and paper.field_sources["authors"] == "enrich:landing"
    # Not due yet: nothing is fetched.
    before = len(server.requests)
    assert enrich(app, pid).status == "skipped" and len(server.requests) == before
    assert se.due_for_enrichment(app.store, clock.utcnow()) == []
    assert se.due_for_enrichment(app.store, clock.utcnow() + dt.timedelta(hours=1)) == [pid]
    res2 = enrich(app, pid, force=True)
    state2 = se.get_enrich_state(app.store, pid)
    assert res2.status == "retry" and state2.attempts == 2
    assert state2.next_at is not None and state2.next_at - clock.utcnow() > \
        dt.timedelta(seconds=1700)


def test_retry_delay_doubles_then_slows_to_the_longest(app: App) -> None:
    s = app.settings
    assert [retry_delay(s, n).total_seconds() for n in (1, 2, 3, 4)] == [900, 1800, 3600, 7200]
    assert retry_delay(s, 5).total_seconds() == s["enrich.retry_max"] == 86400
    assert retry_delay(s, 50).total_seconds() == 86400


def test_malformed_html_timeouts_and_html_errors_are_recorded_not_raised(
        store: Store, server: CorpusServer, corpus: Path, tmp_path: Path) -> None:
    app = make_app(store, server, tmp_path, **{"http.timeout": 0.5, "http.total_timeout": 2.0})
    server.add("/eutils/esearch.fcgi", (corpus / ESEARCH_NONE).read_bytes(), delay=3.0)
    server.add("/epmc/search", "<html><body>Service unavailable</body></html>",
               content_type="text/html")
    page = server.add("/article/broken", b"<html><head><meta name=citation_title content='x"
                                         b"<<\xff\xfe</scr<ipt><body><p>unclosed",
                      content_type="text/html")
    pid = add_feed_paper(app.store, doi="10.5555/broken.1", title="Broken everywhere", url=page)
    res = enrich(app, pid)
    assert res.status == "retry"
    notes = {s.step: s.note for s in res.steps}
    assert "timed out" in notes["pubmed"] or "failed" in notes["pubmed"]
    assert notes["europepmc"].startswith("unreadable response: got an HTML page")
    assert notes["crossref"] == "Crossref does not know this DOI (HTTP 404)"
    assert notes["landing"] == ("landing page has no citation, JSON-LD, PRISM or Dublin Core "
                                "metadata")
    assert sp.get_paper(app.store, pid).title == "Broken everywhere"
    assert "unreadable response" in (se.get_enrich_state(app.store, pid).error or "")


def test_ambiguous_doi_and_wrong_record_are_not_merged(app: App, server: CorpusServer,
                                                       corpus: Path) -> None:
    serve(server, corpus, esearch=ESEARCH_MANY)
    pid = add_feed_paper(app.store, doi="10.5555/ambiguous", title="Ambiguous")
    res = enrich(app, pid)
    assert res.steps[0].note == "the DOI matches 2651 PubMed records; not guessing"
    assert server.hits("/eutils/efetch.fcgi") == 0
    # PMID known, but the record behind it carries another DOI: refused.
    server.add("/eutils/efetch.fcgi", (corpus / MAJOCCHI).read_bytes())
    other = sp.upsert_records(app.store, [PaperRecord(
        source="derm-feed", entry_id="x2", title="Other", doi="10.5555/other",
        pmid="38763967")]).paper_ids[0]
    res = enrich(app, other)
    assert res.steps[0].note.startswith("PMID 38763967 has DOI 10.1007/s13730-024-00883-1")
    assert sp.get_paper(app.store, other).mesh_terms == []


def test_pipeline_enriches_then_classifies(app: App, server: CorpusServer,
                                          corpus: Path) -> None:
    serve(server, corpus, esearch=esearch_hit(corpus, "38763967"), efetch=MAJOCCHI)
    pid = add_feed_paper(app.store, doi="10.1007/s13730-024-00883-1",
                         title="Widespread form of Majocchi's granuloma")
    report = pipeline.process_pending(app, [s for s in pipeline.STAGES
                                            if s[0] in ("enrich", "classify")])
    assert report.failed == 0, report.errors
    rel, override = se.get_relevance(app.store, pid)
    assert rel is not None and rel.relevant and override is None
    assert "MeSH: Tinea (C17.800.838.765.850)" in rel.reasons
    assert rel.population == "human"


def test_disabled_enrichment_makes_no_requests(app: App, server: CorpusServer,
                                               tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "off", app.store.url, [],
                       **{"ncbi.base_url": server.url("/eutils")})
    off = App(load_settings(cfg), store=app.store)
    pid = add_feed_paper(app.store, doi="10.5555/offline", title="Offline")
    pipeline.process_pending(off, [s for s in pipeline.STAGES if s[0] == "enrich"])
    assert server.requests == []
    assert se.get_enrich_state(app.store, pid).status == "pending"


def test_cli_enrich_now_and_show_the_state(app: App, server: CorpusServer, corpus: Path) -> None:
    serve(server, corpus, esearch=esearch_hit(corpus, "38763967"), efetch=MAJOCCHI)
    pid = add_feed_paper(app.store, doi="10.1007/s13730-024-00883-1", title="Majocchi teaser")
    cfg = str(app.settings.config_path)
    res = CliRunner().invoke(cli, ["--config", cfg, "papers", "enrich",
                                   "10.1007/s13730-024-00883-1", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["paper_id"] == pid and data["status"] == "done"
    assert data["steps"][0]["step"] == "pubmed" and "abstract" in data["steps"][0]["found"]
    res = CliRunner().invoke(cli, ["--config", cfg, "papers", "show", "38763967", "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)["enrichment"]
    assert shown["status"] == "done" and shown["attempts"] == 1 and shown["error"] is None
    assert shown["field_sources"]["abstract"] == "enrich:pubmed"
    res = CliRunner().invoke(cli, ["--config", cfg, "papers", "enrich", "--help"])
    assert "Example: newsflow papers enrich" in res.output


def test_steps_setting_leaves_out_the_landing_page(store: Store, server: CorpusServer,
                                                  corpus: Path, tmp_path: Path) -> None:
    serve(server, corpus)
    page = server.add("/article/plos", (corpus / PLOS).read_bytes(),
                      content_type="text/html; charset=utf-8")
    no_landing = make_app(store, server, tmp_path, **{"enrich.steps": "pubmed, crossref"})
    assert no_landing.settings["enrich.steps"] == "pubmed,crossref"
    pid = add_feed_paper(store, doi="10.1371/journal.pone.0213978", title="PLOS teaser",
                         url=page)
    res = enrich(no_landing, pid)
    assert [s.step for s in res.steps] == ["pubmed", "crossref"]
    assert res.status == "retry" and server.hits("/article/plos") == 0
    assert server.hits("/epmc/search") == 0


def test_unknown_enrichment_step_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "n.toml"
    cfg.write_text('[enrich]\nsteps = "pubmed,scholar"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    text = str(err.value)
    assert str(cfg) in text and "enrich.steps" in text and "'scholar'" in text
    assert "pubmed, europepmc, crossref, landing" in text
