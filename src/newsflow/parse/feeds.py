"""Journal feeds (RSS 0.9x, RSS 1.0/RDF, RSS 2.0, Atom, JSON Feed) → ``PaperRecord``s.

feedparser only ever sees bytes we fetched ourselves, wrapped in BytesIO (a bare
str or bytes makes it try ``open()`` or a URL), and only after every DOCTYPE and
entity declaration is gone: feedparser keeps "safe" entities, which still allows a
quadratic blowup (ecosystem.md §2).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import feedparser

from newsflow.errors import ParseError
from newsflow.models import AbstractSection, Author, PaperRecord
from newsflow.parse import saxdriver, xmlsafe
from newsflow.parse.results import FeedParse
from newsflow.parse.text import (
    find_doi,
    find_pmcid,
    find_pmid,
    html_to_text,
    squash,
    struct_to_iso,
)

saxdriver.install()

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_FEED_ROOT = re.compile(rb"<(?:\w+:)?(?:rss|feed|RDF|channel)[\s>]")
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,\s*\n|\n|,(?=\s*\S+\s+\S))\s*")


def parse_feed(body: bytes, *, source: str, headers: Mapping[str, str] | None = None,
               url: str | None = None) -> FeedParse:
    """Parse a fetched feed body.  Raises ParseError when it is not a feed at all."""
    if not body or not body.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ParseError("the response body is empty")
    data, recoded = xmlsafe.to_ascii_compatible(body)
    head = data[:4096]
    if head.lstrip()[:1] in (b"{", b"["):
        return _parse_json_feed(data, source=source)
    data, removed = xmlsafe.strip_doctype(data)
    # Whitespace before the XML declaration makes strict parsers give up on the whole feed.
    stripped = data.lstrip(b" \t\r\n")
    if stripped is not data and stripped.startswith(b"<?xml"):
        data = stripped
    if xmlsafe.has_declarations(data):
        raise ParseError("the feed carries a DOCTYPE or entity declaration that could not be "
                         "removed safely; refusing to parse it")
    problems: list[str] = []
    if removed and re.search(rb"<!ENTITY", body[:200_000] if not recoded else data, re.I):
        problems.append("entity declarations were removed before parsing")
    # No Content-Location: given a base URI, feedparser joins it to every href in the
    # feed, a quarter of its parsing time.  We resolve the few links we keep ourselves.
    hdrs = {k.lower(): v for k, v in (headers or {}).items()
            if k.lower() in ("content-type", "content-language")}
    base = url or (headers or {}).get("content-location") or None
    if recoded:
        hdrs["content-type"] = "application/xml; charset=utf-8"
    # No sanitising: every field becomes plain text below, and is escaped wherever shown.
    d = feedparser.parse(io.BytesIO(data), response_headers=hdrs, resolve_relative_uris=False,
                         sanitize_html=False)
    version = d.get("version") or ""
    if not d.entries and not version:
        if _HTML_START.search(head) and not _FEED_ROOT.search(data[:65536]):
            raise ParseError("got an HTML page where a feed was expected")
        reason = _bozo_text(d) if d.get("bozo") else "no RSS, RDF or Atom elements found"
        raise ParseError(f"not a feed: {reason}")
    if d.get("bozo"):
        problems.append(_bozo_text(d))
    feed = d.feed
    feed_title = html_to_text(feed.get("title"))
    journal = html_to_text(feed.get("prism_publicationname")) or feed_title or None
    records = []
    for entry in d.entries:
        # A plain dict reads many times faster than a FeedParserDict; its aliases
        # ("updated_parsed" falling back to "published_parsed", say) are not needed here.
        rec = _entry_record(dict(entry), source=source, journal=journal, base=base)
        if rec is not None:
            records.append(rec)
    return FeedParse(records=records, problems=problems, version=version, title=feed_title)


def _bozo_text(d: Any) -> str:
    exc = d.get("bozo_exception")
    if exc is None:
        return "feed is not well-formed"
    get_line = getattr(exc, "getLineNumber", None)
    get_message = getattr(exc, "getMessage", None)
    if callable(get_line) and callable(get_message):
        return f"XML error at line {get_line()}: {squash(str(get_message()))[:300]}"
    msg = squash(str(exc))[:300]
    return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__


def _absolute(href: str, base: str | None) -> str:
    if not href or not base or _HAS_SCHEME.match(href):
        return href
    return urljoin(base, href)


def _entry_record(entry: Any, *, source: str, journal: str | None,
                  base: str | None = None) -> PaperRecord | None:
    title = html_to_text(entry.get("title"))
    link = _absolute(entry.get("link") or "", base)
    links = [_absolute(lk.get("href", ""), base) for lk in entry.get("links", [])
             if isinstance(lk, dict)]
    guid = entry.get("id") or ""
    summary_html = entry.get("summary") or ""
    contents = [c.get("value", "") for c in entry.get("content", []) if isinstance(c, dict)]
    # The longer of summary and content is usually the abstract; the other a citation line.
    body_html = max([summary_html, *contents], key=len)
    abstract = html_to_text(body_html)
    if not (title or link or guid or abstract):
        return None

    doi = None
    for candidate in (entry.get("prism_doi"), entry.get("dc_identifier"), *links, guid):
        doi = find_doi(candidate)
        if doi:
            break
    pmid = None
    for candidate in (guid, *links):
        pmid = find_pmid(candidate)
        if pmid:
            break
    pmcid = find_pmcid(entry.get("dc_identifier")) or next(
        (p for p in (find_pmcid(x) for x in links) if p), None)

    entry_journal = html_to_text(entry.get("prism_publicationname"))
    if entry_journal and entry_journal.lower() == title.lower():
        entry_journal = ""  # some Atypon feeds put the article title here
    rec_journal = entry_journal or html_to_text(entry.get("dc_source")) or journal

    pub_date = (struct_to_iso(entry.get("published_parsed"))
                or struct_to_iso(entry.get("updated_parsed"))
                or _loose_iso(entry.get("prism_publicationdate") or entry.get("dc_date")))
    first, last = entry.get("prism_startingpage"), entry.get("prism_endingpage")
    pages = f"{first}-{last}" if first and last else (first or None)
    entry_id = guid or link or _fallback_id(title, abstract)
    sections = [AbstractSection(None, abstract)] if abstract else []
    keywords = [squash(t.get("term")) for t in entry.get("tags", []) or []
                if isinstance(t, dict) and squash(t.get("term")) and len(t.get("term", "")) > 1]
    return PaperRecord(
        source=source, entry_id=entry_id[:512], title=title, abstract_sections=sections,
        doi=doi, pmid=pmid, pmcid=pmcid, authors=_authors(entry), journal=rec_journal or None,
        volume=_s(entry.get("prism_volume")), issue=_s(entry.get("prism_number")),
        pages=pages, pub_date=pub_date, keywords=keywords,
        url=link or (links[0] if links else None),
        language=_s(entry.get("language")),
    )


def _s(v: Any) -> str | None:
    text = squash(str(v)) if v is not None else ""
    return text[:50] or None


def _authors(entry: Any) -> list[Author]:
    names: list[str] = []
    for a in entry.get("authors", []) or []:
        name = squash(a.get("name")) if isinstance(a, dict) else ""
        if name:
            names.append(name)
    if not names and entry.get("author"):
        names.append(squash(entry.get("author")))
    # Some platforms put every author in one field: "A Smith, B Jones, C Lee".
    if len(names) == 1:
        raw = (entry.get("authors") or [{}])[0].get("name") or entry.get("author") or ""
        parts = [p for p in (squash(x) for x in _AUTHOR_SPLIT.split(raw)) if p]
        if len(parts) > 1:
            names = parts
    return [Author(name=html_to_text(n).rstrip(".") if n.endswith(".") and len(n) > 3 else
                   html_to_text(n)) for n in names][:200]


def _loose_iso(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    m = re.match(r"\s*(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not m:
        return None
    return "-".join(p for p in m.groups() if p)


def _fallback_id(title: str, abstract: str) -> str:
    return "sha1:" + hashlib.sha1(f"{title}\n{abstract}".encode()).hexdigest()


def _parse_json_feed(data: bytes, *, source: str) -> FeedParse:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(f"not a feed: JSON that does not parse ({e})") from None
    if not isinstance(doc, dict) or "jsonfeed.org" not in str(doc.get("version", "")):
        raise ParseError("not a feed: JSON without a JSON Feed version")
    raw_items = doc.get("items")
    items: list[Any] = raw_items if isinstance(raw_items, list) else []
    journal = squash(str(doc.get("title") or "")) or None
    records = []
    for item in items:
        if not isinstance(item, dict):
            continue
        title = html_to_text(str(item.get("title") or ""))
        url = str(item.get("url") or "") or None
        abstract = html_to_text(str(item.get("content_html") or item.get("summary") or
                                    item.get("content_text") or ""))
        entry_id = str(item.get("id") or url or _fallback_id(title, abstract))
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        records.append(PaperRecord(
            source=source, entry_id=entry_id[:512], title=title,
            abstract_sections=[AbstractSection(None, abstract)] if abstract else [],
            doi=find_doi(url) or find_doi(entry_id), journal=journal, url=url,
            pub_date=_loose_iso(item.get("date_published")),
            authors=[Author(squash(str(a.get("name")))) for a in authors
                     if isinstance(a, dict) and a.get("name")],
        ))
    version = "json" + str(doc.get("version", "")).rstrip("/").rsplit("/", 1)[-1]
    return FeedParse(records=records, version=version, title=journal or "")
