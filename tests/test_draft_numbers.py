from __future__ import annotations

import pytest

from newsflow.draft.numbers import (
    Derivations,
    check_provenance,
    find_numbers,
    share_words,
    source_values,
)


def test_finds_digits_percentages_words_and_quantity_words() -> None:
    toks = find_numbers("All 6 people, 7,843 children, 78.9% and twenty-one; half had none. "
                        "EASI-75 once daily")
    assert [(t.text, t.value) for t in toks] == [
        ("All", None), ("6", 6.0), ("7,843", 7843.0), ("78.9%", 78.9), ("twenty-one", 21.0),
        ("half", None), ("none", None), ("75", 75.0), ("once", 1.0)]


def test_share_words_log_their_derivation() -> None:
    log = Derivations()
    assert share_words(6, 6, log) == "all 6"
    assert share_words(3, 6, log) == "3 of the 6 (half)"
    assert share_words(0, 6, log) == "none of the 6"
    assert share_words(2, 7, log) == "2 of the 7"
    assert [d["from"] for d in log.items] == ["6/6", "3/6", "0/6"]
    with pytest.raises(ValueError):
        share_words(7, 6, log)


def test_provenance_maps_source_numbers_and_derivations_only() -> None:
    values, words = source_values(["We report six patients; 3/6 reached EASI-90 at week 12."])
    log = Derivations()
    share = share_words(3, 6, log)
    records, unmapped = check_provenance(f"{share} people, after 12 weeks.", values, words, log)
    assert not unmapped
    assert [r["maps_to"] for r in records] == ["source", "source", "derivation", "source"]
    _, unmapped = check_provenance("About 7 people, half of them, 40% better.", values, words,
                                   Derivations())
    assert [t.text for t in unmapped] == ["7", "half", "40%"]


def test_number_words_in_the_source_back_digits_in_the_draft() -> None:
    values, _ = source_values(["Fifty one patients had stress; 1,204 were screened."])
    assert 51.0 in values and 1204.0 in values
    _, unmapped = check_provenance("51 of 1,204", values, set(), Derivations())
    assert not unmapped


def test_a_comma_between_numbers_is_not_a_thousands_separator() -> None:
    values, _ = source_values(["95% CI 1.61 to 89.35,1 study, 12,500 people"])
    assert {89.35, 1.0, 12500.0} <= values
    assert 89.351 not in values
