"""Each extractor on real corpus abstracts (tests/data/eval, provenance in its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsflow.extract import EXTRACTOR_VERSION, FACT_NAMES, DrugIndex, extract_facts
from newsflow.models import AbstractSection, Fact, Paper
from newsflow.settings import load_settings

EVAL = Path(__file__).parent / "data" / "eval" / "records.jsonl"
RECORDS = {r["id"]: r for r in map(json.loads, EVAL.read_text().splitlines())}


@pytest.fixture(scope="module")
def drugs() -> DrugIndex:
    return DrugIndex.load(load_settings(load_sources=False))


def paper(rec_id: str, **changes: Any) -> Paper:
    r = RECORDS[rec_id]
    p = Paper(id=1, title=r["title"], journal=r["journal"],
              abstract_sections=[AbstractSection(s["label"], s["text"])
                                 for s in r["abstract_sections"]],
              publication_types=list(r["publication_types"]), mesh_terms=list(r["mesh_terms"]))
    for k, v in changes.items():
        setattr(p, k, v)
    return p


def facts_of(drugs: DrugIndex, rec_id: str, **changes: Any) -> tuple[Paper, dict[str, Fact]]:
    p = paper(rec_id, **changes)
    return p, extract_facts(p, drugs)


def sentence_with(p: Paper, text: str) -> tuple[int, int]:
    start = p.abstract.index(text)
    return start, start + len(text)


def test_design_from_publication_type_points_at_the_randomisation_sentence(drugs):
    p, f = facts_of(drugs, "pubmed:25998582")
    assert f["design"].normalized == "rct"
    assert f["design"].value == "Randomized Controlled Trial (publication type)"
    assert f["design"].sentence.startswith("For this multicentre, randomised, placebo-controlled")
    assert f["evidence_level"].normalized == "L2"


def test_letter_is_a_format_and_text_rules_decide(drugs):
    # PMID 26702233 indexed as a Letter: still a case series of 56 consecutive patients.
    p, f = facts_of(drugs, "pubmed:26702233", publication_types=["Letter"])
    assert f["design"].normalized == "case_series"
    assert f["evidence_level"].normalized == "L4"


def test_review_that_could_not_pool_is_not_a_meta_analysis(drugs):
    _, f = facts_of(drugs, "cochrane:281")  # "Heterogeneity ... precluded meta-analysis."
    assert f["design"].normalized == "systematic_review"
    _, f = facts_of(drugs, "cochrane:332")  # "Pooled data across five RCTs ..."
    assert f["design"].normalized == "meta_analysis"
    assert f["design"].sentence.startswith("Pooled data across five RCTs")


def test_cell_study_is_lab_and_level_5(drugs):
    _, f = facts_of(drugs, "metapub:26568896")
    assert f["design"].normalized == "animal_or_lab"
    assert f["evidence_level"].normalized == "L5"
    assert "sample_size" not in f


def test_design_points_at_its_sentence_or_else_the_first_one(drugs):
    p, f = facts_of(drugs, "fatcat:14991249")
    assert f["design"].normalized == "case_report"
    assert f["design"].value == "Case Reports (publication type)"
    assert f["design"].span == sentence_with(
        p, "Such a case is presented in a patient nearing skeletal maturity.")
    # No sentence says "guideline": the type alone decides and the first sentence is cited.
    p, f = facts_of(drugs, "fatcat:14991249", publication_types=["Practice Guideline"])
    assert f["design"].normalized == "guideline"
    assert f["design"].value == "Practice Guideline (publication type)"
    first = "Spontaneous resolution of a solitary osteochondroma is rare."
    assert f["design"].span == sentence_with(p, first)


def test_sample_size_exact_with_its_sentence(drugs):
    p, f = facts_of(drugs, "pubmed:25998582")
    n = f["sample_size"]
    assert n.normalized == 1167
    assert n.value == "assigned 1167 participants"
    assert p.abstract[n.span[0]:n.span[1]] == n.sentence
    assert n.sentence.startswith("Between Jan 11, 2011, and Dec 20, 2013, we randomly assigned")


def test_sample_size_number_words_and_parenthesised_review_totals(drugs):
    _, f = facts_of(drugs, "pubmed:22508830")
    assert f["sample_size"].normalized == 132  # "One hundred thirty-two patients were enrolled"
    _, f = facts_of(drugs, "cochrane:281")
    assert f["sample_size"].normalized == 2066  # "We identified 26 RCTs (2066 patients)."


def test_sample_size_abstains_on_approximate_and_hypothetical_counts(drugs):
    _, f = facts_of(drugs, "europepmc:40536077")  # "approximately 1200 bladder cancer cases"
    assert "sample_size" not in f
    _, f = facts_of(drugs, "cochrane:334")  # "a total of over 2310 participants"
    assert "sample_size" not in f
    _, f = facts_of(drugs, "pubmed:28786991")  # "Of 100 hypothetical participants ..."
    assert "sample_size" not in f


def test_age_and_sex_from_one_sentence(drugs):
    p, f = facts_of(drugs, "pubmed:26702233")
    assert f["sample_size"].normalized == 56
    assert f["age_range"].normalized == {"min": 16, "max": 39, "mean": 25.6, "unit": "years"}
    assert f["sex"].normalized == {"male": 36, "female": 20}
    assert f["sex"].value == "36 male, 20 female"
    assert f["sex"].span == f["age_range"].span == f["sample_size"].span


def test_case_report_is_one_patient(drugs):
    p, f = facts_of(drugs, "fatcat:14594616")
    assert f["sample_size"].normalized == 1
    assert f["age_range"].normalized == {"min": 20, "max": 20, "unit": "years"}
    assert f["sex"].normalized == {"female": 1}
    assert f["condition"].normalized == "epidermal nevus"


def test_intervention_route_and_harms_not_mentioned(drugs):
    p, f = facts_of(drugs, "metapub:38763967")
    iv = f["intervention"]
    assert iv.normalized == "terbinafine"
    assert iv.sentence == "An effectual treatment was attained with an oral terbinafine tablet."
    assert f["route"].normalized == "oral"
    assert f["harms"].normalized == "not_mentioned"
    assert f["harms"].span == (0, 0) and f["harms"].sentence == ""


def test_brand_names_normalise_to_the_generic(drugs):
    # The sentence is PMID 38763967's with the brand written instead of the generic.
    sections = [AbstractSection(None, "An effectual treatment was attained with an oral "
                                      "Lamisil tablet.")]
    f = extract_facts(Paper(id=1, title="", abstract_sections=sections), drugs)
    assert f["intervention"].normalized == "terbinafine"
    assert f["intervention"].value == "Lamisil (terbinafine)"


def test_no_drug_means_no_intervention(drugs):
    _, f = facts_of(drugs, "fatcat:17059514")  # a diet, not a drug
    assert "intervention" not in f and "dose" not in f


def test_harms_none_and_reported(drugs):
    _, f = facts_of(drugs, "fatcat:17059514")
    assert f["harms"].normalized == "none_reported"
    assert f["harms"].sentence == "No adverse event occurred in any of the patients throughout " \
                                  "the study."
    _, f = facts_of(drugs, "pubmed:22508830")
    assert f["harms"].normalized == "reported"
    assert "rash, fatigue, diarrhea, and nausea" in f["harms"].value


def test_results_keep_p_values_as_data(drugs):
    _, f = facts_of(drugs, "fatcat:18719013")
    r = f["results"]
    assert r.value.startswith("After one year small but significant improvements")
    assert r.normalized["p_values"] == ["P<0.001", "P<0.001", "P<0.001"]


def test_conclusion_funding_and_comparator(drugs):
    p, f = facts_of(drugs, "pubmed:25998582")
    assert f["conclusion"].sentence.startswith("Tamsulosin 400 μg and nifedipine 30 mg are not")
    assert f["funding"].sentence == ("UK National Institute for Health Research Health "
                                     "Technology Assessment Programme.")
    assert f["comparator"].normalized == "placebo"
    assert f["age_range"].normalized == {"min": 18, "max": 65, "unit": "years"}


def test_conflicts_from_the_record_have_no_abstract_span(drugs):
    _, f = facts_of(drugs, "fatcat:17059514", coi_statement="The authors declare no conflicts "
                                                            "of interest.")
    assert f["conflicts"].normalized == "none_declared"
    assert f["conflicts"].span == (0, 0)


def test_dose_frequency_duration_on_a_case_series_letter(drugs):
    # synthetic record (tests/data/eval/README.md): the corpus has no dermatology dose sentence.
    _, f = facts_of(drugs, "synthetic:case-series-upadacitinib")
    assert f["design"].normalized == "case_series"
    assert f["intervention"].normalized == "upadacitinib"  # not dupilumab, the prior drug
    assert f["dose"].normalized == [{"amount": 15, "unit": "mg"}]
    assert f["frequency"].normalized == "once daily"
    assert f["route"].normalized == "oral"
    assert f["sample_size"].normalized == 6
    assert f["results"].normalized["fractions"] == ["6/6", "3/6"]
    assert f["harms"].normalized == "none_reported"


def test_empty_paper_gives_no_facts(drugs):
    assert extract_facts(Paper(id=1, title=""), drugs) == {}
    assert EXTRACTOR_VERSION


def _all_papers() -> list[Paper]:
    return [paper(i) for i in RECORDS]


def test_every_span_is_the_sentence_inside_the_abstract(drugs):
    emitted = 0
    for p in _all_papers():
        for name, fact in extract_facts(p, drugs).items():
            assert name in FACT_NAMES
            a, b = fact.span
            assert 0 <= a <= b <= len(p.abstract)
            assert p.abstract[a:b] == fact.sentence
            assert fact.sentence in p.abstract
            assert 0 < fact.confidence <= 1
            emitted += 1
    assert emitted > 250
