from __future__ import annotations

import dataclasses
import multiprocessing

import pytest
import sqlalchemy as sa

from helpers.server import corpus_dir
from newsflow import records
from newsflow.errors import StoreError
from newsflow.models import AbstractSection, Author, PaperRecord, SourceConfig
from newsflow.parse.pubmed import parse_efetch
from newsflow.store import Store
from newsflow.store import papers as sp
from newsflow.store.schema import paper_sources, papers
from newsflow.store.sources import sync_sources

PUBMED = corpus_dir() / "pubmed"


def feed_record(**kw: object) -> PaperRecord:
    base = dict(source="Derm feed", entry_id="https://doi.org/10.1038/s41390-024-03336-8",
                title="Cardiac evaluation of patients with juvenile dermatomyositis",
                abstract_sections=[AbstractSection(None, "A short teaser.")],
                doi="https://doi.org/10.1038/S41390-024-03336-8",
                authors=[Author("Özge Başaran")], journal="Pediatric Research",
                pub_date="2024-06-22")
    base.update(kw)
    return PaperRecord(**base)  # type: ignore[arg-type]


def pubmed_record() -> PaperRecord:
    [rec] = parse_efetch((PUBMED / "metapub_efetch_pmid_38909159.xml").read_bytes(),
                         source="PubMed derm")
    return rec


def register(store: Store) -> None:
    sync_sources(store, [SourceConfig("Derm feed", "feed", url="http://x/"),
                         SourceConfig("PubMed derm", "pubmed", query="q"),
                         SourceConfig("Other feed", "feed", url="http://y/")])


def counts(store: Store) -> tuple[int, int]:
    with store.read() as c:
        return (c.execute(sa.select(sa.func.count()).select_from(papers)).scalar_one(),
                c.execute(sa.select(sa.func.count()).select_from(paper_sources)).scalar_one())


@pytest.mark.parametrize("raw,expected", [
    ("https://doi.org/10.1000/ABC.1", "10.1000/abc.1"),
    ("doi:10.1000/x", "10.1000/x"), ("info:doi/10.1000/x", "10.1000/x"),
    ("http://dx.doi.org/10.1000/X.", "10.1000/x"), ("not a doi", None), (None, None)])
def test_normalize_doi(raw: str | None, expected: str | None) -> None:
    assert records.normalize_doi(raw) == expected


def test_normalize_ids_and_surnames() -> None:
    assert records.normalize_pmid("pubmed:0012345") == "12345"
    assert records.normalize_pmcid("pmc123456") == "PMC123456"
    assert records.normalize_pmcid("123456") == "PMC123456"
    assert records.surname("Smith JQ") == records.surname("Jane Q. Smith") == records.surname("Smith, Jane")
    assert records.surname("Başaran Ö") == "basaran"


def test_feed_then_pubmed_is_one_paper_with_both_sources(store: Store) -> None:
    register(store)
    r1 = sp.upsert_records(store, [feed_record()])
    assert (r1.new, r1.updated) == (1, 0)
    r2 = sp.upsert_records(store, [pubmed_record()])
    assert (r2.new, r2.updated) == (0, 1) and r2.paper_ids == r1.paper_ids
    assert counts(store) == (1, 2)
    paper = sp.get_paper(store, "10.1038/s41390-024-03336-8")
    assert paper.sources == ["Derm feed", "PubMed derm"]
    assert paper.pmid == "38909159" and paper.doi == "10.1038/s41390-024-03336-8"
    # the structured PubMed abstract and title win over the feed's teaser
    assert paper.abstract_sections[0].label == "BACKGROUND"
    assert paper.title.endswith("dermatomyositis.")
    assert paper.field_sources["abstract"] == "PubMed derm"
    assert paper.journal == "Pediatric research"
    assert sp.get_paper(store, "38909159").id == paper.id == sp.get_paper(store, paper.id).id


def test_pubmed_first_then_feed_keeps_richer_fields(store: Store) -> None:
    register(store)
    sp.upsert_records(store, [pubmed_record()])
    before = sp.get_paper(store, "38909159")
    r = sp.upsert_records(store, [feed_record()])
    assert (r.new, r.updated) == (0, 0)
    after = sp.get_paper(store, "38909159")
    assert after.abstract == before.abstract and after.title == before.title
    assert after.sources == ["PubMed derm", "Derm feed"]


def test_rerun_creates_no_duplicates_and_reports_unchanged(store: Store) -> None:
    register(store)
    records = parse_efetch((PUBMED / "fatcat_pubmedsample_2019_PubmedArticleSet_176.xml")
                           .read_bytes(), source="PubMed derm")
    first = sp.upsert_records(store, records)
    # PMIDs 11034741 and 11406024 are two versions of one Cochrane review sharing a DOI
    assert (first.new, first.updated) == (175, 1)
    merged = sp.get_paper(store, "11406024")
    assert merged.pmid == "11034741" and sp.get_paper(store, "10.1002/14651858.CD002020") == merged
    again = sp.upsert_records(store, records)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 176)
    assert counts(store) == (175, 176)


def test_edited_feed_entry_updates_in_place_and_changes_hash(store: Store) -> None:
    register(store)
    rec = feed_record(doi=None, entry_id="item-1", title="A first title about psoriasis care")
    [pid] = sp.upsert_records(store, [rec]).paper_ids
    [(_, hash1)] = sp.pending_papers(store)
    sp.mark_processed(store, pid, hash1)
    assert sp.pending_papers(store) == []
    edited = dataclasses.replace(rec, title="A corrected title about psoriasis care")
    r = sp.upsert_records(store, [edited])
    assert (r.new, r.updated) == (0, 1) and r.paper_ids == [pid]
    assert sp.get_paper(store, pid).title == "A corrected title about psoriasis care"
    [(again, hash2)] = sp.pending_papers(store)
    assert again == pid and hash2 != hash1
    assert counts(store) == (1, 1)


def test_fingerprint_matches_records_without_identifiers(store: Store) -> None:
    register(store)
    a = feed_record(doi=None, entry_id="a", authors=[Author("Ozge Basaran")])
    b = feed_record(source="Other feed", doi=None, entry_id="b",
                    title="Cardiac Evaluation of Patients with Juvenile Dermatomyositis.",
                    authors=[Author("Başaran Ö")])
    sp.upsert_records(store, [a])
    sp.upsert_records(store, [b])
    assert counts(store) == (1, 2)
    # the first DOI seen fills the gap; a different DOI later is a different work even
    # when the fingerprint agrees
    sp.upsert_records(store, [feed_record(source="Other feed", entry_id="c", doi="10.9999/c")])
    assert counts(store)[0] == 1 and sp.get_paper(store, "10.9999/c").sources == [
        "Derm feed", "Other feed"]
    sp.upsert_records(store, [feed_record(source="Other feed", entry_id="d", doi="10.9999/d")])
    assert counts(store)[0] == 2


def test_record_linking_two_papers_folds_them(store: Store) -> None:
    register(store)
    by_doi = feed_record(title="Paper known by DOI only, one title")
    by_pmid = feed_record(source="Other feed", entry_id="pm", doi=None, pmid="38909159",
                          title="Paper known by PMID only, another title")
    sp.upsert_records(store, [by_doi, by_pmid])
    assert counts(store) == (2, 2)
    sp.upsert_records(store, [pubmed_record()])
    assert counts(store) == (1, 3)
    paper = sp.get_paper(store, "38909159")
    assert set(paper.sources) == {"Derm feed", "Other feed", "PubMed derm"}


def test_retraction_notice_marks_paper(store: Store) -> None:
    register(store)
    records = parse_efetch((PUBMED / "fatcat_pubmedsample_2019_PubmedArticleSet_176.xml")
                           .read_bytes(), source="PubMed derm")
    sp.upsert_records(store, [r for r in records if r.pmid in ("8655018", "9482442")])
    assert sp.get_paper(store, "8655018").retracted
    p = sp.get_paper(store, "9482442")
    assert p.corrected and not p.retracted


def test_driver_level_insert_stores_what_sqlalchemy_would(store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """New papers bypass SQLAlchemy's insert (PreparedRecord.values, JSON pre-encoded):
    each column must read back exactly as a typed SQLAlchemy insert of the row would,
    and timestamps must be stored as the same text (a whole second included)."""
    import datetime as dt

    from newsflow import clock
    now = dt.datetime(2026, 11, 25, 12, 0, 0)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    register(store)
    recs = parse_efetch((PUBMED / "fatcat_pubmedsample_2019_PubmedArticleSet_176.xml")
                        .read_bytes(), source="PubMed derm")[:30]
    recs.append(feed_record(doi=None, entry_id="no-ids", title="Short"))  # no key at all
    result = sp.upsert_records(store, recs)
    assert result.new == len(recs) == 31
    stamps = sa.select(sa.cast(papers.c.created_at, sa.String),
                       sa.cast(papers.c.updated_at, sa.String))
    link_stamps = sa.select(sa.cast(paper_sources.c.first_seen, sa.String),
                            sa.cast(paper_sources.c.last_seen, sa.String))
    with store.write() as c:
        stored = [dict(r) for r in c.execute(sa.select(papers).order_by(papers.c.id)).mappings()]
        raw = {t for row in [*c.execute(stamps), *c.execute(link_stamps)] for t in row}
        c.execute(papers.delete())
        for rec in recs:
            row = records.prepare(rec).fresh_row
            c.execute(papers.insert().values(**row, created_at=now, updated_at=now))
        typed = [dict(r) for r in c.execute(sa.select(papers).order_by(papers.c.id)).mappings()]
        typed_raw = {t for row in c.execute(stamps) for t in row}
    for r in stored + typed:
        del r["id"]
    assert stored == typed
    assert stored[0]["authors"][0]["name"] and stored[-1]["fingerprint"] is None
    assert isinstance(stored[0]["retracted"], bool) and stored[0]["created_at"] == now
    assert raw == typed_raw and len(raw) == 1


def test_unknown_key_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no paper"):
        sp.get_paper(store, "10.1000/nothing")


def _sample() -> list[PaperRecord]:
    records = parse_efetch((PUBMED / "fatcat_pubmedsample_2019_PubmedArticleSet_176.xml")
                           .read_bytes(), source="x")
    return [r for r in records if r.pmid != "11406024"][:40]  # one work per record


def _worker(url: str, seed: int) -> None:
    store = Store(url)
    records = [dataclasses.replace(r, source=f"src{seed % 2}") for r in _sample()]
    # different processes see the same works in different orders and batches
    records = records[seed * 13 % 40:] + records[:seed * 13 % 40]
    for i in range(0, len(records), 7):
        sp.upsert_records(store, records[i:i + 7])
    store.dispose()


def test_concurrent_processes_make_one_paper_per_work(db_url: str, store: Store) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(db_url, i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert counts(store) == (40, 80)
