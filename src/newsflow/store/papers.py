"""Papers: one row per work, merged from every source that reported it.

A record is matched to a paper by its (source, entry_id), then normalised DOI,
PMID and PMCID, and last by a fingerprint of title, first author surname and
year.  When a record links papers that were stored apart (a PubMed record
carrying both the DOI one feed gave and the PMID another gave), they are folded
into the oldest.  Unique keys make this safe across processes: a record whose
insert loses a race is retried and then merges into the winner's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from newsflow import clock
from newsflow.errors import StoreError
from newsflow.models import AbstractSection, Author, Paper, PaperRecord, Relevance
from newsflow.records import (
    ROW_FIELDS,
    PreparedRecord,
    content_hash,
    merge,
    normalize_doi,
    normalize_pmcid,
    normalize_pmid,
    prepare,
)
from newsflow.store import Store, chunks
from newsflow.store.schema import drafts, facts, paper_sources, papers, sources

_MAX_ATTEMPTS = 5


@dataclass
class UpsertResult:
    entries: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    paper_ids: list[int] = field(default_factory=list)


# --- writing ---------------------------------------------------------------------------------

# Statements are built once and run with bound parameters: building a fresh statement
# per row costs more than executing it (SQLAlchemy cache-key generation).
_B = sa.bindparam
_SEL_LINK = (sa.select(paper_sources.c.paper_id, paper_sources.c.entry_hash)
             .where(paper_sources.c.source == _B("source"),
                    paper_sources.c.entry_id == _B("entry_id")))
_TOUCH_LINK = (paper_sources.update()
               .where(paper_sources.c.source == _B("b_source"),
                      paper_sources.c.entry_id == _B("b_entry_id"))
               .values(last_seen=_B("b_now")))
_RELINK = (paper_sources.update()
           .where(paper_sources.c.source == _B("b_source"),
                  paper_sources.c.entry_id == _B("b_entry_id"))
           .values(paper_id=_B("b_paper_id"), entry_hash=_B("b_hash"), last_seen=_B("b_now")))
_INSERT_LINK = paper_sources.insert()
# New papers and their links go in through the driver, not SQLAlchemy's insert: its
# per-value processing (JSON encoding, type checks) cost more than the insert itself,
# and PreparedRecord.values arrive ready to bind, JSON already encoded.
_PAPER_COLS = (*ROW_FIELDS, "created_at", "updated_at")
_LINK_COLS = ("paper_id", "source", "entry_id", "entry_hash", "first_seen", "last_seen")
_FP = ROW_FIELDS.index("fingerprint")
# Rows come back matched by a unique key: a multi-row RETURNING need not keep their order.
_UNIQUE_KEYS = ("doi", "pmid", "pmcid", "fingerprint")
_KEY_AT = tuple(ROW_FIELDS.index(k) for k in _UNIQUE_KEYS)
_ROWS_PER_INSERT = 500  # 28 columns: far below SQLite's 32,766 and PostgreSQL's 65,535 values
_SEL_BY_IDS = sa.select(papers.c.id).where(sa.or_(
    papers.c.doi == _B("doi"), papers.c.pmid == _B("pmid"), papers.c.pmcid == _B("pmcid")))
_SEL_BY_FP = (sa.select(papers.c.id, papers.c.doi, papers.c.pmid)
              .where(papers.c.fingerprint == _B("fp")))
_SEL_FP_OTHER = sa.select(papers.c.id).where(papers.c.fingerprint == _B("fp"),
                                             papers.c.id != _B("pid"))
_SEL_PAPER = sa.select(papers).where(papers.c.id == _B("pid"))
_SEL_KINDS = sa.select(sources.c.name, sources.c.kind)


def upsert_records(store: Store,
                   records: Iterable[PaperRecord | PreparedRecord]) -> UpsertResult:
    """Merge records into papers, one savepoint per record, one transaction per call."""
    result = UpsertResult()
    pending = [prepare(r) for r in records]
    for _attempt in range(_MAX_ATTEMPTS):
        retry: list[PreparedRecord] = []
        with store.write() as conn:
            kinds = dict(conn.execute(_SEL_KINDS).all())
            now = clock.utcnow()
            links = _known_links(conn, pending)
            touched = []
            fresh_ids = _insert_fresh(conn, pending, links, now)
            for pid in fresh_ids.values():
                _count(result, "new", pid)
            for rec in pending:
                if id(rec) in fresh_ids:
                    continue
                ehash = rec.entry_hash
                link = links.get((rec.source, rec.entry_id))
                if link is not None and link[1] == ehash:
                    # Seen before, byte for byte: only note that it is still there.
                    touched.append({"b_source": rec.source, "b_entry_id": rec.entry_id,
                                    "b_now": now})
                    _count(result, "unchanged", link[0])
                    continue
                try:
                    with conn.begin_nested():
                        outcome, pid = _upsert_one(conn, rec, ehash, kinds, now)
                except IntegrityError:
                    retry.append(rec)  # lost a race to another writer; its row exists now
                    continue
                _count(result, outcome, pid)
            if touched:
                conn.execute(_TOUCH_LINK, touched)
        if not retry:
            return result
        pending = retry
    raise StoreError(f"could not store {len(pending)} record(s) after {_MAX_ATTEMPTS} attempts: "
                     "unique keys kept conflicting")


def _insert_fresh(conn: sa.Connection, recs: list[PreparedRecord],
                  links: dict[tuple[str, str], tuple[int, str | None]],
                  now: Any) -> dict[int, int]:
    """Insert, in bulk, the records that cannot match any stored paper or each other.

    Most records of a first fetch are new works; one multi-row insert for them is far
    cheaper than the per-record merge.  Anything that might match goes the slow way.
    A record whose fingerprint is held by a paper with a conflicting DOI or PMID is
    a different work (``_matching_ids``): it is inserted here, without a fingerprint,
    just as the slow path would.  Returns ``id(record) → paper id`` for the records
    it inserted.
    """
    keyed: list[tuple[PreparedRecord, list[tuple[str, str]]]] = []
    for rec in recs:
        if (rec.source, rec.entry_id) in links:
            continue
        ids = [(k, v) for k, v in (("doi", rec.doi), ("pmid", rec.pmid), ("pmcid", rec.pmcid))
               if v]
        keyed.append((rec, ids))
    if not keyed:
        return {}
    counts: dict[tuple[str, str], int] = {}
    for _rec, ids in keyed:
        for key in ids:
            counts[key] = counts.get(key, 0) + 1
    taken = _taken_ids(conn, counts)
    # fingerprint → (doi, pmid) of the paper holding it, stored or inserted below
    holders = _fingerprint_holders(conn, {rec.fp for rec, _ids in keyed if rec.fp})
    seen_entries: set[tuple[str, str]] = set()
    fresh: list[tuple[PreparedRecord, str | None]] = []
    for rec, ids in keyed:
        fp = rec.fp
        entry = (rec.source, rec.entry_id)
        if entry in seen_entries or any(key in taken or counts[key] > 1 for key in ids):
            continue
        if fp is not None and fp in holders:
            if not _ids_conflict(rec, *holders[fp]):
                continue  # may be the same work: the slow path decides
            fp = None
        elif fp is not None:
            holders[fp] = (rec.doi, rec.pmid)
        seen_entries.add(entry)
        fresh.append((rec, fp))
    if not fresh:
        return {}
    stamp = _timestamp(conn, now)
    rows = [_paper_row(rec, fp, stamp) for rec, fp in fresh]
    try:
        with conn.begin_nested():
            pids = _insert_rows(conn, rows)
            conn.exec_driver_sql(_insert_sql(conn, "paper_sources", _LINK_COLS), [
                (pid, rec.source, rec.entry_id, rec.entry_hash, stamp, stamp)
                for (rec, _fp), pid in zip(fresh, pids, strict=True)])
    except IntegrityError:
        return {}  # another writer got there first; the per-record path sorts it out
    return {id(rec): pid for (rec, _fp), pid in zip(fresh, pids, strict=True)}


def _ids_conflict(rec: PreparedRecord, doi: str | None, pmid: str | None) -> bool:
    """A fingerprint match never overrides a conflicting identifier: these are two works."""
    return bool((rec.doi and doi and rec.doi != doi) or (rec.pmid and pmid and rec.pmid != pmid))


def _taken_ids(conn: sa.Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    taken: set[tuple[str, str]] = set()
    for part in chunks(sorted(set(keys))):
        wanted = {k: [v for key, v in part if key == k] for k in ("doi", "pmid", "pmcid")}
        where = " OR ".join(f"{k} IN ({_marks(conn, len(vals))})"
                            for k, vals in wanted.items() if vals)
        rows = conn.exec_driver_sql(f"SELECT doi, pmid, pmcid FROM papers WHERE {where}",
                                    tuple(v for vals in wanted.values() for v in vals))
        sought = {(k, v) for k, vals in wanted.items() for v in vals}
        for row in rows:
            taken.update(key for key in zip(("doi", "pmid", "pmcid"), row, strict=True)
                         if key in sought)
    return taken


def _fingerprint_holders(conn: sa.Connection,
                         fps: set[str]) -> dict[str, tuple[str | None, str | None]]:
    out = {}
    for part in chunks(sorted(fps)):
        sql = f"SELECT fingerprint, doi, pmid FROM papers WHERE fingerprint IN ({_marks(conn, len(part))})"
        for fp, doi, pmid in conn.exec_driver_sql(sql, tuple(part)):
            out[fp] = (doi, pmid)
    return out


def _timestamp(conn: sa.Connection, now: Any) -> Any:
    """``now`` as the driver takes it for a timestamp column (SQLite: SQLAlchemy's text,
    microseconds always written, so stored timestamps compare as text)."""
    ts_type = papers.c.created_at.type.dialect_impl(conn.dialect)
    process = ts_type.bind_processor(conn.dialect)
    return process(now) if process else now


def _paper_row(rec: PreparedRecord, fp: str | None, stamp: Any) -> tuple[Any, ...]:
    """``rec``'s new paper row in ``_PAPER_COLS`` order, with ``fp`` as its fingerprint
    (None where another work holds it) and ``stamp`` as created/updated time."""
    values = rec.values
    if fp != values[_FP]:
        values = (*values[:_FP], fp, *values[_FP + 1:])
    return (*values, stamp, stamp)


def _marks(conn: sa.Connection, n: int) -> str:
    """``n`` positional placeholders in the driver's style."""
    return ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * n)


def _insert_sql(conn: sa.Connection, table: str, cols: Sequence[str], rows: int = 1,
                returning: Sequence[str] = ()) -> str:
    one = f"({_marks(conn, len(cols))})"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([one] * rows)}"
    return sql + (f" RETURNING {', '.join(returning)}" if returning else "")


def _insert_rows(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert paper rows (``_PAPER_COLS`` order), a few statements in all; their ids, in
    the order of ``rows``."""
    def first_key(keys: Sequence[Any]) -> tuple[int, Any] | None:
        return next(((i, v) for i, v in enumerate(keys) if v is not None), None)

    def row_key(row: tuple[Any, ...]) -> tuple[int, Any] | None:
        return first_key([row[at] for at in _KEY_AT])

    keyed = [r for r in rows if row_key(r) is not None]
    by_key: dict[tuple[int, Any], int] = {}
    for part in chunks(keyed, _ROWS_PER_INSERT):
        sql = _insert_sql(conn, "papers", _PAPER_COLS, len(part), ("id", *_UNIQUE_KEYS))
        for pid, *keys in conn.exec_driver_sql(sql, tuple(v for r in part for v in r)):
            key = first_key(keys)
            assert key is not None
            by_key[key] = pid
    ids = []
    for r in rows:
        key = row_key(r)
        if key is None:  # no identifier and no fingerprint: rare, one at a time
            sql = _insert_sql(conn, "papers", _PAPER_COLS, 1, ("id",))
            ids.append(int(conn.exec_driver_sql(sql, r).scalar_one()))
        else:
            ids.append(by_key[key])
    return ids


def _count(result: UpsertResult, outcome: str, pid: int) -> None:
    result.entries += 1
    setattr(result, outcome, getattr(result, outcome) + 1)
    if pid not in result.paper_ids:
        result.paper_ids.append(pid)


def _known_links(conn: sa.Connection,
                 recs: Sequence[PreparedRecord]) -> dict[tuple[str, str], tuple[int, str | None]]:
    by_source: dict[str, list[str]] = {}
    for r in recs:
        by_source.setdefault(r.source, []).append(r.entry_id)
    out = {}
    for source, entry_ids in by_source.items():
        for part in chunks(entry_ids):
            sql = ("SELECT entry_id, paper_id, entry_hash FROM paper_sources WHERE source = "
                   f"{_marks(conn, 1)} AND entry_id IN ({_marks(conn, len(part))})")
            for entry_id, pid, ehash in conn.exec_driver_sql(sql, (source, *part)):
                out[(source, entry_id)] = (pid, ehash)
    return out


def _upsert_one(conn: sa.Connection, rec: PreparedRecord, ehash: str, kinds: dict[str, str],
                now: Any) -> tuple[str, int]:
    # Read the link again inside the savepoint: a retry after a lost race must see it.
    link = conn.execute(_SEL_LINK, {"source": rec.source, "entry_id": rec.entry_id}).first()
    ids = _matching_ids(conn, rec, link.paper_id if link else None)
    if not ids:
        pid = _insert(conn, rec, now)
        _link(conn, pid, rec, ehash, now, exists=False)
        return "new", pid

    keep = min(ids)
    for other in sorted(ids - {keep}):
        _fold(conn, keep, other)
    row = conn.execute(_SEL_PAPER, {"pid": keep}).mappings().one()
    values = merge(dict(row), rec.record, kinds)
    new_hash = content_hash(values)
    changed = new_hash != row["content_hash"]
    updates = {k: v for k, v in values.items() if row.get(k) != v}
    if updates.get("fingerprint") is not None and conn.execute(
            _SEL_FP_OTHER, {"fp": updates["fingerprint"], "pid": keep}).first():
        del updates["fingerprint"]  # another work shares it; keep ours unset rather than clash
    if updates:
        updates["content_hash"] = new_hash
        if changed:
            updates["updated_at"] = now
        conn.execute(papers.update().where(papers.c.id == keep).values(**updates))
    _link(conn, keep, rec, ehash, now, exists=link is not None)
    return ("updated" if changed else "unchanged"), keep


def _matching_ids(conn: sa.Connection, rec: PreparedRecord, linked: int | None) -> set[int]:
    ids: set[int] = {linked} if linked else set()
    if rec.doi or rec.pmid or rec.pmcid:
        ids |= set(conn.execute(_SEL_BY_IDS, {"doi": rec.doi, "pmid": rec.pmid,
                                              "pmcid": rec.pmcid}).scalars())
    if not ids:
        fp = rec.fp
        if fp:
            row = conn.execute(_SEL_BY_FP, {"fp": fp}).first()
            if row and not _ids_conflict(rec, row.doi, row.pmid):
                ids.add(row.id)
    return ids


def _insert(conn: sa.Connection, rec: PreparedRecord, now: Any) -> int:
    fp = rec.fp if rec.fp and not conn.execute(_SEL_BY_FP, {"fp": rec.fp}).first() else None
    return _insert_rows(conn, [_paper_row(rec, fp, _timestamp(conn, now))])[0]


def _link(conn: sa.Connection, pid: int, rec: PreparedRecord, ehash: str, now: Any,
          *, exists: bool) -> None:
    if exists:
        conn.execute(_RELINK, {"b_source": rec.source, "b_entry_id": rec.entry_id,
                               "b_paper_id": pid, "b_hash": ehash, "b_now": now})
    else:
        conn.execute(_INSERT_LINK, {"paper_id": pid, "source": rec.source,
                                    "entry_id": rec.entry_id, "entry_hash": ehash,
                                    "first_seen": now, "last_seen": now})


def _fold(conn: sa.Connection, keep: int, other: int) -> None:
    """Move everything of paper ``other`` onto ``keep`` and delete it."""
    row = conn.execute(sa.select(papers).where(papers.c.id == other)).mappings().one()
    conn.execute(paper_sources.update().where(paper_sources.c.paper_id == other)
                 .values(paper_id=keep))
    if conn.execute(sa.select(drafts.c.id).where(drafts.c.paper_id == keep)).first() is None:
        conn.execute(drafts.update().where(drafts.c.paper_id == other).values(paper_id=keep))
    conn.execute(facts.delete().where(facts.c.paper_id == other))
    conn.execute(papers.delete().where(papers.c.id == other))
    # Identifiers the folded paper had and the kept one lacks must survive.
    fill = {}
    kept = conn.execute(sa.select(papers.c.doi, papers.c.pmid, papers.c.pmcid)
                        .where(papers.c.id == keep)).mappings().one()
    for key in ("doi", "pmid", "pmcid"):
        if row[key] and not kept[key]:
            fill[key] = row[key]
    if fill:
        conn.execute(papers.update().where(papers.c.id == keep).values(**fill))


# --- reading ---------------------------------------------------------------------------------

def _to_paper(row: Any, source_names: list[str]) -> Paper:
    rel = row["relevance"]
    return Paper(
        id=row["id"], title=row["title"],
        abstract_sections=[AbstractSection(s.get("label"), s.get("text", ""))
                           for s in row["abstract_sections"] or []],
        doi=row["doi"], pmid=row["pmid"], pmcid=row["pmcid"],
        authors=[Author(a.get("name", ""), a.get("affiliation"), a.get("orcid"))
                 for a in row["authors"] or []],
        journal=row["journal"], journal_abbrev=row["journal_abbrev"], volume=row["volume"],
        issue=row["issue"], pages=row["pages"], pub_date=row["pub_date"],
        publication_types=list(row["publication_types"] or []),
        mesh_terms=list(row["mesh_terms"] or []), keywords=list(row["keywords"] or []),
        coi_statement=row["coi_statement"], grants=list(row["grants"] or []), url=row["url"],
        language=row["language"], is_preprint=bool(row["is_preprint"]),
        updates=list(row["updates"] or []), retracted=bool(row["retracted"]),
        corrected=bool(row["corrected"]), field_sources=dict(row["field_sources"] or {}),
        sources=source_names,
        relevance=Relevance(**rel) if isinstance(rel, dict) else None,
        relevance_override=row["relevance_override"], enrich_status=row["enrich_status"],
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _sources_for(conn: sa.Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = conn.execute(sa.select(paper_sources.c.paper_id, paper_sources.c.source)
                        .where(paper_sources.c.paper_id.in_(ids))
                        .order_by(paper_sources.c.first_seen, paper_sources.c.id))
    for pid, src in rows:
        if src not in out[pid]:
            out[pid].append(src)
    return out


def find_paper_id(store: Store, key: str | int) -> int | None:
    """The internal id for an id, DOI (any common form) or PMID; None when unknown."""
    text = str(key).strip()
    with store.read() as conn:
        if text.isdigit():
            pid = conn.execute(sa.select(papers.c.id).where(papers.c.id == int(text))).scalar()
            if pid is not None:
                return int(pid)
            return _by_pmid(conn, text)
        if text.lower().startswith("pmid:"):
            return _by_pmid(conn, normalize_pmid(text) or "")
        if text.upper().startswith("PMC"):
            pid = conn.execute(sa.select(papers.c.id)
                               .where(papers.c.pmcid == normalize_pmcid(text))).scalar()
            return int(pid) if pid is not None else None
        doi = normalize_doi(text)
        if doi:
            pid = conn.execute(sa.select(papers.c.id).where(papers.c.doi == doi)).scalar()
            return int(pid) if pid is not None else None
    return None


def _by_pmid(conn: sa.Connection, pmid: str) -> int | None:
    pid = conn.execute(sa.select(papers.c.id).where(papers.c.pmid == pmid)).scalar()
    if pid is None:  # a second PMID merged into a paper that kept its first one
        pid = conn.execute(sa.select(paper_sources.c.paper_id)
                           .where(paper_sources.c.entry_id == f"pmid:{pmid}").limit(1)).scalar()
    return int(pid) if pid is not None else None


def get_paper(store: Store, key: str | int) -> Paper:
    """A paper by internal id, DOI or PMID; raises StoreError naming the key if unknown."""
    pid = find_paper_id(store, key)
    if pid is None:
        raise StoreError(f"no paper with id, DOI or PMID {str(key)!r}")
    with store.read() as conn:
        row = conn.execute(sa.select(papers).where(papers.c.id == pid)).mappings().one()
        return _to_paper(row, _sources_for(conn, [pid])[pid])


def list_papers(store: Store, *, limit: int = 50, offset: int = 0, source: str | None = None,
                search: str | None = None) -> list[Paper]:
    """Newest first."""
    q = sa.select(papers).order_by(papers.c.created_at.desc(), papers.c.id.desc())
    if source:
        q = q.where(papers.c.id.in_(sa.select(paper_sources.c.paper_id)
                                    .where(paper_sources.c.source == source)))
    if search:
        q = q.where(papers.c.title.ilike(f"%{search}%"))
    with store.read() as conn:
        rows = list(conn.execute(q.limit(limit).offset(offset)).mappings())
        names = _sources_for(conn, [r["id"] for r in rows])
        return [_to_paper(r, names[r["id"]]) for r in rows]


def count_papers(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one())


def paper_source_rows(store: Store, paper_id: int) -> list[dict[str, Any]]:
    """Which sources reported a paper, with their entry ids and first/last seen times."""
    with store.read() as conn:
        rows = conn.execute(sa.select(paper_sources.c.source, paper_sources.c.entry_id,
                                      paper_sources.c.first_seen, paper_sources.c.last_seen)
                            .where(paper_sources.c.paper_id == paper_id)
                            .order_by(paper_sources.c.first_seen, paper_sources.c.id))
        return [dict(r._mapping) for r in rows]


def _pending() -> sa.ColumnElement[bool]:
    return sa.or_(papers.c.processed_hash.is_(None),
                  papers.c.processed_hash != papers.c.content_hash)


def pending_papers(store: Store, limit: int = 500) -> list[tuple[int, str | None]]:
    """(id, content_hash) of papers whose content changed since later stages last ran."""
    with store.read() as conn:
        q = (sa.select(papers.c.id, papers.c.content_hash).where(_pending())
             .order_by(papers.c.id).limit(limit))
        return [(int(i), h) for i, h in conn.execute(q).all()]


def pending_ids(after: int = 0) -> sa.Select[Any]:
    """A query of pending paper ids above ``after``, for ``store.leases.claim_papers``."""
    return sa.select(papers.c.id).where(_pending(), papers.c.id > after)


def current_hash(store: Store, paper_id: int) -> str | None:
    with store.read() as conn:
        return conn.execute(sa.select(papers.c.content_hash)
                            .where(papers.c.id == paper_id)).scalar_one_or_none()


def mark_processed(store: Store, paper_id: int, seen_hash: str | None) -> None:
    """Record that the stages saw ``seen_hash``; a change since then stays pending."""
    with store.write() as conn:
        conn.execute(papers.update().where(papers.c.id == paper_id)
                     .values(processed_hash=seen_hash))
