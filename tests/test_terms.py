from newsflow.terms import TermIndex


def test_longest_match_wins_and_offsets_are_exact() -> None:
    idx = TermIndex([("dermatitis", "d"), ("atopic dermatitis", "ad"), ("EASI", "easi")])
    text = "Adults with Atopic  dermatitis had EASI-75 responses; dermatitis improved."
    hits = idx.find_all(text)
    assert [(h.payload, text[h.start:h.end]) for h in hits] == [
        ("ad", "Atopic  dermatitis"), ("easi", "EASI"), ("d", "dermatitis")]


def test_acronyms_are_case_sensitive_and_words_are_not() -> None:
    idx = TermIndex([("IGA", "investigator"), ("IgA", "antibody"), ("dupilumab", "dupi")])
    hits = idx.find_all("Serum IgA rose; IGA 0/1 reached; DUPILUMAB was given.")
    assert [h.payload for h in hits] == ["antibody", "investigator", "dupi"]


def test_no_match_inside_a_longer_word() -> None:
    idx = TermIndex([("acne", "acne")])
    assert idx.find_all("acneiform eruption") == []
    assert idx.first("mild acne.") is not None
