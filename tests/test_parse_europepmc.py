from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.server import corpus_dir
from newsflow.errors import ParseError
from newsflow.parse.europepmc import abstract_sections, parse_search

APIS = corpus_dir() / "apis"


@pytest.mark.parametrize("path", sorted(APIS.glob("europepmc_*")), ids=lambda p: p.name)
def test_every_europepmc_file_parses_or_is_refused(path: Path) -> None:
    try:
        page = parse_search(path.read_bytes(), source="e")
    except ParseError as e:
        assert path.suffix == ".xml" and "not JSON" in str(e)
        return
    assert page.hit_count >= len(page.records)
    assert all(r.entry_id.startswith("MED:") for r in page.records)


def test_core_result_fields_and_cursor() -> None:
    page = parse_search((APIS / "europepmc_rest_search_cancer_core.json").read_bytes(),
                        source="e")
    assert len(page.records) == 25 and page.hit_count == 5059039
    assert page.next_cursor == "AoIIP4ZawSg1MzEyODI1MA==" and page.has_more
    first = page.records[0]
    assert first.doi == "10.1016/s0140-6736(24)02600-x" and first.pmid == "39709209"
    assert first.journal == "Lancet (London, England)" and first.pub_date == "2025-12-01"
    assert first.authors[0].name == "Jonathan D Schoenfeld" and first.authors[0].affiliation
    structured = next(r for r in page.records if r.abstract_sections and
                      r.abstract_sections[0].label == "Objective")
    assert [s.label for s in structured.abstract_sections][:3] == ["Objective", "Design",
                                                                   "Methods"]
    assert "Neoplasms" in structured.mesh_terms and "Cancer" in structured.keywords
    assert not any(r.is_preprint for r in page.records)


def test_no_results_ends_paging() -> None:
    page = parse_search((APIS / "europepmc_rest_search_no_results.json").read_bytes(), source="e")
    assert page.records == [] and not page.has_more


def test_preprint_source_is_flagged() -> None:
    doc = json.loads((APIS / "europepmc_rest_search_cancer_core.json").read_bytes())
    item = doc["resultList"]["result"][0]
    item.update(source="PPR", id="PPR123456")
    doc["resultList"]["result"] = [item]
    [rec] = parse_search(json.dumps(doc).encode(), source="e").records
    assert rec.is_preprint and rec.entry_id == "PPR:PPR123456"


def test_sections_from_headings() -> None:
    secs = abstract_sections("Lead.<h4>Methods</h4>We <i>did</i> it.<h4>Results</h4>It worked.")
    assert [(s.label, s.text) for s in secs] == [(None, "Lead."), ("Methods", "We did it."),
                                                ("Results", "It worked.")]
