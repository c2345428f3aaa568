"""Europe PMC REST ``/search`` (format=json, resultType=core) → ``PaperRecord``s."""

from __future__ import annotations

import json
import re
from typing import Any

from newsflow.errors import ParseError
from newsflow.models import AbstractSection, Author, PaperRecord
from newsflow.parse.pubmed import UPDATE_TYPES
from newsflow.parse.results import SearchPage
from newsflow.parse.text import html_to_text, squash

# Structured abstracts arrive as HTML with each section introduced by <h4>Label</h4>.
_SECTION = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.IGNORECASE | re.DOTALL)


def parse_search(body: bytes, *, source: str) -> SearchPage:
    if not body or not body.strip():
        raise ParseError("the Europe PMC response body is empty")
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        start = body.lstrip()[:200].lower()
        if start.startswith((b"<html", b"<!doctype html")):
            raise ParseError("got an HTML page where Europe PMC JSON was expected") from None
        raise ParseError("the Europe PMC response is not JSON (ask for format=json)") from None
    if not isinstance(doc, dict) or "resultList" not in doc:
        detail = doc.get("errMsg") if isinstance(doc, dict) else None
        raise ParseError(f"not a Europe PMC search response{': ' + str(detail) if detail else ''}")
    results = (doc.get("resultList") or {}).get("result") or []
    records, problems = [], []
    for item in results:
        if not isinstance(item, dict):
            continue
        try:
            rec = _record(item, source)
        except (TypeError, ValueError, AttributeError) as e:
            problems.append(f"skipped result {item.get('id')!r}: {e}")
            continue
        if rec is not None:
            records.append(rec)
    request = doc.get("request") or {}
    cursor = request.get("cursorMark") if isinstance(request, dict) else None
    hit = doc.get("hitCount")
    return SearchPage(records=records, hit_count=int(hit) if isinstance(hit, int) else len(records),
                      cursor=str(cursor) if cursor else None,
                      next_cursor=doc.get("nextCursorMark"), problems=problems)


def _list(obj: Any, *keys: str) -> list[Any]:
    for k in keys:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj if isinstance(obj, list) else []


def abstract_sections(html: str | None) -> list[AbstractSection]:
    if not html:
        return []
    parts = _SECTION.split(html)
    sections: list[AbstractSection] = []
    lead = html_to_text(parts[0])
    if lead:
        sections.append(AbstractSection(None, lead))
    for i in range(1, len(parts) - 1, 2):
        label = html_to_text(parts[i]) or None
        text = html_to_text(parts[i + 1])
        if text:
            sections.append(AbstractSection(label, text))
    return sections


def _record(item: dict[str, Any], source: str) -> PaperRecord | None:
    src = str(item.get("source") or "")
    ident = str(item.get("id") or "")
    title = html_to_text(item.get("title"))
    if not ident and not title:
        return None
    journal_info = item.get("journalInfo") or {}
    journal = journal_info.get("journal") or {}
    authors = []
    for a in _list(item, "authorList", "author"):
        if not isinstance(a, dict):
            continue
        first, last = squash(a.get("firstName")), squash(a.get("lastName"))
        name = f"{first} {last}".strip() if last else squash(a.get("fullName") or
                                                              a.get("collectiveName"))
        if not name:
            continue
        affs = [squash(x.get("affiliation")) for x in
                _list(a, "authorAffiliationDetailsList", "authorAffiliation")
                if isinstance(x, dict)]
        author_id = a.get("authorId") or {}
        orcid = author_id.get("value") if author_id.get("type") == "ORCID" else None
        authors.append(Author(name=name, affiliation="; ".join(x for x in affs if x) or None,
                              orcid=orcid))
    pub_date = (item.get("firstPublicationDate") or journal_info.get("printPublicationDate") or
                item.get("pubYear"))
    grants = []
    for g in _list(item, "grantsList", "grant"):
        if isinstance(g, dict):
            text = ", ".join(str(g[k]) for k in ("grantId", "agency") if g.get(k))
            if text:
                grants.append(text)
    mesh = [squash(m.get("descriptorName")) for m in _list(item, "meshHeadingList", "meshHeading")
            if isinstance(m, dict) and m.get("descriptorName")]
    url = next((u.get("url") for u in _list(item, "fullTextUrlList", "fullTextUrl")
                if isinstance(u, dict) and u.get("url")), None)
    return PaperRecord(
        source=source, entry_id=f"{src}:{ident}"[:512], source_kind="europepmc", title=title,
        abstract_sections=abstract_sections(item.get("abstractText")),
        doi=item.get("doi"), pmid=item.get("pmid"), pmcid=item.get("pmcid"), authors=authors,
        journal=squash(journal.get("title")) or None,
        journal_abbrev=squash(journal.get("isoabbreviation") or
                              journal.get("medlineAbbreviation")) or None,
        volume=_short(journal_info.get("volume")), issue=_short(journal_info.get("issue")),
        pages=_short(item.get("pageInfo")),
        pub_date=str(pub_date)[:10] if pub_date else None,
        publication_types=[str(p) for p in _list(item, "pubTypeList", "pubType")],
        mesh_terms=mesh,
        keywords=[str(k) for k in _list(item, "keywordList", "keyword")],
        grants=grants, url=url or (f"https://europepmc.org/abstract/{src}/{ident}"
                                   if src and ident else None),
        language=_short(item.get("language")),
        is_preprint=src == "PPR" or "preprint" in
        [str(p).lower() for p in _list(item, "pubTypeList", "pubType")],
        updates=corrections(item),
    )


def corrections(item: dict[str, Any]) -> list[dict[str, str]]:
    """``commentCorrectionList`` entries that are notices ("Retraction in", "Erratum for", …),
    in PubMed's CommentsCorrections vocabulary ("RetractionIn", "ErratumFor")."""
    out = []
    for c in _list(item, "commentCorrectionList", "commentCorrection"):
        if not isinstance(c, dict):
            continue
        kind = "".join(w[:1].upper() + w[1:] for w in str(c.get("type") or "").split())
        if kind not in UPDATE_TYPES:
            continue  # comments, citations
        entry = {"type": kind, "ref": squash(c.get("reference")), "source": "europepmc"}
        if c.get("source") == "MED" and str(c.get("id") or "").isdigit():
            entry["pmid"] = str(c["id"])
        out.append(entry)
    return out


def _short(v: Any) -> str | None:
    return squash(str(v))[:50] or None if v is not None else None
