"""Crossref REST ``/works/{doi}`` (and ``/works?filter=doi:…`` lists) → ``PaperRecord``s.

Abstracts arrive as JATS fragments (``<jats:sec><jats:title>Methods</jats:title>
<jats:p>…</jats:p></jats:sec>``); they become labelled ``AbstractSection``s of
plain text.  Retractions and corrections come from ``updated-by`` (notices about
this work) and ``update-to`` (this work is itself a notice about another).
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from newsflow.errors import ParseError
from newsflow.models import AbstractSection, Author, PaperRecord
from newsflow.parse.text import html_to_text, squash

SOURCE_KIND = "crossref"
# Crossref update types → the CommentsCorrections vocabulary PubMed uses, as (for a work
# updated by a notice, for the notice itself), so one set of rules marks papers whichever
# source told us.  new_version is neither and is skipped.
_RETRACTION = ("RetractionIn", "RetractionOf")
_ERRATUM = ("ErratumIn", "ErratumFor")
_UPDATE_TYPES = {
    "retraction": _RETRACTION, "withdrawal": _RETRACTION, "removal": _RETRACTION,
    "partial_retraction": ("PartialRetractionIn", "RetractionOf"),
    "correction": _ERRATUM, "erratum": _ERRATUM, "corrigendum": _ERRATUM,
    "addendum": _ERRATUM, "clarification": _ERRATUM,
    "expression_of_concern": ("ExpressionOfConcernIn", "ExpressionOfConcernFor"),
}
_ABSTRACT_HEADING = re.compile(r"^\s*(abstract|summary)\s*:?\s*$", re.IGNORECASE)


def parse_works(body: bytes, *, source: str = "crossref") -> list[PaperRecord]:
    """One work (``message-type: work``) or a list of them (``work-list``)."""
    doc = _json(body)
    kind = doc.get("message-type")
    message = doc.get("message")
    if kind == "work" and isinstance(message, dict):
        items = [message]
    elif kind == "work-list" and isinstance(message, dict):
        items = [i for i in message.get("items") or [] if isinstance(i, dict)]
    else:
        raise ParseError(f"not a Crossref works response (message-type {kind!r})")
    return [rec for rec in (work_record(i, source=source) for i in items) if rec is not None]


def _json(body: bytes) -> dict[str, Any]:
    if not body or not body.strip():
        raise ParseError("the Crossref response body is empty")
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        if body.lstrip()[:200].lower().startswith((b"<html", b"<!doctype html")):
            raise ParseError("got an HTML page where Crossref JSON was expected") from None
        # Crossref answers an unknown DOI with a plain-text "Resource not found."
        raise ParseError(f"the Crossref response is not JSON: {squash(body[:80].decode(errors='replace'))!r}") from None
    if not isinstance(doc, dict):
        raise ParseError("the Crossref response is not a JSON object")
    return doc


def work_record(item: dict[str, Any], *, source: str = "crossref") -> PaperRecord | None:
    doi = _first(item.get("DOI"))
    if not doi:
        return None
    resource = (item.get("resource") or {}).get("primary") or {}
    rec = PaperRecord(
        source=source,
        entry_id=f"doi:{doi.lower()}",
        title=inline_text(_first(item.get("title"))),
        abstract_sections=jats_abstract(item.get("abstract")),
        doi=doi,
        authors=[a for a in (_author(x) for x in item.get("author") or []) if a],
        journal=html_to_text(_first(item.get("container-title"))) or None,
        journal_abbrev=_first(item.get("short-container-title")) or None,
        volume=_first(item.get("volume")) or None,
        issue=_first(item.get("issue")) or None,
        pages=_first(item.get("page")) or None,
        pub_date=_date(item),
        grants=_grants(item.get("funder") or []),
        url=resource.get("URL") or item.get("URL"),
        language=_first(item.get("language")) or None,
        is_preprint=item.get("type") == "posted-content" and item.get("subtype") == "preprint",
        updates=work_updates(item),
        source_kind=SOURCE_KIND,
    )
    return rec


def work_updates(item: dict[str, Any]) -> list[dict[str, str]]:
    """Retraction/correction notices from ``updated-by`` and ``update-to``."""
    out: list[dict[str, str]] = []
    own = str(item.get("DOI") or "").lower()
    for key, side in (("updated-by", 0), ("update-to", 1)):
        for u in item.get(key) or []:
            if not isinstance(u, dict):
                continue
            raw = str(u.get("type") or "").lower()
            other = str(u.get("DOI") or "")
            if raw == "new_version" or (other.lower() == own and raw not in _UPDATE_TYPES):
                continue  # a new version of itself is not a correction
            kind = _UPDATE_TYPES[raw][side] if raw in _UPDATE_TYPES else raw or "update"
            entry = {"type": kind, "source": "crossref",
                     "crossref_type": raw}
            if other:
                entry["doi"] = other
            if u.get("label"):
                entry["label"] = str(u["label"])
            date = _parts((u.get("updated") or {}).get("date-parts"))
            if date:
                entry["date"] = date
            if entry not in out:
                out.append(entry)
    return out


def jats_abstract(jats: Any) -> list[AbstractSection]:
    """A JATS abstract fragment as labelled plain-text sections."""
    if not isinstance(jats, str) or not jats.strip():
        return []
    soup = _soup(jats)
    for t in soup.find_all(_is("title")):
        if _ABSTRACT_HEADING.match(t.get_text("")):
            t.extract()  # a heading, not content
    sections: list[AbstractSection] = []
    secs = [s for s in soup.find_all(_is("sec")) if not s.find_parent(_is("sec"))]
    if secs:
        for sec in secs:
            title = sec.find(_is("title"))
            label = _clean(title.get_text("")) if title else None
            if title:
                title.extract()
            text = " ".join(_clean(p.get_text("")) for p in sec.find_all(_is("p"))) \
                or _clean(sec.get_text(""))
            if text:
                sections.append(AbstractSection(label or None, text))
        return sections
    for p in soup.find_all(_is("p")) or [soup]:
        text = _clean(p.get_text(""))
        if text:
            sections.append(AbstractSection(None, text))
    return sections


def _soup(markup: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(markup, "html.parser")


def inline_text(markup: str) -> str:
    """Text of a title with inline markup (<i>, <sub>) joined without stray spaces."""
    return _clean(_soup(markup).get_text("")) if "<" in markup else _clean(markup)


def _is(local: str) -> Any:
    def match(tag: Tag) -> bool:
        return isinstance(tag, Tag) and tag.name.split(":")[-1] == local
    return match


def _clean(text: str) -> str:
    text = squash(text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    text = re.sub(r"\s+([)\],.;:])", r"\1", text)
    # Pretty-printed inline markup leaves "KRAS\n/\nNRAS"; the source meant "KRAS/NRAS".
    return re.sub(r"(?<=\w)\s+/\s+(?=\w)", "/", text)


def _first(v: Any) -> str:
    if isinstance(v, list):
        v = v[0] if v else ""
    return squash(str(v)) if v is not None else ""


def _author(x: Any) -> Author | None:
    if not isinstance(x, dict):
        return None
    name = squash(" ".join(p for p in (x.get("given"), x.get("family")) if p)) or \
        squash(x.get("name") or "")
    if not name:
        return None
    affs = [squash(a.get("name") or "") for a in x.get("affiliation") or [] if isinstance(a, dict)]
    orcid = x.get("ORCID")
    return Author(name=name, affiliation="; ".join(a for a in affs if a) or None,
                  orcid=str(orcid).rsplit("/", 1)[-1] if orcid else None)


def _parts(parts: Any) -> str | None:
    try:
        p = [int(x) for x in parts[0] if x is not None]
    except (TypeError, ValueError, IndexError):
        return None
    if not p:
        return None
    return "-".join([f"{p[0]:04d}"] + [f"{x:02d}" for x in p[1:3]])


def _date(item: dict[str, Any]) -> str | None:
    """The earliest of print and online publication, else Crossref's ``issued``."""
    found = [d for d in (_parts((item.get(k) or {}).get("date-parts"))
                         for k in ("published-online", "published-print")) if d]
    if found:
        return min(found)
    return _parts((item.get("issued") or item.get("published") or {}).get("date-parts"))


def _grants(funders: list[Any]) -> list[str]:
    out = []
    for f in funders:
        if not isinstance(f, dict) or not f.get("name"):
            continue
        awards = [str(a) for a in f.get("award") or [] if a]
        out.append(f"{squash(f['name'])}" + (f" ({', '.join(awards)})" if awards else ""))
    return out
