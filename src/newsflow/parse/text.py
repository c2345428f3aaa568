"""Small text helpers the parsers share: HTML to text, identifiers, dates."""

from __future__ import annotations

import datetime as dt
import re
import time
import warnings
from html import unescape

DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>&]+)", re.IGNORECASE)
_PUBMED_LINK = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|^pubmed:|/pmid/)(\d{1,9})\b")
_PMC = re.compile(r"\b(PMC\d{3,10})\b", re.IGNORECASE)


def squash(text: str | None) -> str:
    # str.split() splits on exactly what \s matches, and is several times faster.
    return " ".join(text.split()) if text else ""


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_TRICKY = re.compile(r"<(?:script|style|!--|!\[CDATA|\?)|<![A-Za-z]", re.IGNORECASE)


def html_to_text(html: str | None) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return squash(html)
    if not _TRICKY.search(html):
        # Plain markup (<p>, <i>, <sup>, links): dropping the tags gives what bs4 gives,
        # several times faster.  Scripts, comments and the like go through bs4.
        return squash(unescape(_TAG.sub(" ", html)))
    # Imported here: most feeds never need it, and every command would pay for it.
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return squash(soup.get_text(" "))


def find_doi(text: str | None) -> str | None:
    if not text:
        return None
    m = DOI_RE.search(text)
    if not m:
        return None
    doi = m.group(1)
    # URLs carry query strings and fragments; DOIs end before them and never in punctuation.
    doi = re.split(r"[?#]", doi)[0]
    return doi.rstrip(".,;:)]}'") or None


def find_pmid(text: str | None) -> str | None:
    if not text:
        return None
    m = _PUBMED_LINK.search(text)
    return m.group(1) if m else None


def find_pmcid(text: str | None) -> str | None:
    if not text:
        return None
    m = _PMC.search(text)
    return m.group(1).upper() if m else None


def struct_to_iso(st: time.struct_time | None) -> str | None:
    if not st:
        return None
    try:
        return dt.date(st.tm_year, st.tm_mon, st.tm_mday).isoformat()
    except ValueError:
        return None


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


def partial_date(year: str | None, month: str | None = None, day: str | None = None) -> str | None:
    """ISO 8601 date from loose parts: '2025', 'Jan' or '01', '5' → '2025-01-05'."""
    if not year or not year.strip()[:4].isdigit():
        return None
    y = int(year.strip()[:4])
    if not month:
        return f"{y:04d}"
    ms = month.strip().lower()
    mo = int(ms) if ms.isdigit() else _MONTHS.get(ms[:3])
    if not mo or not 1 <= mo <= 12:
        return f"{y:04d}"
    if not day or not day.strip().isdigit():
        return f"{y:04d}-{mo:02d}"
    d = int(day.strip())
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return f"{y:04d}-{mo:02d}"
