"""Database side of publishing: due drafts, published articles, embargoes.

Functions that must share a transaction with file writes take a connection
(from ``store.write()``); the rest take the ``Store``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from newsflow.errors import PublishError
from newsflow.models import Article, PublishInput
from newsflow.store import Store
from newsflow.store.schema import drafts, facts, papers, published_articles

D, P, PA = drafts.c, papers.c, published_articles.c


def due_draft_ids(store: Store, now: dt.datetime) -> list[int]:
    """Drafts to publish now: approved ones, and published ones whose files are missing or
    older than the draft (an editor used review's "publish" action, or a run stopped between
    the state change and the files) -- in both cases only once any embargo has passed."""
    q = (sa.select(D.id).select_from(drafts.outerjoin(published_articles, PA.draft_id == D.id))
         .where(sa.or_(D.embargo_until.is_(None), D.embargo_until <= now))
         .where(sa.or_(D.state == "approved",
                       sa.and_(D.state == "published",
                               sa.or_(PA.id.is_(None), PA.draft_version.is_(None),
                                      PA.draft_version < D.version))))
         .order_by(D.approved_at, D.id))
    with store.read() as conn:
        return list(conn.execute(q).scalars())


def embargoed(store: Store, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    q = (sa.select(D.id, D.embargo_until).where(D.state == "approved")
         .where(D.embargo_until > now).order_by(D.embargo_until))
    with store.read() as conn:
        return [(r.id, r.embargo_until) for r in conn.execute(q)]


def load_input(conn: sa.Connection, draft_id: int) -> PublishInput | None:
    row = conn.execute(
        sa.select(D.id, D.version, D.state, D.title, D.body_markdown, D.approved_by,
                  D.embargo_until, D.paper_id, P.doi, P.pmid, P.journal, P.url,
                  P.evidence_level, P.retracted, P.corrected)
        .join(papers, P.id == D.paper_id).where(D.id == draft_id)).first()
    if row is None:
        return None
    tags: dict[str, list[str]] = {"condition": [], "intervention": [], "evidence_level": []}
    for f in conn.execute(sa.select(facts.c.name, facts.c.value, facts.c.normalized)
                          .where(facts.c.paper_id == row.paper_id)
                          .where(facts.c.name.in_(tuple(tags)))):
        tags[f.name].append(_fact_text(f.normalized, f.value))
    return PublishInput(
        draft_id=row.id, version=row.version, state=row.state, title=row.title,
        body_markdown=row.body_markdown, approved_by=row.approved_by,
        embargo_until=row.embargo_until, paper_id=row.paper_id, doi=row.doi, pmid=row.pmid,
        journal=row.journal, paper_url=row.url,
        evidence_level=row.evidence_level or next(iter(tags["evidence_level"]), None),
        retracted=bool(row.retracted), corrected=bool(row.corrected),
        conditions=tags["condition"], drugs=tags["intervention"])


def _fact_text(normalized: Any, value: str) -> str:
    # Normalised forms are strings for condition/intervention; anything else falls back to
    # the text as written in the abstract.
    return normalized if isinstance(normalized, str) and normalized else value


def lock_draft(conn: sa.Connection, draft_id: int) -> None:
    """Serialise publishers of one draft (PostgreSQL row lock; SQLite writers are serial)."""
    conn.execute(sa.select(D.id).where(D.id == draft_id).with_for_update())


def set_embargo(store: Store, draft_id: int, until: dt.datetime | None) -> None:
    with store.write() as conn:
        state = conn.execute(sa.select(D.state).where(D.id == draft_id)).scalar()
        if state is None:
            raise PublishError(f"no draft with id {draft_id}")
        if state in ("published", "rejected"):
            raise PublishError(f"draft {draft_id} is {state}; an embargo only applies to "
                               "drafts that are not yet published")
        conn.execute(sa.update(drafts).where(D.id == draft_id).values(embargo_until=until))


# -- published articles ---------------------------------------------------------------------

def article_to_json(a: Article) -> dict[str, Any]:
    d = asdict(a)
    d["published"] = a.published.isoformat()
    d["updated"] = a.updated.isoformat()
    return d


def article_from_json(d: dict[str, Any]) -> Article:
    d = dict(d)
    d["published"] = dt.datetime.fromisoformat(d["published"])
    d["updated"] = dt.datetime.fromisoformat(d["updated"])
    return Article(**d)


@dataclass
class Stored:
    article: Article
    content_hash: str
    paths: list[str]
    draft_version: int | None


def get_article(conn: sa.Connection, draft_id: int) -> Stored | None:
    row = conn.execute(sa.select(PA.article, PA.content_hash, PA.paths, PA.draft_version)
                       .where(PA.draft_id == draft_id)).first()
    if row is None or row.article is None:
        return None
    return Stored(article_from_json(row.article), row.content_hash, list(row.paths),
                  row.draft_version)


def mark_rendered(conn: sa.Connection, draft_id: int, draft_version: int) -> None:
    conn.execute(sa.update(published_articles).where(PA.draft_id == draft_id)
                 .values(draft_version=draft_version))


def slug_taken(conn: sa.Connection, slug: str, draft_id: int) -> bool:
    return conn.execute(sa.select(PA.id).where(PA.slug == slug)
                        .where(PA.draft_id != draft_id)).first() is not None


def save_article(conn: sa.Connection, a: Article, content_hash: str, paths: list[str],
                 withdrawn_reason: str | None = None) -> None:
    values = dict(slug=a.slug, status=a.status, content_hash=content_hash, paths=paths,
                  first_published_at=a.published, updated_at=a.updated,
                  draft_version=a.version, article=article_to_json(a),
                  withdrawn_reason=withdrawn_reason,
                  withdrawn_at=a.updated if a.status == "withdrawn" else None)
    res = conn.execute(sa.update(published_articles).where(PA.draft_id == a.draft_id)
                       .values(**values))
    if res.rowcount == 0:
        conn.execute(sa.insert(published_articles).values(draft_id=a.draft_id, **values))


def live_articles(store: Store) -> list[tuple[int, str, bool, bool]]:
    """(draft_id, draft state, paper retracted, paper corrected) of every live article."""
    q = (sa.select(PA.draft_id, D.state, P.retracted, P.corrected)
         .join(drafts, D.id == PA.draft_id).join(papers, P.id == D.paper_id)
         .where(PA.status == "live").order_by(PA.draft_id))
    with store.read() as conn:
        return [(r.draft_id, r.state, bool(r.retracted), bool(r.corrected))
                for r in conn.execute(q)]


def feed_articles(store: Store, limit: int) -> list[Article]:
    q = (sa.select(PA.article).where(PA.article.is_not(None))
         .order_by(PA.updated_at.desc(), PA.draft_id.desc()).limit(limit))
    with store.read() as conn:
        return [article_from_json(r.article) for r in conn.execute(q)]


def list_articles(store: Store) -> list[dict[str, Any]]:
    q = (sa.select(PA.draft_id, PA.slug, PA.status, PA.paths, PA.first_published_at,
                   PA.updated_at, PA.withdrawn_reason).order_by(PA.first_published_at, PA.id))
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def draft_id_for(store: Store, ref: str) -> int:
    """A draft id from an id or a published slug."""
    with store.read() as conn:
        if ref.isdigit():
            found = conn.execute(sa.select(D.id).where(D.id == int(ref))).scalar()
        else:
            found = conn.execute(sa.select(PA.draft_id).where(PA.slug == ref)).scalar()
    if found is None:
        raise PublishError(f"no draft or published article {ref!r}")
    return int(found)


def snapshots(conn: sa.Connection) -> list[Stored]:
    q = sa.select(PA.article, PA.content_hash, PA.paths, PA.draft_version) \
        .where(PA.article.is_not(None)).order_by(PA.id)
    return [Stored(article_from_json(r.article), r.content_hash, list(r.paths), r.draft_version)
            for r in conn.execute(q)]


def set_paths(conn: sa.Connection, draft_id: int, paths: list[str]) -> None:
    conn.execute(sa.update(published_articles).where(PA.draft_id == draft_id)
                 .values(paths=paths))


def draft_awaiting_review(store: Store, *, clean_only: bool) -> tuple[int, str, int] | None:
    """(id, state, version) of the oldest new/in-review draft; with ``clean_only``, the oldest
    with no failing blocking check."""
    q = (sa.select(D.id, D.state, D.version).where(D.state.in_(("new", "in_review")))
         .order_by(D.id).limit(1))
    if clean_only:
        q = q.where(D.blocking_failures == 0)
    with store.read() as conn:
        row = conn.execute(q).first()
    return (row.id, row.state, row.version) if row else None


def article_paths(store: Store, draft_id: int) -> list[str]:
    with store.read() as conn:
        paths = conn.execute(sa.select(PA.paths).where(PA.draft_id == draft_id)).scalar()
    return list(paths or [])


def count_drafts(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(drafts)).scalar() or 0)
