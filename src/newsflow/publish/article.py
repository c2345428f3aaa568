"""Turn an approved draft into an ``Article``: slug, summary, tags, stable ids."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from newsflow.models import Article, PublishInput
from newsflow.store.publish import article_to_json

SLUG_MAX = 80
SUMMARY_MAX = 280
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
RETRACTED_NOTICE = ("This article has been withdrawn: the study it described has been "
                    "retracted by the journal.")
CORRECTED_NOTICE = ("Correction: the journal has published a correction to the study this "
                    "article describes.")


def clean_text(text: str) -> str:
    """Drop control characters that are invalid in XML and YAML (feeds carry them)."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug or "article"


def summarize(body_markdown: str) -> str:
    """The first prose paragraph as plain text, cut at a word boundary."""
    for block in re.split(r"\n\s*\n", body_markdown.strip()):
        block = block.strip()
        if not block or block[0] in "#>|-*+" or re.match(r"^\d+[.)]\s", block):
            continue
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", block)
        text = re.sub(r"[*_`]+", "", text)
        text = " ".join(text.split())
        if len(text) > SUMMARY_MAX:
            text = text[:SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return clean_text(text)
    return ""


def tags_for(inp: PublishInput) -> list[str]:
    seen: dict[str, None] = {}
    for t in [*inp.conditions, *inp.drugs]:
        t = " ".join(clean_text(t).split())
        if t and t.lower() not in {s.lower() for s in seen}:
            seen[t] = None
    return list(seen)


def feed_id(base_url: str, published: dt.datetime, slug: str) -> str:
    """A tag: URI (RFC 4151) minted once from the site's host, the first date and the slug."""
    host = urlsplit(base_url).hostname or "newsflow.invalid"
    return f"tag:{host},{published:%Y-%m-%d}:{slug}"


def build(inp: PublishInput, previous: Article | None, now: dt.datetime, base_url: str,
          file_name: Callable[[Article], str],
          slug_free: Callable[[str], bool]) -> Article:
    """The article for ``inp``; it keeps the slug, dates and ids of ``previous``."""
    if previous is not None:
        slug, published, fid = previous.slug, previous.published, previous.feed_id
    else:
        slug = slugify(inp.title)
        if not slug_free(slug):
            slug = f"{slug}-{inp.draft_id}"
        published = now.replace(microsecond=0)
        fid = feed_id(base_url, published, slug)
    notice = CORRECTED_NOTICE if inp.corrected else None
    a = Article(
        draft_id=inp.draft_id, version=inp.version, slug=slug,
        title=one_line(inp.title), summary=summarize(inp.body_markdown),
        body_markdown=clean_text(inp.body_markdown).strip() + "\n",
        published=published, updated=published, url="", feed_id=fid, tags=tags_for(inp),
        doi=inp.doi, pmid=inp.pmid, source_journal=one_line(inp.journal or "") or None,
        source_url=f"https://doi.org/{inp.doi}" if inp.doi else inp.paper_url,
        evidence_level=inp.evidence_level, reviewed_by=inp.approved_by,
        status="live", notice=notice)
    a.url = base_url.rstrip("/") + "/" + file_name(a) + ".html"
    if previous is not None:
        if content_hash(a) == content_hash(previous) and previous.status == "live":
            return previous  # unchanged: keep the snapshot so every byte stays the same
        a.updated = max(now.replace(microsecond=0), previous.updated)
    return a


def withdrawn(a: Article, reason: str, now: dt.datetime) -> Article:
    notice = RETRACTED_NOTICE if reason == "retracted" else (
        "This article has been withdrawn" + (f": {reason}" if reason != "unpublished" else
                                             " while editors review it again."))
    if not notice.endswith("."):
        notice += "."
    return dataclasses.replace(a, status="withdrawn", notice=clean_text(notice),
                               updated=max(now.replace(microsecond=0), a.updated))


def content_hash(a: Article) -> str:
    """What readers see, minus the modification date and the draft's version counter (which
    every workflow step bumps): equal hashes mean nothing changed."""
    data = article_to_json(a)
    data.pop("updated")
    data.pop("version")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
