"""A publisher's article landing page → ``PaperRecord``, read with beautifulsoup4.

Sources of metadata, best first for each field: Highwire ``citation_*`` meta tags,
JSON-LD ``ScholarlyArticle`` (and its kin), PRISM ``prism.*`` and Dublin Core
``dc.*``/``DC.*``, then an abstract shown in the page body.  A generic
``description``/``og:description`` is taken as the
abstract only when it is long and not visibly cut short: it is usually a teaser.

The page is untrusted: it is parsed with the tolerant stdlib HTML parser (no
scripts run, nothing fetched), JSON-LD is read with ``json.loads`` only, and every
value is reduced to plain text.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from newsflow.models import AbstractSection, Author, PaperRecord
from newsflow.parse.crossref import inline_text
from newsflow.parse.text import find_doi, html_to_text, partial_date, squash

SOURCE_KIND = "landing"
ARTICLE_TYPES = {"scholarlyarticle", "medicalscholarlyarticle", "article", "newsarticle",
                 "report", "creativework", "periodical", "chapter"}
# Below this a description is a teaser rather than an abstract.
MIN_DESCRIPTION_CHARS = 300
_MAX_JSONLD_CHARS = 500_000


def parse_landing(html: bytes | str, *, url: str | None = None,
                  source: str = "landing") -> PaperRecord | None:
    """The page's scholarly metadata, or None when it carries none we can read."""
    text = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "html.parser")
    meta = _meta(soup)
    ld = _jsonld_article(soup)

    def first(*names: str) -> str | None:
        for n in names:
            for v in meta.get(n, []):
                if v:
                    return v
        return None

    title = first("citation_title", "prism.title") or _ld_text(ld, "headline", "name") or \
        first("dc.title", "og:title")
    doi = None
    for candidate in (first("citation_doi", "prism.doi", "dc.identifier.doi"),
                      *meta.get("dc.identifier", []), _ld_doi(ld), first("og:url")):
        doi = find_doi(candidate)
        if doi:
            break
    abstract = first("citation_abstract") or _ld_text(ld, "abstract") or \
        first("dc.description", "prism.teaser")
    teaser = first("og:description", "description", "twitter:description") or \
        _ld_text(ld, "description")
    if not abstract:
        abstract = _body_abstract(soup)
    if not abstract and teaser and _long_enough(teaser):
        abstract = teaser
    authors = _authors(meta, ld)
    journal = first("citation_journal_title", "prism.publicationname") or _ld_journal(ld) or \
        first("citation_conference_title", "dc.source")
    pub_date = _date(first("citation_publication_date", "citation_date", "citation_online_date",
                           "prism.publicationdate", "prism.coverdate", "dc.date.issued",
                           "dc.date") or _ld_text(ld, "datePublished"))
    last = first("citation_lastpage", "prism.endingpage")
    pages = first("citation_firstpage", "prism.startingpage")
    if pages and last and last != pages:
        pages = f"{pages}-{last}"
    keywords = _keywords(meta.get("citation_keywords", []) + meta.get("dc.subject", []) +
                         meta.get("keywords", []))
    if not title or not (abstract or doi or authors or journal):
        return None
    rec = PaperRecord(
        source=source,
        entry_id=f"doi:{doi.lower()}" if doi else f"url:{url or title[:200]}",
        title=inline_text(title),
        abstract_sections=_sections(abstract),
        doi=doi,
        authors=authors,
        journal=squash(journal) or None,
        journal_abbrev=first("citation_journal_abbrev"),
        volume=first("citation_volume", "prism.volume"),
        issue=first("citation_issue", "prism.number"),
        pages=pages,
        pub_date=pub_date,
        keywords=keywords,
        url=url,
        language=first("citation_language", "dc.language", "og:locale"),
        source_kind=SOURCE_KIND,
    )
    return rec


def _meta(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Every <meta name|property=… content=…>, names lower-cased, values as plain text."""
    out: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        if not isinstance(tag, Tag):
            continue
        name = tag.get("name") or tag.get("property") or tag.get("itemprop")
        content = tag.get("content")
        if not isinstance(name, str) or not isinstance(content, str):
            continue
        value = html_to_text(content)
        if value:
            out.setdefault(name.strip().lower(), []).append(value)
    return out


def _body_abstract(soup: BeautifulSoup) -> str | None:
    """The abstract shown in the page itself: <section id="abstract"> or class="abstract"."""
    candidates = soup.find_all(["section", "div"], id=re.compile(r"^abstract$", re.I)) + \
        soup.find_all(["section", "div"], class_="abstract")
    for el in candidates:
        if not isinstance(el, Tag):
            continue
        paras = [squash(p.get_text(" ")) for p in el.find_all("p")]
        text = " ".join(p for p in paras if p)
        if len(text) >= 100:
            return text
    return None


def _jsonld_article(soup: BeautifulSoup) -> dict[str, Any] | None:
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        raw = script.string or script.get_text() or ""
        if not raw.strip() or len(raw) > _MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue  # broken JSON-LD is common; the meta tags may still do
        for node in _nodes(data):
            types = node.get("@type")
            names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
            if any(str(t).lower() in ARTICLE_TYPES for t in names):
                return node
    return None


def _nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for x in data:
            yield from _nodes(x, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _nodes(graph, depth + 1)


def _ld_text(ld: dict[str, Any] | None, *keys: str) -> str | None:
    if not ld:
        return None
    for k in keys:
        v = ld.get(k)
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, dict):
            v = v.get("@value") or v.get("text") or v.get("name")
        if isinstance(v, str) and v.strip():
            return html_to_text(v)
    return None


def _ld_doi(ld: dict[str, Any] | None) -> str | None:
    if not ld:
        return None
    for k in ("identifier", "sameAs", "@id", "url"):
        v = ld.get(k)
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, dict):
                item = item.get("value") or item.get("@id") or item.get("url")
            doi = find_doi(str(item)) if item else None
            if doi:
                return doi
    return None


def _ld_journal(ld: dict[str, Any] | None) -> str | None:
    node = ld.get("isPartOf") if ld else None
    for _ in range(3):  # issue → volume → periodical
        if not isinstance(node, dict):
            return None
        types = str(node.get("@type", "")).lower()
        if "periodical" in types and node.get("name"):
            return html_to_text(str(node["name"]))
        node = node.get("isPartOf")
    return None


def _authors(meta: dict[str, list[str]], ld: dict[str, Any] | None) -> list[Author]:
    names = meta.get("citation_author", [])
    affs = meta.get("citation_author_institution", [])
    if names:
        # Institutions follow their author in page order; only pair them when counts agree.
        paired = affs if len(affs) == len(names) else [None] * len(names)
        return [Author(name=n, affiliation=a) for n, a in zip(names, paired, strict=True)]
    if ld:
        raw = ld.get("author")
        out = []
        for a in raw if isinstance(raw, list) else [raw]:
            name = a.get("name") if isinstance(a, dict) else a
            if isinstance(name, str) and name.strip():
                out.append(Author(name=html_to_text(name)))
        if out:
            return out
    for key in ("dc.creator", "dc.creator.personalname", "dc.contributor"):
        if meta.get(key):
            return [Author(name=n) for n in meta[key]]
    return []


def _keywords(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        for k in re.split(r"\s*[;,]\s*", v) if ";" in v or v.count(",") > 1 else [v]:
            k = squash(k)
            if k and k.lower() not in (x.lower() for x in out):
                out.append(k)
    return out


def _sections(abstract: str | None) -> list[AbstractSection]:
    text = squash(re.sub(r"^\s*(abstract|summary)\s*[:.]?\s+", "", abstract or "",
                         flags=re.IGNORECASE))
    return [AbstractSection(None, text)] if text else []


def _long_enough(text: str) -> bool:
    t = text.rstrip()
    return len(t) >= MIN_DESCRIPTION_CHARS and not t.endswith(("...", "…"))


_ISO = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_WORDY = re.compile(r"(?:(\d{1,2})\s+)?([A-Za-z]{3,9})\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})")


def _date(value: str | None) -> str | None:
    """'2019/05/21', '2019-05-21T10:00Z', '21 May 2019', 'May 21, 2019' → ISO (partial)."""
    if not value:
        return None
    v = value.strip()
    m = _ISO.match(v)
    if m:
        return partial_date(m.group(1), m.group(2), m.group(3))
    m = _WORDY.search(v)
    if m:
        return partial_date(m.group(4), m.group(2), m.group(1) or m.group(3))
    return None
