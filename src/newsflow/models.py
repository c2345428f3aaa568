"""Dataclasses passed between pipeline stages.

Stages never hand each other ORM rows or loose dicts: ``parse`` yields
``PaperRecord``s, ``store`` turns them into ``Paper``s, ``classify`` adds a
``Relevance``, ``extract`` adds ``Fact``s, ``draft`` makes a ``DraftContent``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal["feed", "pubmed", "europepmc"]


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[source]]`` table from config/sources.toml."""

    name: str
    kind: SourceKind
    url: str | None = None
    query: str | None = None
    base_url: str | None = None
    every_seconds: int = 3600
    enabled: bool = True
    tags: tuple[str, ...] = ()


FetchStatus = Literal["ok", "not_modified", "failed"]


@dataclass
class FetchResult:
    """The outcome of one HTTP exchange (after redirects, retries and caps)."""

    url: str
    status: FetchStatus
    http_status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    retry_after_s: float | None = None


@dataclass
class Author:
    name: str
    affiliation: str | None = None
    orcid: str | None = None


@dataclass
class AbstractSection:
    label: str | None
    text: str


@dataclass
class PaperRecord:
    """What one source said about one work, before merging.

    Every field is optional except the source bookkeeping: feeds often carry
    only a title and a link.
    """

    source: str
    entry_id: str
    title: str = ""
    abstract_sections: list[AbstractSection] = field(default_factory=list)
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    authors: list[Author] = field(default_factory=list)
    journal: str | None = None
    journal_abbrev: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_date: str | None = None  # ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD)
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    coi_statement: str | None = None
    grants: list[str] = field(default_factory=list)
    url: str | None = None
    language: str | None = None
    is_preprint: bool = False
    # Retraction/correction notices, e.g. {"type": "RetractionIn", "ref": "..."}
    updates: list[dict[str, str]] = field(default_factory=list)
    # Where each field came from when it did not come from ``source``.
    field_sources: dict[str, str] = field(default_factory=dict)
    # "feed", "pubmed" or "europepmc": decides whose field wins when records merge.
    source_kind: str = "feed"

    @property
    def abstract(self) -> str:
        return abstract_text(self.abstract_sections)


def abstract_text(sections: list[AbstractSection]) -> str:
    """The abstract as one string; section labels become ``LABEL: `` prefixes.

    Fact spans are character offsets into exactly this string, so every stage
    must build it through this function.
    """
    parts = []
    for s in sections:
        text = s.text.strip()
        if not text:
            continue
        parts.append(f"{s.label.upper()}: {text}" if s.label else text)
    return "\n".join(parts)


@dataclass
class Relevance:
    relevant: bool
    score: float
    reasons: list[str]
    population: Literal["human", "animal_or_lab", "unknown"] = "unknown"


@dataclass
class Fact:
    """One extracted study fact and the sentence it came from.

    ``span`` is (start, end) character offsets into ``Paper.abstract`` of the
    sentence (or tighter phrase) that supports the value.
    """

    name: str
    value: str
    normalized: Any
    confidence: float
    span: tuple[int, int]
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "normalized": self.normalized,
            "confidence": self.confidence,
            "span": list(self.span),
            "sentence": self.sentence,
        }


@dataclass
class Paper:
    """One scholarly work as stored: the merge of every ``PaperRecord``."""

    id: int
    title: str
    abstract_sections: list[AbstractSection] = field(default_factory=list)
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    authors: list[Author] = field(default_factory=list)
    journal: str | None = None
    journal_abbrev: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_date: str | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    coi_statement: str | None = None
    grants: list[str] = field(default_factory=list)
    url: str | None = None
    language: str | None = None
    is_preprint: bool = False
    updates: list[dict[str, str]] = field(default_factory=list)
    retracted: bool = False
    corrected: bool = False
    field_sources: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    relevance: Relevance | None = None
    relevance_override: bool | None = None
    facts: dict[str, Fact] = field(default_factory=dict)
    enrich_status: str = "pending"
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def abstract(self) -> str:
        return abstract_text(self.abstract_sections)

    @property
    def is_relevant(self) -> bool:
        if self.relevance_override is not None:
            return self.relevance_override
        return bool(self.relevance and self.relevance.relevant)


@dataclass
class Check:
    name: str
    passed: bool
    blocking: bool
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "blocking": self.blocking,
                "detail": self.detail}


@dataclass
class DraftContent:
    """What the drafting stage produces for one paper."""

    title: str
    body_markdown: str
    template_name: str
    template_version: str
    checks: list[Check] = field(default_factory=list)
    readability: dict[str, float] = field(default_factory=dict)
    # Number provenance: each number token in the body → where it came from.
    provenance: list[dict[str, Any]] = field(default_factory=list)


DraftState = Literal[
    "new", "in_review", "changes_requested", "approved", "published", "rejected"
]


@dataclass
class PublishInput:
    """An approved draft and the paper facts an article needs (store → publish)."""

    draft_id: int
    version: int
    state: str
    title: str
    body_markdown: str
    approved_by: str | None
    embargo_until: dt.datetime | None
    paper_id: int
    doi: str | None = None
    pmid: str | None = None
    journal: str | None = None
    paper_url: str | None = None
    evidence_level: str | None = None
    retracted: bool = False
    corrected: bool = False
    conditions: list[str] = field(default_factory=list)
    drugs: list[str] = field(default_factory=list)


@dataclass
class Article:
    """One published article: what the Markdown, HTML, JSON and feed entry are made from.

    It is stored as a snapshot (published_articles.article), so the files can be
    rebuilt byte for byte and a withdrawal never needs the draft's current text.
    """

    draft_id: int
    version: int
    slug: str
    title: str
    summary: str
    body_markdown: str
    published: dt.datetime
    updated: dt.datetime
    url: str
    feed_id: str
    tags: list[str] = field(default_factory=list)
    doi: str | None = None
    pmid: str | None = None
    source_journal: str | None = None
    source_url: str | None = None
    evidence_level: str | None = None
    reviewed_by: str | None = None
    status: Literal["live", "withdrawn"] = "live"
    notice: str | None = None  # shown above the body: withdrawal or correction
Role = Literal["admin", "editor", "viewer"]


@dataclass
class User:
    id: int
    username: str
    role: Role
    email: str | None = None
    disabled: bool = False
    created_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None

    @property
    def can_edit(self) -> bool:
        return self.role in ("admin", "editor") and not self.disabled


@dataclass
class DraftRecord:
    """A draft as the review queue sees it: the row plus its paper's identifiers."""

    id: int
    paper_id: int
    state: str
    version: int
    title: str
    body_markdown: str
    template_name: str
    template_version: str
    checks: list[Check] = field(default_factory=list)
    readability: dict[str, float] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    blocking_failures: int = 0
    human_edited: bool = False
    assignee: str | None = None
    priority: int = 0
    due_at: dt.datetime | None = None
    banner: str | None = None
    reject_reason: str | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    doi: str | None = None
    pmid: str | None = None
    design: str | None = None
    relevant: bool | None = None
    paper_title: str = ""
    sources: list[str] = field(default_factory=list)

    @property
    def failing_blocking(self) -> list[Check]:
        return [c for c in self.checks if c.blocking and not c.passed]
