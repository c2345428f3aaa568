from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from helpers.config import write_config
from helpers.eutils import params, serve_europepmc, serve_pubmed
from helpers.server import CorpusServer
from newsflow import clock
from newsflow.app import App
from newsflow.cli import cli
from newsflow.pipeline import run_sources
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import papers as sp
from newsflow.store import sources as ss
from test_parse_feeds import billion_laughs, external_entity, quadratic_blowup

DATA = Path(__file__).resolve().parent / "data"
DERM_PMIDS = ["38909159", "38763967"]


def make_app(tmp: Path, store: Store, sources: list[dict[str, Any]], **settings: Any) -> App:
    cfg = write_config(tmp, store.url, sources, **settings)
    return App(load_settings(cfg), store=store)


def health(store: Store) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in ss.list_health(store)}


def test_every_corpus_feed_goes_through_run(store: Store, server: CorpusServer,
                                            tmp_path: Path) -> None:
    files = sorted(p for d in ("feeds", "feeds-malformed") for p in (server.root / d).iterdir())
    sources = [{"name": f"{f.parent.name}/{f.name}", "kind": "feed",
                "url": server.corpus_url(f"{f.parent.name}/{f.name}")} for f in files]
    app = make_app(tmp_path, store, sources)
    report = run_sources(app, all=True, process=False).to_json()
    assert report["sources"] == len(files) == report["fetched"] + report["failed"]
    rows = health(store)
    for r in report["source_results"]:
        row = rows[r["name"]]
        if r["status"] == "failed":
            assert r["error"] and len(r["error"]) > 15 and row["last_error"] == r["error"]
            assert row["consecutive_failures"] == 1
        else:
            assert r["status"] == "ok" and row["last_success_at"] is not None
            assert (row["feed_problems"] or "") == "; ".join(r["problems"])
    failed = {r["name"]: r["error"] for r in report["source_results"] if r["status"] == "failed"}
    assert failed == {"feeds-malformed/feedparser_illformed_rss_empty_document.xml":
                      "parse: not a feed: XML error at line 6: no element found"}
    noted = rows["feeds-malformed/wiley_rdf_acie_with_git_merge_conflict_markers_2020-01.xml"]
    assert "not well-formed" in noted["feed_problems"] and noted["last_entries"] == 219
    assert sp.find_paper_id(store, "10.2105/AJPH.2014.302274") is not None


def test_bombs_and_bad_bodies_fail_or_defuse_without_hurting_others(
        store: Store, server: CorpusServer, tmp_path: Path) -> None:
    bodies = {"laughs": billion_laughs(), "quadratic": quadratic_blowup(),
              "xxe": external_entity(), "empty": b"",
              "html": b"<!DOCTYPE html>\n<html><head><title>Pediatric Research</title></head>"
                      b"<body><h1>Journal home</h1></body></html>"}
    sources = [{"name": name, "kind": "feed",
                "url": server.add(f"/{name}.xml", body,
                                  content_type="text/html" if name == "html" else
                                  "application/rss+xml")}
               for name, body in bodies.items()]
    sources.append({"name": "derm", "kind": "feed",
                    "url": server.add("/derm.xml", (DATA / "derm_etoc.xml").read_bytes(),
                                      content_type="application/rss+xml")})
    app = make_app(tmp_path, store, sources)
    t0 = time.monotonic()
    report = run_sources(app, all=True, process=False)
    assert time.monotonic() - t0 < 60
    by = {r.name: r for r in report.source_results}
    assert by["derm"].status == "ok" and (by["derm"].entries, by["derm"].new) == (2, 2)
    for bomb in ("laughs", "quadratic", "xxe"):
        assert by[bomb].status == "ok", by[bomb].error
        assert "entity declarations were removed before parsing" in by[bomb].problems
    assert by["empty"].status == "failed" and by["empty"].error == "parse: the response body is empty"
    assert by["html"].status == "failed"
    assert by["html"].error == "parse: got an HTML page where a feed was expected"
    rows = health(store)
    assert rows["html"]["last_error"] == by["html"].error
    assert "entity declarations were removed" in rows["quadratic"]["feed_problems"]
    for paper in sp.list_papers(store, limit=20):
        assert "lollollol" not in paper.title and len(paper.abstract) < 60_000


def test_same_paper_from_feed_and_pubmed_is_one_record(store: Store, server: CorpusServer,
                                                       tmp_path: Path) -> None:
    base = serve_pubmed(server, "/eutils", DERM_PMIDS)
    sources = [{"name": "Pediatric Research", "kind": "feed",
                "url": server.add("/pr.rss", (DATA / "derm_etoc.xml").read_bytes())},
               {"name": "PubMed skin", "kind": "pubmed", "query": "dermatomyositis",
                "base_url": base}]
    app = make_app(tmp_path, store, sources, **{"ncbi.tool": "nf-test",
                                                "ncbi.email": "t@example.org"})
    report = run_sources(app, all=True, process=False).to_json()
    assert report["failed"] == 0 and report["entries_seen"] == 4
    assert sp.count_papers(store) == 2
    paper = sp.get_paper(store, "38909159")
    assert paper.sources == ["Pediatric Research", "PubMed skin"] or \
        paper.sources == ["PubMed skin", "Pediatric Research"]
    assert paper.doi == "10.1038/s41390-024-03336-8"
    assert [s.label for s in paper.abstract_sections][0] == "BACKGROUND"
    assert paper.field_sources["abstract"] == "PubMed skin"
    search = next(r for r in server.requests if r.path == "/eutils/esearch.fcgi")
    q = params(search)
    today = clock.utcnow()
    assert q["term"] == "dermatomyositis" and q["datetype"] == "edat" and q["db"] == "pubmed"
    assert q["tool"] == "nf-test" and q["email"] == "t@example.org"
    assert q["maxdate"] == today.strftime("%Y/%m/%d")
    assert q["mindate"] == (today - dt.timedelta(days=7)).strftime("%Y/%m/%d")
    fetch = next(r for r in server.requests if r.path == "/eutils/efetch.fcgi")
    assert params(fetch)["id"] == ",".join(DERM_PMIDS)
    assert health(store)["PubMed skin"]["window_end"] is not None

    again = run_sources(app, ["PubMed skin"], process=False).to_json()
    assert again["papers_new"] == 0 and again["papers_updated"] == 0
    second = [r for r in server.requests if r.path == "/eutils/esearch.fcgi"][-1]
    assert params(second)["mindate"] == today.strftime("%Y/%m/%d")


def test_second_run_gets_304_everywhere_and_skips_parsing(store: Store, server: CorpusServer,
                                                          tmp_path: Path) -> None:
    names = ["feeds/feedjira_atypon_ajph_rss1_rdf.xml", "feeds/wiley_rss2_chembiochem_2024.xml",
             "feeds/biorss_pubmed_rss2_search_feed_2021-12-14.xml"]
    sources = [{"name": n, "kind": "feed", "url": server.corpus_url(n)} for n in names]
    sources.append({"name": "no validators", "kind": "feed",
                    "url": server.add("/plain.rss", (DATA / "derm_etoc.xml").read_bytes(),
                                      conditional=False)})
    app = make_app(tmp_path, store, sources)
    first = run_sources(app, all=True).to_json()
    assert first["fetched"] == 4 and first["papers_new"] == 20 + 11 + 15 + 2
    assert first["processing"]["processed"] == first["papers_new"]
    assert app.parsers.running() >= 1
    app.close()
    # A run where every source has validators or a body hash starts no parser process.
    app = make_app(tmp_path, store, sources)
    second = run_sources(app, all=True).to_json()
    assert app.parsers.running() == 0
    assert second["not_modified"] == 4 and second["fetched"] == 0
    assert (second["entries_seen"], second["papers_new"], second["papers_updated"]) == (0, 0, 0)
    statuses = {r["name"]: (r["status"], r["http_status"]) for r in second["source_results"]}
    assert statuses["no validators"] == ("unchanged", 200)
    assert all(statuses[n] == ("not_modified", 304) for n in names)
    conditional = [r for r in server.requests if r.path.startswith("/corpus/")][-3:]
    assert all(r.headers.get("if-none-match") for r in conditional)
    assert second["processing"]["processed"] == 0
    # due logic: nothing is due right after a run
    assert run_sources(app, process=False).to_json()["sources"] == 0
    app.close()


def test_esearch_error_is_a_recorded_failure(store: Store, server: CorpusServer,
                                             tmp_path: Path) -> None:
    err = (server.root / "pubmed/eutilsjson_esearch.baderror.xml").read_bytes()
    base = serve_pubmed(server, "/bad", [], esearch_body=err)
    warn = (server.root / "pubmed/eutilsjson_esearch.error.xml").read_bytes()
    base2 = serve_pubmed(server, "/warn", [], esearch_body=re.sub(
        rb"<IdList>.*?</IdList>", b"<IdList><Id>38909159</Id></IdList>", warn, flags=re.DOTALL))
    app = make_app(tmp_path, store, [
        {"name": "bad", "kind": "pubmed", "query": "x", "base_url": base, "every": "1h"},
        {"name": "warn", "kind": "pubmed", "query": "x", "base_url": base2}])
    by = {r.name: r for r in run_sources(app, all=True, process=False).source_results}
    assert by["bad"].status == "failed"
    assert by["bad"].error == "esearch error: Invalid db name specified: fleegle"
    row = health(store)["bad"]
    assert row["consecutive_failures"] == 1 and row["window_end"] is None
    assert row["next_due_at"] > clock.utcnow() + dt.timedelta(minutes=55)
    assert by["warn"].status == "ok" and by["warn"].new == 1
    assert "PhraseNotFound: fleegle[MeSH Terms]" in by["warn"].problems
    run_sources(app, ["bad"], process=False)
    row = health(store)["bad"]
    assert row["consecutive_failures"] == 2  # never given up on; waits longer
    assert row["next_due_at"] > clock.utcnow() + dt.timedelta(minutes=115)


def test_europepmc_cursor_paging(store: Store, server: CorpusServer, tmp_path: Path) -> None:
    base = serve_europepmc(server, "/epmc")
    app = make_app(tmp_path, store, [{"name": "EPMC", "kind": "europepmc", "query": "cancer",
                                      "base_url": base}], **{"europepmc.page_size": 25})
    [r] = run_sources(app, all=True, process=False).source_results
    assert r.status == "ok" and r.entries == 30
    calls = [params(q) for q in server.requests if q.path == "/epmc/search"]
    assert [c["cursorMark"] for c in calls] == ["*", "AoIIP4ZawSg1MzEyODI1MA==",
                                                "AoIIP4lkIig1MzE0NTMwOA=="]
    assert all(c["pageSize"] == "25" and c["resultType"] == "core" and c["format"] == "json"
               for c in calls)
    assert sp.count_papers(store) == 25  # page 2 repeats page 1's first five works
    paper = sp.get_paper(store, "39709209")
    assert paper.sources == ["EPMC"] and paper.journal == "Lancet (London, England)"


def test_europepmc_max_pages(store: Store, server: CorpusServer, tmp_path: Path) -> None:
    base = serve_europepmc(server, "/epmc")
    app = make_app(tmp_path, store, [{"name": "EPMC", "kind": "europepmc", "query": "cancer",
                                      "base_url": base}], **{"europepmc.max_pages": 1})
    run_sources(app, all=True, process=False)
    assert server.hits("/epmc/search") == 1


def test_retry_after_pushes_the_next_attempt(store: Store, server: CorpusServer,
                                             tmp_path: Path) -> None:
    url = server.add("/busy.rss", b"slow down", status=429, headers={"Retry-After": "7200"},
                     conditional=False)
    app = make_app(tmp_path, store, [{"name": "busy", "kind": "feed", "url": url,
                                      "every": "30m"}])
    [r] = run_sources(app, all=True, process=False).source_results
    assert r.status == "failed" and r.http_status == 429 and "7200" in (r.error or "")
    assert health(store)["busy"]["next_due_at"] > clock.utcnow() + dt.timedelta(seconds=7000)


def test_cli_run_json_and_sources(store: Store, server: CorpusServer, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, store.url, [
        {"name": "derm", "kind": "feed", "url": server.add("/d.rss",
                                                           (DATA / "derm_etoc.xml").read_bytes())},
        {"name": "gone", "kind": "feed", "url": server.url("/missing.rss")}])
    runner = CliRunner()
    res = runner.invoke(cli, ["--config", str(cfg), "run", "--all", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    for key in ("sources", "fetched", "not_modified", "failed", "entries_seen", "papers_new",
                "papers_updated", "source_results"):
        assert key in data
    assert (data["sources"], data["fetched"], data["failed"], data["papers_new"]) == (2, 1, 1, 2)
    gone = next(r for r in data["source_results"] if r["name"] == "gone")
    assert set(gone) >= {"name", "status", "http_status", "entries", "new", "error"}
    assert gone["http_status"] == 404 and gone["error"]
    res = runner.invoke(cli, ["--config", str(cfg), "sources", "--json"])
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["gone"]["consecutive_failures"] == 1 and rows["derm"]["last_entries"] == 2
    res = runner.invoke(cli, ["--config", str(cfg), "papers", "show", "10.1007/S13730-024-00883-1",
                              "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["seen_in"][0]["source"] == "derm"
    res = runner.invoke(cli, ["--config", str(cfg), "papers", "list"])
    assert res.exit_code == 0 and "Majocchi" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "run", "--source", "nope"])
    assert res.exit_code == 2 and "nope" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "papers", "show", "10.1/none"])
    assert res.exit_code == 1 and "no paper" in res.output


def test_invalid_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "never.db"
    cfg = write_config(tmp_path, f"sqlite:///{db}", [{"name": "x", "kind": "feed",
                                                      "url": "http://127.0.0.1:9/x",
                                                      "every": "often"}])
    res = CliRunner().invoke(cli, ["--config", str(cfg), "run", "--all", "--json"])
    assert res.exit_code == 2 and "every" in res.output and "30m" in res.output
    assert not db.exists() and not (tmp_path / "data").exists()
