from __future__ import annotations

from pathlib import Path

from newsflow.models import Author
from newsflow.parse.landing import parse_landing

PAGES = "landing-pages"


def page(corpus: Path, name: str) -> bytes:
    return (corpus / PAGES / name).read_bytes()


def test_highwire_citation_tags_plos(corpus: Path) -> None:
    rec = parse_landing(page(corpus, "sandcrawler_plos_one_article.html"), url="https://x/plos")
    assert rec is not None
    assert rec.doi == "10.1371/journal.pone.0213978"
    assert rec.title.startswith("Assessment on reticuloendotheliosis virus infection")
    assert rec.abstract.startswith("Reticuloendotheliosis virus (REV) is the most frequent")
    assert len(rec.abstract) > 1000 and "<" not in rec.abstract
    assert (rec.journal, rec.journal_abbrev) == ("PLOS ONE", "PLOS ONE")
    assert (rec.volume, rec.issue, rec.pages, rec.pub_date) == ("14", "4", "e0213978",
                                                                "2019-04-22")
    assert len(rec.authors) == 11
    assert rec.authors[0] == Author("Yang Li", "China Animal Health and Epidemiology Center, "
                                               "Qingdao, China")
    assert rec.source_kind == "landing" and rec.url == "https://x/plos"


def test_highwire_peerj_and_ojs_dublin_core(corpus: Path) -> None:
    peerj = parse_landing(page(corpus, "sandcrawler_peerj_oa_article.html"))
    assert peerj is not None and peerj.doi == "10.7717/peerj.4375"
    assert peerj.abstract.startswith("Despite growing interest in Open Access (OA)")
    assert peerj.pub_date == "2018-02-13" and len(peerj.authors) == 9
    ojs = parse_landing(page(corpus, "sandcrawler_first_monday_ojs3_landingpage.html"))
    assert ojs is not None and ojs.doi == "10.5210/fm.v25i10.10274"
    assert ojs.journal == "First Monday" and ojs.pub_date == "2020-09-10"
    assert ojs.abstract.startswith("Online dating and hookup platforms")
    assert ojs.keywords[:3] == ["HIV", "online dating", "design"]


def test_prism_and_dc_nature(corpus: Path) -> None:
    rec = parse_landing(page(corpus, "sandcrawler_nature_article.html"))
    assert rec is not None
    assert rec.doi == "10.1038/d41586-020-02610-z"
    assert rec.title == "More than 100 scientific journals have disappeared from the Internet"
    assert rec.journal == "Nature" and rec.pub_date == "2020-09-10"
    assert rec.authors == [Author("Diana Kwon")]
    assert rec.abstract.startswith("Researchers have identified dozens of open-access journals")


def test_dublin_core_page_without_abstract_elife(corpus: Path) -> None:
    rec = parse_landing(page(corpus, "sandcrawler_elife_article.html"))
    assert rec is not None
    assert rec.doi == "10.7554/eLife.44753"
    assert rec.title == "Parallel visual circuitry in a basal chordate"
    assert len(rec.authors) == 7 and rec.pub_date == "2019-04-18"
    # Its meta description is a one-line teaser and the page's abstract section is empty.
    assert rec.abstract_sections == []


JSONLD_PAGE = """<!doctype html><html><head><title>Site</title>
<script type="application/ld+json">{not json</script>
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "name": "Publisher"},
  {"@type": "ScholarlyArticle", "headline": "Upadacitinib for <i>facial</i> eczema",
   "abstract": "<p>Six patients improved.</p>", "datePublished": "2023-08-03T10:00:00Z",
   "identifier": {"@type": "PropertyValue", "value": "https://doi.org/10.1080/09546634.2023.2242540"},
   "author": [{"@type": "Person", "name": "Yan Y"}, {"@type": "Person", "name": "Zhu H"}],
   "isPartOf": {"@type": "PublicationIssue", "isPartOf": {"@type": "Periodical",
                "name": "Journal of Dermatological Treatment"}}}]}
</script></head><body><p>unclosed <div></body>"""


def test_json_ld_scholarly_article_and_broken_json_ld_is_skipped() -> None:
    # Hand-written: no recorded page in the corpus carries JSON-LD.
    rec = parse_landing(JSONLD_PAGE)
    assert rec is not None
    assert rec.title == "Upadacitinib for facial eczema"
    assert rec.doi == "10.1080/09546634.2023.2242540"
    assert rec.abstract == "Six patients improved."
    assert rec.pub_date == "2023-08-03"
    assert [a.name for a in rec.authors] == ["Yan Y", "Zhu H"]
    assert rec.journal == "Journal of Dermatological Treatment"


def test_malformed_or_empty_pages_give_none_not_errors() -> None:
    assert parse_landing(b"") is None
    assert parse_landing(b"\x00\xff<<<html><meta name=citation_title") is None
    assert parse_landing("<html><head><title>Just a page</title></head></html>") is None
    # A tag left open swallows the next one; what is left is still read, as text.
    broken = ('<html><head><meta name="citation_title" content="A &amp; B <b>trial</b>">'
              '<meta name="citation_author" content="Roe, J">'
              '<meta name="citation_doi" content="doi:10.1234/ABC.1"'
              '<meta name="description" content="short teaser…"></head><body><div><p>x')
    rec = parse_landing(broken)
    assert rec is not None and rec.title == "A & B trial"
    assert rec.authors == [Author("Roe, J")] and rec.doi is None
    assert rec.abstract_sections == []  # a teaser is not an abstract
