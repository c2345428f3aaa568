"""Review queue storage: drafts as editors see them, versions, comments, audit, queue queries.

Every change to a draft goes through ``apply_change``, which updates the row only if its
version is still the one the caller read (optimistic locking) and writes the audit event
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from newsflow.clock import utcnow
from newsflow.errors import ReviewError, StaleVersionError
from newsflow.models import Check, DraftContent, DraftRecord
from newsflow.store import Store
from newsflow.store.schema import (
    audit_events,
    comments,
    draft_versions,
    drafts,
    facts,
    paper_sources,
    papers,
    sources,
)

STATES = ("new", "in_review", "changes_requested", "approved", "published", "rejected")
OPEN_STATES = ("new", "in_review", "changes_requested")
SORTS = ("newest", "oldest", "priority")


def _checks(raw: Any) -> list[Check]:
    return [Check(name=c.get("name", "?"), passed=bool(c.get("passed")),
                  blocking=bool(c.get("blocking")), detail=str(c.get("detail") or ""))
            for c in (raw or [])]


def blocking_failures(checks: Sequence[Check | dict[str, Any]]) -> int:
    n = 0
    for c in checks:
        passed, blocking = ((c.passed, c.blocking) if isinstance(c, Check)
                            else (c.get("passed"), c.get("blocking")))
        n += int(bool(blocking) and not passed)
    return n


def create_draft(store: Store, paper_id: int, content: DraftContent, *, state: str = "new",
                 priority: int = 0, due_at: dt.datetime | None = None,
                 assignee: str | None = None, created_at: dt.datetime | None = None) -> int:
    """Insert a draft and its first ("auto") version; returns the draft id."""
    now = created_at or utcnow()
    checks = [c.to_json() for c in content.checks]
    with store.write() as c:
        draft_id = c.execute(drafts.insert().values(
            paper_id=paper_id, state=state, version=1, template_name=content.template_name,
            template_version=content.template_version, title=content.title,
            body_markdown=content.body_markdown, checks=checks,
            readability=content.readability, provenance=content.provenance,
            blocking_failures=blocking_failures(content.checks), human_edited=False,
            assignee=assignee, priority=priority, due_at=due_at, created_at=now,
            updated_at=now)).inserted_primary_key[0]  # type: ignore[index]
        c.execute(draft_versions.insert().values(
            draft_id=draft_id, version=1, kind="auto", title=content.title,
            body_markdown=content.body_markdown, checks=checks,
            readability=content.readability, template_version=content.template_version,
            author="newsflow", created_at=now))
        c.execute(audit_events.insert().values(
            draft_id=draft_id, actor="newsflow", action="created",
            detail={"state": state, "template": content.template_name}, created_at=now,
            version=1))
    forget_counts(store)
    return int(draft_id)


_DRAFT_COLS: list[Any] = [drafts, papers.c.doi, papers.c.pmid, papers.c.design, papers.c.relevant,
               papers.c.title.label("paper_title")]


def _record(row: Any, srcs: list[str] | None = None) -> DraftRecord:
    m = row._mapping
    return DraftRecord(
        id=m["id"], paper_id=m["paper_id"], state=m["state"], version=m["version"],
        title=m["title"], body_markdown=m["body_markdown"], template_name=m["template_name"],
        template_version=m["template_version"], checks=_checks(m["checks"]),
        readability=dict(m["readability"] or {}), provenance=list(m["provenance"] or []),
        blocking_failures=m["blocking_failures"], human_edited=bool(m["human_edited"]),
        assignee=m["assignee"], priority=m["priority"], due_at=m["due_at"],
        banner=m["banner"], reject_reason=m["reject_reason"], approved_by=m["approved_by"],
        approved_at=m["approved_at"], published_at=m["published_at"],
        created_at=m["created_at"], updated_at=m["updated_at"], doi=m["doi"], pmid=m["pmid"],
        design=m["design"], relevant=m["relevant"], paper_title=m["paper_title"] or "",
        sources=srcs or [])


def _get(c: sa.Connection, draft_id: int) -> DraftRecord | None:
    row = c.execute(sa.select(*_DRAFT_COLS).select_from(drafts.join(papers))
                    .where(drafts.c.id == draft_id)).first()
    if row is None:
        return None
    srcs = list(c.execute(sa.select(paper_sources.c.source)
                          .where(paper_sources.c.paper_id == row.paper_id)
                          .order_by(paper_sources.c.source)).scalars())
    return _record(row, srcs)


def get_draft(store: Store, draft_id: int) -> DraftRecord | None:
    with store.read() as c:
        return _get(c, draft_id)


def draft_ids_for_paper(store: Store, paper_id: int) -> list[int]:
    with store.read() as c:
        return list(c.execute(sa.select(drafts.c.id)
                              .where(drafts.c.paper_id == paper_id)).scalars())


@dataclass
class AuditEvent:
    id: int
    draft_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    created_at: dt.datetime
    version: int | None

    def describe(self) -> str:
        d = self.detail
        bits = [f"{self.actor} {self.action.replace('_', ' ')}"]
        if "to" in d and "from" in d:
            bits.append(f"{d['from']} → {d['to']}")
        for key in ("reason", "override_reason", "assignee", "priority", "due_at", "banner",
                    "fields"):
            if d.get(key) not in (None, "", []):
                val = ", ".join(d[key]) if isinstance(d[key], list) else d[key]
                bits.append(f"{key.replace('_', ' ')}: {val}")
        if self.version is not None:
            bits.append(f"(v{self.version})")
        return " ".join(bits)


def _audit_rows(c: sa.Connection, where: Any) -> list[AuditEvent]:
    rows = c.execute(audit_events.select().where(where).order_by(audit_events.c.id))
    return [AuditEvent(id=r.id, draft_id=r.draft_id, actor=r.actor, action=r.action,
                       detail=dict(r.detail or {}), created_at=r.created_at, version=r.version)
            for r in rows]


def list_audit(store: Store, draft_id: int) -> list[AuditEvent]:
    with store.read() as c:
        return _audit_rows(c, audit_events.c.draft_id == draft_id)


def add_audit(store: Store, draft_id: int | None, actor: str, action: str,
              detail: dict[str, Any], version: int | None = None) -> None:
    with store.write() as c:
        c.execute(audit_events.insert().values(draft_id=draft_id, actor=actor, action=action,
                                               detail=detail, created_at=utcnow(),
                                               version=version))


@dataclass
class Change:
    """What one action does to a draft row, and what it records."""

    action: str
    values: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    new_version_kind: str | None = None  # "edit" etc.: also store a draft_versions row


def apply_change(store: Store, draft_id: int, expected_version: int | None, actor: str,
                 change: Change) -> DraftRecord:
    """Apply ``change`` if the draft is still at ``expected_version``; bump the version.

    ``expected_version=None`` is for system actions (retraction) that must win regardless.
    """
    now = utcnow()
    with store.write() as c:
        current = c.execute(sa.select(drafts.c.version).where(drafts.c.id == draft_id)
                            .with_for_update()).scalar()
        if current is None:
            raise ReviewError(f"no draft {draft_id}")
        base = current if expected_version is None else expected_version
        values = dict(change.values, version=base + 1, updated_at=now)
        res = c.execute(drafts.update().where(drafts.c.id == draft_id,
                                              drafts.c.version == base).values(**values))
        if res.rowcount != 1:
            raise stale_error(c, draft_id, base, current)
        if change.new_version_kind:
            row = c.execute(drafts.select().where(drafts.c.id == draft_id)).one()
            c.execute(draft_versions.insert().values(
                draft_id=draft_id, version=base + 1, kind=change.new_version_kind,
                title=row.title, body_markdown=row.body_markdown, checks=row.checks,
                readability=row.readability, template_version=row.template_version,
                author=actor, created_at=now))
        c.execute(audit_events.insert().values(
            draft_id=draft_id, actor=actor, action=change.action, detail=change.detail,
            created_at=now, version=base + 1))
        rec = _get(c, draft_id)
    if "state" in change.values:
        forget_counts(store)
    assert rec is not None
    return rec


def stale_error(c: sa.Connection, draft_id: int, expected: int, current: int) -> StaleVersionError:
    events = _audit_rows(c, sa.and_(audit_events.c.draft_id == draft_id,
                                    audit_events.c.version > expected))
    changes = "; ".join(e.describe() for e in events) or "the draft was changed"
    return StaleVersionError(
        f"draft {draft_id} changed since you loaded version {expected} (now version "
        f"{current}): {changes}. Nothing was saved; reload and apply your change again.",
        current_version=current, changes=changes)


def stale_error_for(store: Store, draft_id: int, expected: int,
                    current: int) -> StaleVersionError:
    with store.read() as c:
        return stale_error(c, draft_id, expected, current)


def update_meta(store: Store, draft_id: int, actor: str, action: str, values: dict[str, Any],
                detail: dict[str, Any]) -> None:
    """Assignment, priority and due date: audited, but not versioned, so they never make
    someone's open edit stale."""
    now = utcnow()
    with store.write() as c:
        res = c.execute(drafts.update().where(drafts.c.id == draft_id)
                        .values(**values, updated_at=now))
        if res.rowcount != 1:
            raise ReviewError(f"no draft {draft_id}")
        c.execute(audit_events.insert().values(draft_id=draft_id, actor=actor, action=action,
                                               detail=detail, created_at=now))


@dataclass
class VersionRow:
    version: int
    kind: str
    title: str
    body_markdown: str
    checks: list[Check]
    author: str | None
    created_at: dt.datetime


def _version(r: Any) -> VersionRow:
    return VersionRow(version=r.version, kind=r.kind, title=r.title,
                      body_markdown=r.body_markdown, checks=_checks(r.checks), author=r.author,
                      created_at=r.created_at)


def list_versions(store: Store, draft_id: int) -> list[VersionRow]:
    with store.read() as c:
        rows = c.execute(draft_versions.select().where(draft_versions.c.draft_id == draft_id)
                         .order_by(draft_versions.c.version))
        return [_version(r) for r in rows]


def get_version(store: Store, draft_id: int, version: int) -> VersionRow | None:
    with store.read() as c:
        r = c.execute(draft_versions.select().where(draft_versions.c.draft_id == draft_id,
                                                    draft_versions.c.version == version)).first()
    return _version(r) if r else None


@dataclass
class Comment:
    id: int
    author: str
    body: str
    created_at: dt.datetime


def add_comment(store: Store, draft_id: int, author: str, body: str) -> None:
    now = utcnow()
    with store.write() as c:
        cid = c.execute(comments.insert().values(draft_id=draft_id, author=author, body=body,
                                                 created_at=now)).inserted_primary_key[0]  # type: ignore[index]
        c.execute(audit_events.insert().values(draft_id=draft_id, actor=author,
                                               action="commented",
                                               detail={"comment_id": cid}, created_at=now))


def list_comments(store: Store, draft_id: int) -> list[Comment]:
    with store.read() as c:
        rows = c.execute(comments.select().where(comments.c.draft_id == draft_id)
                         .order_by(comments.c.id))
        return [Comment(id=r.id, author=r.author, body=r.body, created_at=r.created_at)
                for r in rows]


# --- the source side of the draft page ------------------------------------------------------

@dataclass
class SourceFact:
    name: str
    value: str
    span_start: int
    span_end: int
    sentence: str


@dataclass
class PaperView:
    id: int
    title: str
    abstract_sections: list[dict[str, Any]]
    doi: str | None
    pmid: str | None
    journal: str | None
    pub_date: str | None
    authors: list[dict[str, Any]]
    publication_types: list[str]
    design: str | None
    evidence_level: str | None
    relevance: dict[str, Any] | None
    retracted: bool
    url: str | None
    is_preprint: bool
    facts: list[SourceFact]
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None

    def record(self) -> list[tuple[str, str]]:
        """The bibliographic fields a number in a draft may also come from."""
        fields = [("title", self.title), ("journal", self.journal or ""),
                  ("publication date", self.pub_date or ""), ("volume", self.volume or ""),
                  ("issue", self.issue or ""), ("pages", self.pages or ""),
                  ("DOI", self.doi or ""), ("PMID", self.pmid or "")]
        fields += [("author", str(a.get("name", ""))) for a in self.authors]
        return [(k, v) for k, v in fields if v]


def paper_view(store: Store, paper_id: int) -> PaperView | None:
    with store.read() as c:
        p = c.execute(papers.select().where(papers.c.id == paper_id)).first()
        if p is None:
            return None
        fs = c.execute(facts.select().where(facts.c.paper_id == paper_id)
                       .order_by(facts.c.span_start))
        fact_list = [SourceFact(name=f.name, value=f.value, span_start=f.span_start,
                                span_end=f.span_end, sentence=f.sentence) for f in fs]
    return PaperView(id=p.id, title=p.title, abstract_sections=list(p.abstract_sections or []),
                     doi=p.doi, pmid=p.pmid, journal=p.journal, pub_date=p.pub_date,
                     authors=list(p.authors or []),
                     publication_types=list(p.publication_types or []), design=p.design,
                     evidence_level=p.evidence_level, relevance=p.relevance,
                     retracted=bool(p.retracted), url=p.url, is_preprint=bool(p.is_preprint),
                     facts=fact_list, volume=p.volume, issue=p.issue, pages=p.pages)


# --- the queue ------------------------------------------------------------------------------

@dataclass
class QueueFilter:
    state: str = "open"  # "open", "all" or one of STATES
    source: str | None = None
    design: str | None = None
    relevance: str | None = None  # "relevant" | "not_relevant"
    failing: bool = False  # only drafts with a failing blocking check
    assignee: str | None = None
    q: str | None = None
    sort: str = "newest"


@dataclass
class QueueItem:
    id: int
    state: str
    version: int
    title: str
    doi: str | None
    pmid: str | None
    design: str | None
    relevant: bool | None
    journal: str | None
    blocking_failures: int
    assignee: str | None
    priority: int
    due_at: dt.datetime | None
    created_at: dt.datetime
    banner: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "version": self.version,
                "title": self.title, "doi": self.doi, "pmid": self.pmid,
                "design": self.design, "blocking_failures": self.blocking_failures,
                "assignee": self.assignee, "priority": self.priority,
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "created_at": self.created_at.isoformat()}


# Counting every state reads the whole state index (O(drafts)); the queue page shows the
# counts on every load, so they are kept for a few seconds per database and dropped at once
# when this process changes a draft.  Changes by other processes show within COUNTS_TTL.
COUNTS_TTL = 5.0
_counts_cache: dict[str, tuple[float, dict[str, int]]] = {}


def forget_counts(store: Store) -> None:
    _counts_cache.pop(store.url, None)


def queue_counts(store: Store, *, max_age: float = COUNTS_TTL) -> dict[str, int]:
    hit = _counts_cache.get(store.url)
    if hit and time.monotonic() - hit[0] < max_age:
        return dict(hit[1])
    with store.read() as c:
        rows = c.execute(sa.select(drafts.c.state, sa.func.count()).group_by(drafts.c.state))
        got = {r[0]: int(r[1]) for r in rows}
    counts = {s: got.get(s, 0) for s in STATES}
    _counts_cache[store.url] = (time.monotonic(), counts)
    return dict(counts)


_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.I)
_PMID = re.compile(r"^(?:pmid:?\s*)?(\d{1,9})$", re.I)


def _where(f: QueueFilter) -> list[Any]:
    conds: list[Any] = []
    if f.state == "open":
        conds.append(drafts.c.state.in_(OPEN_STATES))
    elif f.state in STATES:
        conds.append(drafts.c.state == f.state)
    elif f.state != "all":
        raise ReviewError(f"unknown state {f.state!r} (allowed: open, all, {', '.join(STATES)})")
    if f.source:
        # IN (subquery), not a correlated EXISTS: SQLite builds the source's paper set once.
        conds.append(drafts.c.paper_id.in_(sa.select(paper_sources.c.paper_id)
                                           .where(paper_sources.c.source == f.source)))
    if f.design:
        conds.append(papers.c.design == f.design)
    if f.relevance == "relevant":
        conds.append(papers.c.relevant.is_(True))
    elif f.relevance == "not_relevant":
        conds.append(papers.c.relevant.is_(False))
    if f.failing:
        conds.append(drafts.c.blocking_failures > 0)
    if f.assignee:
        conds.append(drafts.c.assignee == f.assignee)
    q = (f.q or "").strip()
    if q:
        if m := _DOI.match(q):
            doi = m.group(1)
            conds.append(papers.c.doi.in_({doi, doi.lower()}))
        elif m := _PMID.match(q):
            conds.append(papers.c.pmid == m.group(1))
        else:
            like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(sa.func.lower(drafts.c.title).like(like, escape="\\"))
    return conds


def _sort_keys(sort: str) -> tuple[list[Any], bool]:
    if sort == "newest":
        return [drafts.c.created_at, drafts.c.id], True
    if sort == "oldest":
        return [drafts.c.created_at, drafts.c.id], False
    if sort == "priority":
        return [drafts.c.priority, drafts.c.id], True
    raise ReviewError(f"unknown sort {sort!r} (allowed: {', '.join(SORTS)})")


def _cursor_of(item: QueueItem, sort: str) -> str:
    first = str(item.priority) if sort == "priority" else item.created_at.isoformat()
    return f"{first}|{item.id}"


def _parse_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        first, _, last_id = cursor.rpartition("|")
        key: Any = int(first) if sort == "priority" else dt.datetime.fromisoformat(first)
        return key, int(last_id)
    except ValueError:
        raise ReviewError(f"bad page cursor {cursor!r}; start again from the first page") \
            from None


def queue_page(store: Store, f: QueueFilter, *, after: str | None = None,
               limit: int = 50) -> tuple[list[QueueItem], str | None]:
    """One page of the queue; returns the items and the cursor of the next page (or None)."""
    keys, desc = _sort_keys(f.sort)
    conds = _where(f)
    if after:
        k0, k1 = _parse_cursor(after, f.sort)
        first, tie = keys
        # Spelled out rather than as a row-value comparison so SQLite can seek the index
        # on the first key instead of scanning from the top (deep pages stay fast).
        if desc:
            conds += [first <= k0, sa.or_(first < k0, tie < k1)]
        else:
            conds += [first >= k0, sa.or_(first > k0, tie > k1)]
    order = [k.desc() if desc else k.asc() for k in keys]
    stmt = (sa.select(drafts.c.id, drafts.c.state, drafts.c.version, drafts.c.title,
                      papers.c.doi, papers.c.pmid, papers.c.design, papers.c.relevant,
                      papers.c.journal, drafts.c.blocking_failures, drafts.c.assignee,
                      drafts.c.priority, drafts.c.due_at, drafts.c.created_at, drafts.c.banner)
            .select_from(drafts.join(papers)).where(*conds).order_by(*order).limit(limit + 1))
    with store.read() as c:
        rows = c.execute(stmt).all()
    items = [QueueItem(id=r.id, state=r.state, version=r.version, title=r.title, doi=r.doi,
                       pmid=r.pmid, design=r.design, relevant=r.relevant, journal=r.journal,
                       blocking_failures=r.blocking_failures, assignee=r.assignee,
                       priority=r.priority, due_at=r.due_at, created_at=r.created_at,
                       banner=r.banner) for r in rows[:limit]]
    nxt = _cursor_of(items[-1], f.sort) if len(rows) > limit and items else None
    return items, nxt


def filter_options(store: Store) -> dict[str, list[str]]:
    """Values the queue filters offer: known sources and study designs."""
    with store.read() as c:
        srcs = list(c.execute(sa.select(sources.c.name).order_by(sources.c.name)).scalars())
        designs = list(c.execute(sa.select(papers.c.design).where(papers.c.design.is_not(None))
                                 .distinct().order_by(papers.c.design)).scalars())
    return {"sources": srcs, "designs": designs}


def ping(store: Store) -> bool:
    try:
        with store.read() as c:
            c.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
