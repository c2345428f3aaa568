from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from helpers.server import corpus_dir
from newsflow.errors import ParseError
from newsflow.parse import xmlsafe
from newsflow.parse.feeds import parse_feed

CORPUS_FEEDS = sorted(
    p for d in ("feeds", "feeds-malformed")
    for p in (corpus_dir() / d).iterdir())


def billion_laughs() -> bytes:
    decls = b"".join(b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1)) * 10)
                     for i in range(1, 10))
    return (b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n' + decls +
            b']>\n<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
            b"<link>http://example.org/1</link></item></channel></rss>")


def quadratic_blowup() -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + b"A" * 50_000 +
            b'">]>\n<rss version="2.0"><channel><title>t</title><item><title>q</title>'
            b"<description>" + b"&a;" * 5000 + b"</description></item></channel></rss>")


def external_entity(path: str = "/etc/hostname") -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://' +
            path.encode() + b'">]>\n<rss version="2.0"><channel><title>t</title><item>'
            b"<title>&xxe;</title><link>http://example.org/1</link></item></channel></rss>")


@pytest.mark.parametrize("path", CORPUS_FEEDS, ids=lambda p: p.name)
def test_every_corpus_feed_parses_or_gives_a_readable_reason(path: Path) -> None:
    try:
        result = parse_feed(path.read_bytes(), source="s",
                            headers={"content-type": "application/xml"})
    except ParseError as e:
        assert len(str(e)) > 10
        return
    assert result.version
    for rec in result.records:
        assert rec.entry_id and rec.source == "s"
        assert "<" not in rec.title or ">" not in rec.title  # titles are text, not HTML
    assert all(isinstance(p, str) and p for p in result.problems)


def test_buffered_sax_driver_parses_every_corpus_feed_as_the_default_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """feedparser parses with newsflow's expat driver (text buffered, saxdriver.py):
    its results, problems included, must be exactly those of the stdlib's reader."""
    import io
    import xml.sax

    import feedparser.api

    from newsflow.parse.saxdriver import BufferedExpatParser

    assert isinstance(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS),
                      BufferedExpatParser)

    def parse_all() -> list[str]:
        out = []
        for path in CORPUS_FEEDS:
            d = feedparser.parse(io.BytesIO(path.read_bytes()), sanitize_html=False,
                                 response_headers={"content-type": "application/xml"},
                                 resolve_relative_uris=False)
            error = d.pop("bozo_exception", None)
            out.append(f"{d!r} {error}")
        return out

    ours = parse_all()
    monkeypatch.setattr(feedparser.api, "PREFERRED_XML_PARSERS", [])
    assert not isinstance(xml.sax.make_parser([]), BufferedExpatParser)
    assert parse_all() == ours
    assert sum("'entries': [{" in text for text in ours) > 50


def test_rss1_rdf_with_prism_and_dc(corpus: Path) -> None:
    r = parse_feed((corpus / "feeds/feedjira_atypon_ajph_rss1_rdf.xml").read_bytes(), source="s")
    assert r.version == "rss10" and len(r.records) == 20
    first = r.records[0]
    assert first.doi == "10.2105/AJPH.2014.302274"
    assert first.journal == "American Journal of Public Health"  # not the article title
    assert [a.name for a in first.authors][:2] == ["Sarah Moody-Thomas", "Laura Nasuti"]
    assert (first.volume, first.issue, first.pages) == ("105", "S2", "e1-e7")
    assert first.pub_date == "2015-03-06"


def test_pubmed_rss_gives_pmid_doi_and_text_abstract(corpus: Path) -> None:
    r = parse_feed((corpus / "feeds/biorss_pubmed_rss2_search_feed_2021-12-14.xml").read_bytes(),
                   source="s")
    first = r.records[0]
    assert first.pmid == "34902460" and first.doi == "10.1016/j.jviromet.2021.114425"
    assert first.journal == "Journal of virological methods"
    assert "<" not in first.abstract and "High-resolution melting" in first.abstract


def test_rss2_prism_doi_and_one_field_author_list(corpus: Path) -> None:
    r = parse_feed((corpus / "feeds/wiley_rss2_chembiochem_2024.xml").read_bytes(), source="s")
    first = r.records[0]
    assert first.doi == "10.1002/cbic.202500831"
    assert [a.name for a in first.authors] == ["Antonio Masone", "Eleonora Busani",
                                               "Roberto Chiesa"]
    assert first.journal == "ChemBioChem"


def test_doi_from_guid_link(corpus: Path) -> None:
    r = parse_feed((corpus / "feeds/biorss_oup_silverchair_rss2_zoolinnean_2021-12-21.xml")
                   .read_bytes(), source="s")
    assert r.records[0].doi == "10.1093/zoolinnean/zlab078"
    assert r.records[0].abstract.startswith("Abstract The Southern Ocean")


def test_atom_and_rss090_and_json_feed(corpus: Path) -> None:
    atom = parse_feed((corpus / "feeds/feedparser_example_atom10.xml").read_bytes(), source="s")
    assert atom.version == "atom10" and atom.records[0].title == "First entry title"
    r090 = parse_feed((corpus / "feeds/feedparser_rdf_rss090_item_title.xml").read_bytes(),
                      source="s")
    assert r090.version == "rss090" and r090.records[0].title == "Item title"
    js = parse_feed((corpus / "feeds/feedjira_json_feed.json").read_bytes(), source="s")
    assert js.version == "json1" and len(js.records) == 20


def test_html_entities_without_declarations_still_read(corpus: Path) -> None:
    r = parse_feed((corpus / "feeds-malformed/feedparser_entities_eacute.xml").read_bytes(),
                   source="s")
    assert r.title == "testing \u00e9 entity"
    assert r.problems  # undefined entity noted


def test_encodings_are_decoded(corpus: Path) -> None:
    gb = parse_feed((corpus / "feeds-malformed/rsparser_kc0011_gb2312_encoding.rss").read_bytes(),
                    source="s")
    assert gb.title.startswith("投资资讯网")
    utf16 = parse_feed((corpus / "feeds-malformed/feedparser_encoding_utf-16le-bom.xml")
                       .read_bytes(), source="s")
    assert utf16.version.startswith("rss")


def test_html_page_empty_body_and_garbage_are_parse_errors() -> None:
    html = b"<!DOCTYPE html><html><head><title>Journal</title></head><body>Hi</body></html>"
    with pytest.raises(ParseError, match="HTML page"):
        parse_feed(html, source="s")
    with pytest.raises(ParseError, match="empty"):
        parse_feed(b"  \n", source="s")
    with pytest.raises(ParseError, match="not a feed"):
        parse_feed(b"just some text", source="s")


@pytest.mark.parametrize("bomb", [billion_laughs, quadratic_blowup, external_entity])
def test_xml_bombs_are_defused(bomb: object) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    r = parse_feed(bomb(), source="s")  # type: ignore[operator]
    assert time.monotonic() - t0 < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    assert "entity declarations were removed before parsing" in r.problems
    text = " ".join(rec.title + rec.abstract for rec in r.records)
    assert "lollol" not in text and "AAAAAAAAAA" * 100 not in text
    assert text.count("A") < 60_000


def test_external_entity_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    r = parse_feed(external_entity(str(secret)), source="s")
    assert "TOP-SECRET-VALUE" not in repr(r)


def test_strip_doctype_keeps_the_document() -> None:
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY a "]>"> <!ENTITY b SYSTEM '
            b'"file:///etc/passwd"> ]>\n<x>&a;</x>')
    out, n = xmlsafe.strip_doctype(data)
    assert n == 1 and b"ENTITY" not in out and out.endswith(b"<x>&a;</x>")
    assert not xmlsafe.has_declarations(out)


def test_relative_links_are_resolved_against_the_feed_url() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>J</title>'
            b"<item><title>Relative link study</title><link>/doi/10.1111/bjd.12345</link>"
            b"</item><item><title>Absolute link study</title>"
            b"<link>https://doi.org/10.1111/bjd.54321</link></item></channel></rss>")
    recs = parse_feed(body, source="s", url="https://journals.example.org/feed/bjd.rss").records
    assert [r.url for r in recs] == ["https://journals.example.org/doi/10.1111/bjd.12345",
                                     "https://doi.org/10.1111/bjd.54321"]
    assert recs[0].doi == "10.1111/bjd.12345"  # found in the resolved link
    assert parse_feed(body, source="s").records[0].url == "/doi/10.1111/bjd.12345"
