"""Retractions and corrections: recognise them, mark the paper, flag its drafts.

Signals, whichever source carried them (all end up in ``Paper.updates`` /
``publication_types``):

- PubMed publication types "Retracted Publication" and "Retraction of Publication",
  and CommentsCorrections (RetractionIn, ErratumIn, ExpressionOfConcernIn, …);
- Europe PMC ``commentCorrectionList`` ("Retraction in", "Erratum in", …);
- Crossref ``updated-by`` / ``update-to`` (``parse.crossref`` maps them onto the
  PubMed vocabulary).

``mark_retraction`` stores the marks and, the first time a paper gains one (or its
wording changes), sends every draft of the paper back to review with a banner
(``review.force_back_to_review``).  ``recheck_recent`` asks Crossref and PubMed again
about recent papers, for the daemon to run on a schedule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from newsflow import clock, review
from newsflow.app import App
from newsflow.errors import NewsflowError
from newsflow.http import Fetcher
from newsflow.models import Paper, PaperRecord
from newsflow.parse import crossref, pubmed
from newsflow.settings import Settings
from newsflow.store import Store
from newsflow.store import enrichment as store_enrichment
from newsflow.store import papers as store_papers

log = logging.getLogger(__name__)

RETRACTED_TYPES = {"retracted publication"}
NOTICE_TYPES = {"retraction of publication"}  # the paper *is* a retraction notice
RETRACTION_UPDATES = {"retractionin", "retraction in", "partialretractionin",
                      "partial retraction in"}
NOTICE_UPDATES = {"retractionof", "retraction of"}
CORRECTION_UPDATES = {"erratumin", "erratum in", "correctionin", "correction in",
                      "expressionofconcernin", "expression of concern in", "republishedin",
                      "republished in", "updatein", "update in"}


@dataclass
class Marks:
    retracted: bool
    corrected: bool
    banner: str | None


def _kind(u: dict[str, Any]) -> str:
    return str(u.get("type", "")).strip().lower()


def _cite(u: dict[str, Any]) -> str:
    where = u.get("doi") or (f"PMID {u['pmid']}" if u.get("pmid") else None) or u.get("ref")
    date = f", {u['date']}" if u.get("date") else ""
    src = f" ({u['source']})" if u.get("source") else ""
    return f"{where}{date}{src}" if where else f"notice{src}"


def marks_for(publication_types: list[str], updates: list[dict[str, Any]]) -> Marks:
    """What the paper's publication types and update notices say, with the banner text."""
    types = {t.strip().lower() for t in publication_types}
    retraction_in = [u for u in updates if _kind(u) in RETRACTION_UPDATES]
    notice_of = [u for u in updates if _kind(u) in NOTICE_UPDATES]
    corrections = [u for u in updates if _kind(u) in CORRECTION_UPDATES]
    if retraction_in or types & RETRACTED_TYPES:
        detail = "; ".join(_cite(u) for u in retraction_in) or "PubMed: Retracted Publication"
        return Marks(True, bool(corrections),
                     f"RETRACTED: this paper has been retracted ({detail}). Do not publish; "
                     "withdraw any published article.")
    if notice_of or types & NOTICE_TYPES:
        detail = "; ".join(_cite(u) for u in notice_of) or "PubMed: Retraction of Publication"
        return Marks(True, False, f"RETRACTION NOTICE: this record retracts another paper "
                                  f"({detail}); it is not a study to report.")
    if corrections:
        detail = "; ".join(f"{u.get('type')}: {_cite(u)}" for u in corrections)
        return Marks(False, True, f"CORRECTED: a correction or notice was published for this "
                                  f"paper ({detail}). Check the draft against it.")
    return Marks(False, False, None)


@dataclass
class MarkResult:
    paper_id: int
    retracted: bool
    corrected: bool
    banner: str | None
    changed: bool
    drafts_sent_back: list[int] = field(default_factory=list)


def mark_retraction(store: Store, paper_id: int, *, retracted: bool, corrected: bool,
                    updates: list[dict[str, Any]] | None = None,
                    banner: str | None = None) -> MarkResult:
    """Mark a paper retracted and/or corrected; marks are only ever added, never removed.

    When the marks or the banner are new, every draft of the paper goes back to review
    with the banner and a failing blocking check.
    """
    paper = store_papers.get_paper(store, paper_id)
    all_updates = list(paper.updates)
    for u in updates or []:
        if u not in all_updates:
            all_updates.append(u)
    retracted = retracted or paper.retracted
    corrected = corrected or paper.corrected
    if banner is None:
        banner = marks_for(paper.publication_types, all_updates).banner
    previous = store_enrichment.get_retraction_banner(store, paper_id)
    changed = store_enrichment.set_retraction_marks(
        store, paper_id, retracted=retracted, corrected=corrected, updates=all_updates)
    result = MarkResult(paper_id, retracted, corrected, banner, changed)
    if (retracted or corrected) and banner and banner != previous:
        result.drafts_sent_back = review.force_back_to_review(store, paper_id, banner)
        store_enrichment.set_retraction_banner(store, paper_id, banner)
        result.changed = True
        log.warning("paper %s marked: %s (%d drafts back to review)", paper_id, banner,
                    len(result.drafts_sent_back))
    return result


def sync_marks(store: Store, paper: Paper) -> MarkResult | None:
    """Apply what a stored paper's own types and notices say; None when there is nothing."""
    marks = marks_for(paper.publication_types, paper.updates)
    if not (marks.retracted or marks.corrected):
        return None
    return mark_retraction(store, paper.id, retracted=marks.retracted, corrected=marks.corrected,
                           banner=marks.banner)


# --- re-checking recent papers ---------------------------------------------------------------

@dataclass
class RecheckReport:
    checked: int = 0
    marked: list[MarkResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def _crossref_updates(fetcher: Fetcher, settings: Settings,
                            dois: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    base = settings["crossref.base_url"].rstrip("/")
    for i in range(0, len(dois), 20):
        batch = dois[i:i + 20]
        r = await fetcher.get(f"{base}/works", rate_key="crossref", params={
            "filter": ",".join(f"doi:{d}" for d in batch), "rows": str(len(batch)),
            "select": "DOI,updated-by,update-to,title", "mailto": settings["http.contact_email"]})
        if r.status != "ok":
            raise NewsflowError(f"Crossref re-check failed: {r.error or r.http_status}")
        for rec in crossref.parse_works(r.body, source="recheck:crossref"):
            if rec.doi and rec.updates:
                out[rec.doi.lower()] = rec.updates
    return out


async def _pubmed_records(fetcher: Fetcher, settings: Settings,
                          pmids: list[str]) -> dict[str, PaperRecord]:
    out: dict[str, PaperRecord] = {}
    base = settings["ncbi.base_url"].rstrip("/")
    for i in range(0, len(pmids), 100):
        batch = pmids[i:i + 100]
        r = await fetcher.get(f"{base}/efetch.fcgi", rate_key="ncbi", params={
            "db": "pubmed", "id": ",".join(batch), "retmode": "xml"})
        if r.status != "ok":
            raise NewsflowError(f"PubMed re-check failed: {r.error or r.http_status}")
        for rec in pubmed.parse_efetch(r.body, source="recheck:pubmed"):
            if rec.pmid:
                out[rec.pmid] = rec
    return out


async def recheck_recent_async(app: App, *, days: int = 90, limit: int = 500) -> RecheckReport:
    """Ask Crossref (by DOI) and PubMed (by PMID) again about papers stored in the last
    ``days``; mark any new retraction or correction.  A failing service is reported, not
    raised, so the other one still runs."""
    since = clock.utcnow() - dt.timedelta(days=days)
    papers = store_enrichment.recent_papers(app.store, since, limit=limit)
    report = RecheckReport(checked=len(papers))
    by_doi: dict[str, list[dict[str, Any]]] = {}
    by_pmid: dict[str, PaperRecord] = {}
    async with Fetcher.from_settings(app.settings) as fetcher:
        dois = [p.doi for p in papers if p.doi]
        pmids = [p.pmid for p in papers if p.pmid]
        try:
            by_doi = await _crossref_updates(fetcher, app.settings, dois) if dois else {}
        except Exception as e:
            report.problems.append(str(e))
        try:
            by_pmid = await _pubmed_records(fetcher, app.settings, pmids) if pmids else {}
        except Exception as e:
            report.problems.append(str(e))
    for p in papers:
        updates = list(by_doi.get((p.doi or "").lower(), []))
        types = list(p.publication_types)
        rec = by_pmid.get(p.pmid or "")
        if rec is not None:
            updates += [u for u in rec.updates if u not in updates]
            types += [t for t in rec.publication_types if t not in types]
        updates = [u for u in updates if u not in p.updates]
        marks = marks_for(types, list(p.updates) + updates)
        if not (marks.retracted or marks.corrected):
            continue
        res = mark_retraction(app.store, p.id, retracted=marks.retracted,
                              corrected=marks.corrected, updates=updates, banner=marks.banner)
        if res.changed:
            report.marked.append(res)
    return report


def recheck_recent(app: App, *, days: int = 90, limit: int = 500) -> RecheckReport:
    """For the daemon's schedule (e.g. daily)."""
    return asyncio.run(recheck_recent_async(app, days=days, limit=limit))
