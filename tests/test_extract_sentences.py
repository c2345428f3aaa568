from newsflow.extract.sentences import section_role, split_sentences
from newsflow.models import AbstractSection, abstract_text

# From PMID 26702177 (medline16n0902 sample) and PMID 26200786.
SECTIONS = [
    AbstractSection("MATERIALS AND METHODS", "This cross-sectional study was conducted on 90 "
                    "consecutive patients of psoriasis, over a period of 12 months, in a tertiary "
                    "care centre. The Psoriasis Area and Severity Index was used to assess "
                    "severity of psoriasis."),
    AbstractSection("RESULTS", "A total of 71 (78.9%) subjects had depression and 69 (76.7%) had "
                    "anxiety. Fifty one patients had significant stress."),
    AbstractSection(None, "Tinea corporis, diagnosed in 14 patients, was the most frequent "
                    "clinical form, followed by tinea unguium in 7, tinea cruris in 5, and tinea "
                    "pedis in 1 patient. Most lesions (e.g. on the trunk) were anergic vs. "
                    "inflammatory ones in et al. 2010. Regarding the agent, T. rubrum was the "
                    "most commonly isolated."),
]


def test_offsets_index_the_abstract_string_exactly() -> None:
    abstract = abstract_text(SECTIONS)
    sents = split_sentences(SECTIONS)
    assert [abstract[s.start:s.end] for s in sents] == [s.text for s in sents]
    assert [s.text for s in sents] == [
        "This cross-sectional study was conducted on 90 consecutive patients of psoriasis, "
        "over a period of 12 months, in a tertiary care centre.",
        "The Psoriasis Area and Severity Index was used to assess severity of psoriasis.",
        "A total of 71 (78.9%) subjects had depression and 69 (76.7%) had anxiety.",
        "Fifty one patients had significant stress.",
        "Tinea corporis, diagnosed in 14 patients, was the most frequent clinical form, followed "
        "by tinea unguium in 7, tinea cruris in 5, and tinea pedis in 1 patient.",
        "Most lesions (e.g. on the trunk) were anergic vs. inflammatory ones in et al. 2010.",
        "Regarding the agent, T. rubrum was the most commonly isolated.",
    ]
    assert sents[0].start == len("MATERIALS AND METHODS: ")
    assert [s.role for s in sents] == ["methods", "methods", "results", "results", None, None,
                                       None]


def test_clear_rules_and_syntok_share_the_work() -> None:
    # From PMID 36987902: the stop after a bracket is a clear boundary (syntok alone would
    # cut before "(range"); the stop before "12" is doubtful and syntok splits it.
    text = ("The median total body surface area with burns was 11 % (range 0.9-80 %). "
            "Seventeen patients received palliative care. 12 patients died in hospital.")
    texts = [s.text for s in split_sentences([AbstractSection(None, text)])]
    assert texts == ["The median total body surface area with burns was 11 % (range 0.9-80 %).",
                     "Seventeen patients received palliative care.",
                     "12 patients died in hospital."]


def test_section_roles() -> None:
    assert section_role("MATERIALS AND METHODS") == "methods"
    assert section_role("Interpretation") == "conclusions"
    assert section_role("FINDINGS") == "results"
    assert section_role("TRIAL REGISTRATION") == "registration"
    assert section_role("Funding") == "funding"
    assert section_role(None) is None
    assert split_sentences([AbstractSection("X", "   ")]) == []
