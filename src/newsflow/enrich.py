"""Enrichment: fill in a paper's abstract and key metadata from richer sources.

For a paper that lacks an abstract or key metadata the chain tries, in order,

1. PubMed by DOI (esearch ``"<doi>"[doi]``, then efetch; straight to efetch when the
   PMID is known),
2. Europe PMC by DOI (or PMID),
3. Crossref ``/works/{doi}``, whose JATS abstract becomes plain text,
4. the article's landing page (citation_*, JSON-LD, PRISM, Dublin Core),

and stops as soon as nothing is missing.  Every request goes through the shared
``Fetcher`` (politeness, retries, size caps).  What each step found is merged
through ``store.papers.upsert_records`` under a source named ``enrich:<step>``,
so ``field_sources`` says which step supplied each field.  A paper that still has
no abstract is retried later with backoff (``enrich_status='retry'``); it is
never dropped, and the reason of each failed step is kept in ``enrich_error``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from newsflow import clock, records, retraction
from newsflow.app import App
from newsflow.errors import ParseError
from newsflow.http import Fetcher
from newsflow.models import FetchResult, Paper, PaperRecord
from newsflow.parse import crossref, europepmc, landing, pubmed
from newsflow.settings import Settings
from newsflow.store import enrichment as store_enrichment
from newsflow.store import papers as store_papers

log = logging.getLogger(__name__)

STEP_ORDER = ("pubmed", "europepmc", "crossref", "landing")
KEY_FIELDS = ("abstract", "authors", "journal", "pub_date", "publication_types")
# Fields the later steps cannot supply; missing them alone is no reason to retry.
_ONLY_FROM_INDEXES = ("publication_types",)
# Shorter than this, or ending in an ellipsis, an "abstract" is a feed's teaser.
MIN_ABSTRACT_CHARS = 200


@dataclass
class StepOutcome:
    step: str
    found: list[str] = field(default_factory=list)  # fields this step supplied
    note: str = ""  # why it found nothing, or what it skipped

    def line(self) -> str:
        return f"{self.step}: " + (f"found {', '.join(self.found)}" if self.found else self.note)


@dataclass
class EnrichResult:
    paper_id: int
    status: str  # done | retry | skipped
    missing_before: list[str]
    missing_after: list[str]
    steps: list[StepOutcome] = field(default_factory=list)
    next_at: dt.datetime | None = None

    @property
    def error(self) -> str | None:
        if self.status != "retry":
            return None
        tried = "; ".join(s.line() for s in self.steps) or "nothing to try"
        return f"still missing {', '.join(self.missing_after)} ({tried})"


def has_real_abstract(paper: Paper | PaperRecord) -> bool:
    text = paper.abstract.strip()
    return len(text) >= MIN_ABSTRACT_CHARS and not text.endswith(("...", "…", "[…]"))


def missing_fields(paper: Paper | PaperRecord) -> list[str]:
    out = []
    if not has_real_abstract(paper):
        out.append("abstract")
    for name in KEY_FIELDS[1:]:
        if not getattr(paper, name):
            out.append(name)
    return out


def _worth_retrying(missing: list[str]) -> bool:
    return any(m not in _ONLY_FROM_INDEXES for m in missing)


# --- the steps ---------------------------------------------------------------------------------

Step = Callable[[Fetcher, Settings, Paper], Awaitable[tuple[PaperRecord | None, str]]]


def _failure(what: str, r: FetchResult) -> str:
    if r.http_status is not None and r.http_status >= 400:
        return f"{what} answered HTTP {r.http_status}"
    return f"{what} failed: {r.error or r.status}"


async def step_pubmed(fetcher: Fetcher, settings: Settings,
                      paper: Paper) -> tuple[PaperRecord | None, str]:
    base = settings["ncbi.base_url"].rstrip("/")
    pmid = paper.pmid
    if not pmid:
        if not paper.doi:
            return None, "no DOI or PMID to look up"
        r = await fetcher.get(f"{base}/esearch.fcgi", rate_key="ncbi", params={
            "db": "pubmed", "term": f'"{paper.doi}"[doi]', "retmode": "xml", "retmax": "2"})
        if r.status != "ok":
            return None, _failure("esearch", r)
        found = pubmed.parse_esearch(r.body)
        if found.errors:
            return None, f"esearch error: {'; '.join(found.errors)}"
        if not found.ids:
            return None, "no PubMed record for this DOI"
        if len(found.ids) > 1:
            return None, f"the DOI matches {found.count} PubMed records; not guessing"
        pmid = found.ids[0]
    r = await fetcher.get(f"{base}/efetch.fcgi", rate_key="ncbi", params={
        "db": "pubmed", "id": pmid, "retmode": "xml", "rettype": "abstract"})
    if r.status != "ok":
        return None, _failure("efetch", r)
    records = [x for x in pubmed.parse_efetch(r.body, source="enrich:pubmed") if x.pmid == pmid]
    if not records:
        return None, f"efetch returned no record for PMID {pmid}"
    rec = records[0]
    if paper.doi and rec.doi and not _same_doi(paper.doi, rec.doi):
        return None, f"PMID {pmid} has DOI {rec.doi}, not {paper.doi}; not merging"
    return rec, ""


async def step_europepmc(fetcher: Fetcher, settings: Settings,
                         paper: Paper) -> tuple[PaperRecord | None, str]:
    if paper.doi:
        query = f'DOI:"{paper.doi}"'
    elif paper.pmid:
        query = f"EXT_ID:{paper.pmid} AND SRC:MED"
    else:
        return None, "no DOI or PMID to look up"
    r = await fetcher.get(f"{settings['europepmc.base_url'].rstrip('/')}/search",
                          rate_key="europepmc", params={
                              "query": query, "format": "json", "resultType": "core",
                              "pageSize": "5"})
    if r.status != "ok":
        return None, _failure("Europe PMC search", r)
    page = europepmc.parse_search(r.body, source="enrich:europepmc")
    for rec in page.records:
        if (paper.doi and rec.doi and _same_doi(paper.doi, rec.doi)) or \
                (not paper.doi and paper.pmid and rec.pmid == paper.pmid):
            return rec, ""
    return None, "no Europe PMC record for this DOI" if paper.doi else \
        "no Europe PMC record for this PMID"


async def step_crossref(fetcher: Fetcher, settings: Settings,
                        paper: Paper) -> tuple[PaperRecord | None, str]:
    if not paper.doi:
        return None, "no DOI to look up"
    url = f"{settings['crossref.base_url'].rstrip('/')}/works/{quote(paper.doi, safe='/:;()')}"
    r = await fetcher.get(url, rate_key="crossref",
                          params={"mailto": settings["http.contact_email"]})
    if r.status != "ok":
        return None, ("Crossref does not know this DOI (HTTP 404)" if r.http_status == 404
                      else _failure("Crossref", r))
    records = crossref.parse_works(r.body, source="enrich:crossref")
    rec = next((x for x in records if x.doi and _same_doi(x.doi, paper.doi)), None)
    if rec is None:
        return None, "Crossref returned a different work"
    return rec, ""


async def step_landing(fetcher: Fetcher, settings: Settings,
                       paper: Paper) -> tuple[PaperRecord | None, str]:
    url = paper.url if paper.url and not _is_index_url(paper.url) else None
    if not url and paper.doi:
        url = f"https://doi.org/{quote(paper.doi, safe='/:;()')}"
    if not url:
        return None, "no landing page URL or DOI"
    r = await fetcher.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
    if r.status != "ok":
        return None, _failure("landing page", r)
    ctype = r.headers.get("content-type", r.headers.get("Content-Type", "")).lower()
    if ctype and "html" not in ctype:
        return None, f"landing page is {ctype.split(';')[0]}, not HTML"
    rec = landing.parse_landing(r.body, url=r.url, source="enrich:landing")
    if rec is None:
        return None, "landing page has no citation, JSON-LD, PRISM or Dublin Core metadata"
    if paper.doi and rec.doi and not _same_doi(rec.doi, paper.doi):
        return None, f"landing page is for DOI {rec.doi}, not {paper.doi}"
    # One landing record per paper: the page's identity is the paper's.
    rec.entry_id = f"paper:{paper.id}"
    rec.doi, rec.pmid, rec.pmcid = paper.doi or rec.doi, paper.pmid, paper.pmcid
    return rec, ""


STEPS: dict[str, Step] = {"pubmed": step_pubmed, "europepmc": step_europepmc,
                          "crossref": step_crossref, "landing": step_landing}


def _same_doi(a: str, b: str) -> bool:
    return (records.normalize_doi(a) or a.lower()) == (records.normalize_doi(b) or
                                                            b.lower())


def _is_index_url(url: str) -> bool:
    """PubMed/Europe PMC record pages are not publisher landing pages."""
    return any(h in url for h in ("pubmed.ncbi.nlm.nih.gov", "europepmc.org/abstract",
                                  "ncbi.nlm.nih.gov/pubmed"))


def _overlay(view: Paper, rec: PaperRecord) -> list[str]:
    """Fill the working view's gaps from ``rec``; returns the key fields it supplied."""
    filled = []
    if not has_real_abstract(view) and has_real_abstract(rec):
        view.abstract_sections = list(rec.abstract_sections)
        filled.append("abstract")
    for name in ("authors", "journal", "pub_date", "publication_types", "mesh_terms",
                 "keywords", "journal_abbrev", "volume", "issue", "pages", "pmid", "pmcid",
                 "doi"):
        if not getattr(view, name) and getattr(rec, name):
            setattr(view, name, getattr(rec, name))
            if name in KEY_FIELDS:
                filled.append(name)
    if rec.url and not _is_index_url(rec.url) and (not view.url or _is_index_url(view.url)):
        view.url = rec.url
    return filled


async def gather(fetcher: Fetcher, settings: Settings,
                 paper: Paper) -> tuple[list[PaperRecord], list[StepOutcome], Paper]:
    """Run the steps until nothing is missing; no database access."""
    view = dataclasses.replace(paper, abstract_sections=list(paper.abstract_sections))
    records: list[PaperRecord] = []
    outcomes: list[StepOutcome] = []
    enabled = set(settings["enrich.steps"].split(","))
    for name in (n for n in STEP_ORDER if n in enabled):
        missing = missing_fields(view)
        if not missing:
            break
        if name in ("crossref", "landing") and not _worth_retrying(missing):
            break  # only PubMed and Europe PMC index publication types
        try:
            rec, note = await STEPS[name](fetcher, settings, view)
        except ParseError as e:
            rec, note = None, f"unreadable response: {e}"
        except Exception as e:  # a broken step must not stop the chain
            log.exception("enrichment step %s failed for paper %s", name, paper.id)
            rec, note = None, f"{type(e).__name__}: {e}"
        if rec is None:
            outcomes.append(StepOutcome(name, note=note))
            continue
        found = _overlay(view, rec)
        records.append(rec)
        outcomes.append(StepOutcome(name, found=found, note="" if found else "nothing new"))
    return records, outcomes, view


def retry_delay(settings: Settings, attempts: int) -> dt.timedelta:
    """15 min, 30 min, 1 h, … doubling; the longest wait once attempts pass the slow mark."""
    longest = int(settings["enrich.retry_max"])
    if attempts >= int(settings["enrich.max_attempts_before_slow"]):
        return dt.timedelta(seconds=longest)
    base = int(settings["enrich.retry_base"])
    return dt.timedelta(seconds=min(longest, base * 2 ** max(0, attempts - 1)))


async def enrich_one(app: App, fetcher: Fetcher, paper_id: int, *,
                     force: bool = False) -> EnrichResult:
    """Enrich one paper now (if it is due, or ``force``), store what was found and the state."""
    paper = store_papers.get_paper(app.store, paper_id)
    before = missing_fields(paper)
    state = store_enrichment.get_enrich_state(app.store, paper_id)
    now = clock.utcnow()
    if not force:
        if state.status == "done" and not _worth_retrying(before):
            return EnrichResult(paper_id, "skipped", before, before)
        if state.status == "retry" and state.next_at and state.next_at > now:
            return EnrichResult(paper_id, "skipped", before, before, next_at=state.next_at)
    if not before:
        store_enrichment.record_enrich_outcome(app.store, paper_id, status="done", error=None,
                                               attempts=state.attempts, next_at=None)
        return EnrichResult(paper_id, "done", before, before)
    records, outcomes, view = await gather(fetcher, app.settings, paper)
    if records:
        store_enrichment.link_enrichment_records(app.store, paper_id, records)
        store_papers.upsert_records(app.store, records)
    after = missing_fields(view)
    attempts = state.attempts + 1
    if _worth_retrying(after):
        result = EnrichResult(paper_id, "retry", before, after, outcomes,
                              next_at=now + retry_delay(app.settings, attempts))
    else:
        result = EnrichResult(paper_id, "done", before, after, outcomes)
    store_enrichment.record_enrich_outcome(app.store, paper_id, status=result.status,
                                           error=result.error, attempts=attempts,
                                           next_at=result.next_at)
    return result


def enrich_stage(app: App, paper_id: int) -> None:
    """Pipeline stage: enrich the paper when it needs it and is due, then apply any
    retraction or correction notice it now carries."""
    if app.settings["enrich.enabled"]:
        async def run() -> None:
            async with Fetcher.from_settings(app.settings) as fetcher:
                await enrich_one(app, fetcher, paper_id)
        asyncio.run(run())
    retraction.sync_marks(app.store, store_papers.get_paper(app.store, paper_id))


async def enrich_due_async(app: App, limit: int = 100) -> list[EnrichResult]:
    """Retry every paper whose backoff has run out, sharing one Fetcher (and its limits)."""
    ids = store_enrichment.due_for_enrichment(app.store, clock.utcnow(), limit=limit)
    out = []
    async with Fetcher.from_settings(app.settings) as fetcher:
        for pid in ids:
            try:
                out.append(await enrich_one(app, fetcher, pid))
            except Exception:
                log.exception("enriching paper %s failed", pid)
    return out


def enrich_due(app: App, limit: int = 100) -> list[EnrichResult]:
    """For the daemon: one pass over the papers due for another enrichment attempt."""
    return asyncio.run(enrich_due_async(app, limit))
