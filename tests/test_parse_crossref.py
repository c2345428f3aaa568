from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow.errors import ParseError
from newsflow.models import AbstractSection
from newsflow.parse.crossref import jats_abstract, parse_works

JCP = "apis/habanero_crossref_api_work_10.1136_jclinpath-2020-206745.json"
CARDIOL = "apis/sandcrawler_crossref_api_work_s1047951103000064.json"
CHAPTER = "apis/sandcrawler_crossref_api_work_978-3-030-64953-1_4.json"
PLOS_LIST = "apis/habanero_crossref_api_prefix_10.1371_works_updated-by_correction.json"


def test_structured_jats_abstract_becomes_labelled_plain_sections(corpus: Path) -> None:
    [rec] = parse_works((corpus / JCP).read_bytes())
    assert rec.doi == "10.1136/jclinpath-2020-206745"
    assert rec.entry_id == "doi:10.1136/jclinpath-2020-206745"
    assert rec.title == ("Construction of a reference material panel for detecting "
                         "KRAS/NRAS/EGFR/BRAF/MET mutations in plasma ctDNA")
    assert [s.label for s in rec.abstract_sections] == [
        "Background", "Objective", "Methods", "Results", "Conclusion"]
    assert rec.abstract_sections[0].text.startswith("The absence of high-quality next-generation")
    objective = rec.abstract_sections[1].text
    assert "Kirsten rat sarcoma viral oncogene (KRAS)" in objective
    assert "<" not in rec.abstract and "jats" not in rec.abstract
    assert rec.journal == "Journal of Clinical Pathology" and rec.journal_abbrev == "J Clin Pathol"
    assert (rec.volume, rec.issue, rec.pages) == ("74", "5", "314-320")
    assert rec.pub_date == "2020-08-17"  # online before print (2021-05)
    assert rec.url == "https://jcp.bmj.com/lookup/doi/10.1136/jclinpath-2020-206745"
    assert len(rec.authors) == 15 and rec.authors[0].name == "Jun Xu"
    assert rec.authors[0].affiliation == ("Department of Neurosurgery, China-Japan Friendship "
                                          "Hospital, Beijing, China")
    assert rec.grants == ["National Key Research and Development Program "
                          "(2017YFC0906500 and 2016YFC1000301)"]
    assert rec.source_kind == "crossref" and rec.updates == []


def test_unstructured_abstract_and_work_without_one(corpus: Path) -> None:
    [rec] = parse_works((corpus / CARDIOL).read_bytes())
    assert rec.title == "Clinical profile of acute rheumatic fever in Pakistan"
    assert len(rec.abstract_sections) == 1 and rec.abstract_sections[0].label is None
    assert rec.abstract.startswith("We designed a multi-hospital prospective study of children")
    assert rec.pub_date == "2003-02"
    [chapter] = parse_works((corpus / CHAPTER).read_bytes())
    assert chapter.abstract_sections == [] and chapter.journal == "Synthese Library"


def test_updated_by_correction_from_work_list(corpus: Path) -> None:
    recs = parse_works((corpus / PLOS_LIST).read_bytes())
    assert len(recs) == 20
    by_doi = {r.doi: r for r in recs}
    assert by_doi["10.1371/journal.pbio.0050002"].updates == [{
        "type": "ErratumIn", "source": "crossref", "crossref_type": "correction",
        "doi": "10.1371/journal.pbio.0060304", "label": "Correction", "date": "2008-11-25"}]
    # "new_version" of itself is not a correction.
    assert by_doi["10.1371/journal.ppat.1006930"].updates == []
    assert sum(1 for r in recs if r.updates) == 1


def test_update_to_marks_a_notice_and_retractions_map_to_pubmed_vocabulary() -> None:
    body = json.dumps({"status": "ok", "message-type": "work", "message": {
        "DOI": "10.5555/notice", "title": ["Retraction notice"],
        "update-to": [{"DOI": "10.5555/original", "type": "retraction", "label": "Retraction",
                       "updated": {"date-parts": [[2024, 2, 1]]}}],
        "updated-by": [{"DOI": "10.5555/eoc", "type": "expression_of_concern"}]}}).encode()
    [rec] = parse_works(body)
    assert [u["type"] for u in rec.updates] == ["ExpressionOfConcernIn", "RetractionOf"]
    assert rec.updates[1]["doi"] == "10.5555/original" and rec.updates[1]["date"] == "2024-02-01"


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"),
    (b"Resource not found.", "not JSON: 'Resource not found.'"),
    (b"<!DOCTYPE html><html><body>Oops</body></html>", "HTML page"),
    (b'{"status": "ok", "message-type": "member"}', "not a Crossref works response"),
])
def test_bad_bodies_are_clear_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_works(body)


def test_jats_edge_cases() -> None:
    assert jats_abstract(None) == []
    assert jats_abstract("<jats:title>Abstract</jats:title><jats:p>Short text.</jats:p>") == [
        AbstractSection(None, "Short text.")]
    assert jats_abstract("Plain text abstract, no markup.") == [
        AbstractSection(None, "Plain text abstract, no markup.")]
    # Unclosed tags from a broken deposit still yield the text, never markup.
    assert jats_abstract("<jats:p>Itch improved in <jats:italic>most") == [
        AbstractSection(None, "Itch improved in most")]
