"""What sources say about a work, merged without SQL: identifiers normalised,
fingerprints, hashes, and the field-by-field merge rules.

``store/papers.py`` applies these to rows; ``prepare`` runs in the parser
processes during ingest, so the database thread is left with the SQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from newsflow.models import AbstractSection, Author, PaperRecord

# Enrichment records (source "enrich:<kind>") rank by their kind too: Crossref's deposited
# metadata beats a feed's; a landing page only ties with one (and wins when richer).
KIND_RANK = {"pubmed": 4, "europepmc": 3, "crossref": 2, "feed": 1, "landing": 1}
SCALARS = ("title", "journal", "journal_abbrev", "volume", "issue", "pages", "pub_date",
           "coi_statement", "url", "language")
LISTS = ("publication_types", "mesh_terms", "keywords", "grants")
# Fields whose change means later stages must look at the paper again.
CONTENT_FIELDS = ("title", "abstract_sections", "doi", "pmid", "pmcid", "authors", "journal",
                  "pub_date", "publication_types", "mesh_terms", "keywords", "coi_statement",
                  "updates", "retracted", "corrected", "is_preprint")
RETRACTION_TYPES = {"retractionin", "retraction in", "retracted publication"}
CORRECTION_TYPES = {"erratumin", "correctionin", "expressionofconcernin", "republishedin",
                    "updatein"}


# --- normalisation ---------------------------------------------------------------------------

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|info:doi/|urn:doi:)",
                         re.IGNORECASE)


def normalize_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    d = doi.strip()
    while True:
        stripped = _DOI_PREFIX.sub("", d).strip()
        if stripped == d:
            break
        d = stripped
    d = d.lower().rstrip(".,;")
    return d if re.match(r"^10\.\d{4,9}/\S+$", d) else None


def normalize_pmid(pmid: str | None) -> str | None:
    if not pmid:
        return None
    m = re.search(r"\d{1,9}", str(pmid))
    return m.group(0).lstrip("0") or None if m else None


def normalize_pmcid(pmcid: str | None) -> str | None:
    if not pmcid:
        return None
    m = re.search(r"(?:PMC)?(\d{3,10})", str(pmcid).strip(), re.IGNORECASE)
    return f"PMC{m.group(1)}" if m else None


def _ascii_fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def normalize_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", _ascii_fold(title)).strip()


def surname(name: str) -> str:
    """Best guess at a surname from 'Jane Q. Smith', 'Smith JQ' or 'Smith, Jane'."""
    name = name.strip()
    if "," in name:
        return _ascii_fold(name.split(",")[0]).strip()
    tokens = name.split()
    if not tokens:
        return ""
    # "Smith JQ" (PubMed style): trailing initials follow the surname.
    initials = tokens[-1].replace(".", "")
    if len(tokens) > 1 and 1 <= len(initials) <= 3 and initials.isalpha() and initials.isupper():
        return _ascii_fold(" ".join(tokens[:-1])).strip()
    return _ascii_fold(tokens[-1]).strip()


def fingerprint(title: str, authors: Sequence[Author], pub_date: str | None) -> str | None:
    t = normalize_title(title)
    if len(t) < 12:  # too short to tell works apart ("Editorial", "Erratum")
        return None
    first = re.sub(r"[^a-z]", "", surname(authors[0].name)) if authors else ""
    year = (pub_date or "")[:4]
    return hashlib.sha256(f"{t}|{first}|{year}".encode()).hexdigest()


def normalize_record(rec: PaperRecord) -> PaperRecord:
    ids = normalize_doi(rec.doi), normalize_pmid(rec.pmid), normalize_pmcid(rec.pmcid)
    if ids == (rec.doi, rec.pmid, rec.pmcid):
        return rec
    return dataclasses.replace(rec, doi=ids[0], pmid=ids[1], pmcid=ids[2])


# What json.dumps(data, sort_keys=True, default=str) gives, without building an encoder
# per call (the two hashes are about 40% of what preparing a record costs).
_HASH_JSON = json.JSONEncoder(sort_keys=True, default=str).encode
_PAPER_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(PaperRecord))
_HASHED_FIELDS = tuple(f for f in _PAPER_RECORD_FIELDS if f != "field_sources")


def _section_dict(s: AbstractSection) -> dict[str, Any]:
    return {"label": s.label, "text": s.text}


def _author_dict(a: Author) -> dict[str, Any]:
    return {"name": a.name, "affiliation": a.affiliation, "orcid": a.orcid}


def entry_hash(rec: PaperRecord) -> str:
    # Same JSON as dataclasses.asdict() gave, so stored hashes stay valid; asdict's
    # recursive deep copy was the largest cost of storing a feed.
    data = {k: getattr(rec, k) for k in _HASHED_FIELDS}
    data["abstract_sections"] = [_section_dict(s) for s in rec.abstract_sections]
    data["authors"] = [_author_dict(a) for a in rec.authors]
    return hashlib.sha256(_HASH_JSON(data).encode()).hexdigest()


class PreparedRecord:
    """A normalised record with the SQL-free part of storing it already done.

    ``prepare`` runs where the record was parsed (a parser process, during ingest),
    so the one database thread is left with the SQL.  It keeps the paper row the
    record would make as a new work, as a flat tuple in ``ROW_FIELDS`` order with the
    JSON columns already encoded: that is what crosses the process boundary, and what
    the store inserts as it is.  The full record is rebuilt from it only when it must
    be merged into a stored paper.
    """

    __slots__ = ("source", "entry_id", "source_kind", "entry_hash", "values", "_record")

    def __init__(self, source: str, entry_id: str, source_kind: str, entry_hash: str,
                 values: tuple[Any, ...]) -> None:
        self.source, self.entry_id, self.source_kind = source, entry_id, source_kind
        self.entry_hash, self.values = entry_hash, values
        self._record: PaperRecord | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (PreparedRecord, (self.source, self.entry_id, self.source_kind,
                                 self.entry_hash, self.values))

    @property
    def fp(self) -> str | None:
        """The record's fingerprint (title, first author, year), if long enough to use."""
        return self.values[_FP]

    @property
    def doi(self) -> str | None:
        return self.values[_DOI]

    @property
    def pmid(self) -> str | None:
        return self.values[_PMID]

    @property
    def pmcid(self) -> str | None:
        return self.values[_PMCID]

    @property
    def fresh_row(self) -> dict[str, Any]:
        """The paper row as a new work would get it, JSON columns decoded."""
        row = dict(zip(ROW_FIELDS, self.values, strict=True))
        for k in JSON_FIELDS:
            row[k] = json.loads(row[k])
        return row

    @property
    def record(self) -> PaperRecord:
        """The record as merge() reads it (what the row kept of it)."""
        if self._record is None:
            row = self.fresh_row
            self._record = PaperRecord(
                source=self.source, entry_id=self.entry_id, source_kind=self.source_kind,
                title=row["title"] or "",
                abstract_sections=[AbstractSection(s.get("label"), s.get("text") or "")
                                   for s in row["abstract_sections"]],
                authors=[Author(a.get("name") or "", a.get("affiliation"), a.get("orcid"))
                         for a in row["authors"]],
                doi=row["doi"], pmid=row["pmid"], pmcid=row["pmcid"],
                is_preprint=bool(row["is_preprint"]), updates=row["updates"],
                **{k: row[k] for k in SCALARS if k != "title"},
                **{k: row[k] for k in LISTS})
        return self._record


def prepare(rec: PaperRecord | PreparedRecord) -> PreparedRecord:
    if isinstance(rec, PreparedRecord):
        return rec
    norm = normalize_record(rec)
    fp = fingerprint(norm.title, norm.authors, norm.pub_date)
    row = merge({**empty_row(), "fingerprint": fp}, norm, {norm.source: norm.source_kind})
    row["fingerprint"] = fp
    row["content_hash"] = content_hash(row)
    for k in JSON_FIELDS:
        value = row[k]
        row[k] = "[]" if value == [] else _dumps(value)
    return PreparedRecord(norm.source, norm.entry_id, norm.source_kind, entry_hash(norm),
                          tuple(row[k] for k in ROW_FIELDS))


def prepare_all(records: Iterable[PaperRecord | PreparedRecord]) -> list[PreparedRecord]:
    return [prepare(r) for r in records]


def empty_row() -> dict[str, Any]:
    return {"title": "", "abstract_sections": [], "authors": [], "publication_types": [],
            "mesh_terms": [], "keywords": [], "grants": [], "updates": [], "field_sources": {},
            "is_preprint": False, "retracted": False, "corrected": False, "doi": None,
            "pmid": None, "pmcid": None, "fingerprint": None, "content_hash": None,
            **{k: None for k in SCALARS if k != "title"}}


# A paper row's columns, in the order PreparedRecord.values keeps them, and the ones
# holding JSON.  Those are encoded as SQLAlchemy's JSON type would (json.dumps, default
# options), so the store can insert them as they are.
ROW_FIELDS = tuple(empty_row())
JSON_FIELDS = ("abstract_sections", "authors", "publication_types", "mesh_terms", "keywords",
               "grants", "updates", "field_sources")
_DOI, _PMID, _PMCID, _FP = (ROW_FIELDS.index(k) for k in ("doi", "pmid", "pmcid",
                                                            "fingerprint"))
_dumps = json.dumps
_MERGED_FIELDS = tuple(k for k in ROW_FIELDS if k != "content_hash")


def _owner_kind(kinds: dict[str, str], owner: str) -> str | None:
    if owner in kinds:
        return kinds[owner]
    return owner.split(":", 1)[1] if owner.startswith("enrich:") else None


def _rank(kind: str | None) -> int:
    return KIND_RANK.get(kind or "", 0)


def merge(row: dict[str, Any], rec: PaperRecord, kinds: dict[str, str]) -> dict[str, Any]:
    """The paper's columns after taking in ``rec``; richer sources win field by field."""
    fs: dict[str, str] = dict(row.get("field_sources") or {})
    inc_rank = _rank(rec.source_kind)
    out: dict[str, Any] = {}

    def wins(name: str, incoming_richer: bool = False) -> bool:
        owner = fs.get(name)
        if owner is None or owner == rec.source:
            return True
        cur_rank = _rank(_owner_kind(kinds, owner))
        return inc_rank > cur_rank or (inc_rank == cur_rank and incoming_richer)

    def take(name: str, value: Any) -> None:
        out[name] = value
        fs[name] = rec.source

    # Identifiers are only ever filled in, never replaced: lookups by the first one must
    # keep working (Cochrane review updates, for one, share a DOI across PMIDs).
    for key in ("doi", "pmid", "pmcid"):
        value = getattr(rec, key)
        if value and not row.get(key):
            take(key, value)
    for key in SCALARS:
        value = getattr(rec, key)
        if isinstance(value, str):
            value = value.strip() or None
        if not value:
            continue
        current = row.get(key)
        richer = key == "pub_date" and bool(current) and len(value) > len(str(current)) and \
            value.startswith(str(current))
        if not current or wins(key, richer):
            take(key, value)

    sections = [_section_dict(s) for s in rec.abstract_sections if s.text.strip()]
    if sections:
        current = row.get("abstract_sections") or []
        if not current or wins("abstract", _abstract_score(sections) > _abstract_score(current)):
            out["abstract_sections"] = sections
            fs["abstract"] = rec.source
    authors = [_author_dict(a) for a in rec.authors if a.name.strip()]
    if authors:
        current = row.get("authors") or []
        richer = sum(1 for a in authors if a.get("affiliation")) > \
            sum(1 for a in current if a.get("affiliation"))
        if not current or wins("authors", richer):
            take("authors", authors)
    for key in LISTS:
        value = [v for v in getattr(rec, key) if v]
        if not value:
            continue
        current = list(row.get(key) or [])
        if not current or wins(key):
            take(key, value)
        elif _rank(_owner_kind(kinds, fs.get(key) or "")) == inc_rank:
            out[key] = current + [v for v in value if v not in current]

    updates = list(row.get("updates") or [])
    for u in rec.updates:
        if u not in updates:
            updates.append(u)
    out["updates"] = updates
    types = {t.lower() for t in (out.get("publication_types") or row.get("publication_types")
                                 or [])}
    kinds_seen = {str(u.get("type", "")).lower() for u in updates}
    out["retracted"] = bool(row.get("retracted")) or bool((kinds_seen | types) & RETRACTION_TYPES)
    out["corrected"] = bool(row.get("corrected")) or bool(kinds_seen & CORRECTION_TYPES)
    if rec.is_preprint and (not fs.get("is_preprint") or wins("is_preprint")):
        take("is_preprint", True)
    elif not rec.is_preprint and row.get("is_preprint") and wins("is_preprint"):
        take("is_preprint", False)

    merged = {**row, **out}
    out["fingerprint"] = row.get("fingerprint") or fingerprint(
        merged.get("title") or "", [Author(**a) for a in merged.get("authors") or []],
        merged.get("pub_date"))
    out["field_sources"] = fs
    result = {k: merged.get(k) for k in _MERGED_FIELDS}
    result.update(out)
    return result


def _abstract_score(sections: list[dict[str, Any]]) -> tuple[int, int]:
    labelled = sum(1 for s in sections if s.get("label"))
    return (1 if labelled > 1 else 0, sum(len(s.get("text") or "") for s in sections))


def content_hash(values: dict[str, Any]) -> str:
    data = {k: values.get(k) for k in CONTENT_FIELDS}
    return hashlib.sha256(_HASH_JSON(data).encode()).hexdigest()
