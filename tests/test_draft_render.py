"""Drafting from facts: the six-patient case series, missing facts, templates and versions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from golden_regen import GOLDEN
from newsflow.draft import Drafter
from newsflow.draft.records import paper_from_json
from newsflow.errors import TemplateError
from newsflow.models import DraftContent, Paper
from newsflow.settings import load_settings

DATA = Path(__file__).resolve().parent / "data"
YAN = json.loads((DATA / "yan2023_case_series.json").read_text())
DRUGS = {"drugs.toml": GOLDEN / "drugs.toml"}


def yan(**drop: bool) -> Paper:
    record = copy.deepcopy(YAN)
    for name in drop:
        record["facts"].pop(name)
    return paper_from_json(record)


def checks(content: DraftContent) -> dict[str, bool]:
    return {c.name: c.passed for c in content.checks}


@pytest.fixture(scope="module")
def drafter() -> Drafter:
    return Drafter(config_files=DRUGS)


def test_six_patient_case_series_states_every_required_fact(drafter: Drafter) -> None:
    d = drafter.draft(yan())
    body = d.body_markdown
    early = body.split("\n## ")[0]
    assert d.template_name == "case_series"
    assert "6 people" in d.title
    assert "case series" in early and "6 people" in early  # design and N up front
    assert "They were aged 12 to 35." in body
    assert "3 were male and 3 were female" in body
    assert "15 mg of upadacitinib" in body and "once daily" in body
    assert "for 12 weeks" in body
    assert "All 6 people achieved EASI-75" in body
    assert "3 of the 6 (half) achieved EASI-90" in body
    assert "only 6 people took part" in body
    assert "no comparison group" in body
    assert "It lasted only 12 weeks, which is too short" in body
    assert "cannot rule out side effects that are uncommon" in body  # zero AEs → caveat
    assert "https://doi.org/10.1080/09546634.2023.2242540" in body
    assert "(2023)" in body and "Yan, Y., Chen, J." in body
    assert "This story is based on the published paper, a letter to the journal" in body
    # Generic name first, brand once in brackets, never the brand alone.
    assert body.count("upadacitinib (Rinvoq)") == 1
    assert body.count("Rinvoq") == 1
    assert "talk to your dermatologist" in body
    assert "you should" not in body.lower()


def test_case_series_checks(drafter: Drafter) -> None:
    d = drafter.draft(yan())
    got = checks(d)
    assert set(got) == {"number_provenance", "design_and_n_early", "evidence_wording",
                        "limitations", "harms", "absolute_numbers", "claim_guard",
                        "hype_words", "readability", "acronyms_explained", "editor_slots"}
    assert all(ok for name, ok in got.items() if name != "editor_slots")
    slots = next(c for c in d.checks if c.name == "editor_slots")
    assert slots.blocking and "cost, availability, alternatives, conflicts" in slots.detail
    derived = [p["derivation"] for p in d.provenance if "derivation" in p]
    assert {"text": "half", "rule": "exact fraction", "from": "3/6"} in derived
    assert {"text": "all", "rule": "count equals total", "from": "6/6"} in derived


def test_glossary_explains_terms_once(drafter: Drafter) -> None:
    body = drafter.draft(yan()).body_markdown
    assert "atopic dermatitis (eczema)" in body
    assert body.count("Eczema Area and Severity Index") == 1
    assert "EASI-75 means the score improved by at least 75%" in body
    assert "EASI-90 means the score improved by at least 90%" in body
    # Inside the authors' quoted words the explanation goes in square brackets.
    assert "AD [atopic dermatitis, or eczema]" in body


def test_missing_dose_gives_an_editor_note_not_a_gap(drafter: Drafter) -> None:
    d = drafter.draft(yan(dose=True, frequency=True))
    body = d.body_markdown
    assert "[EDITOR (dose):" in body
    assert "They were given upadacitinib by mouth, for 12 weeks." in body
    assert "None" not in body and "mg of upadacitinib" not in body
    assert "open slots" in next(c for c in d.checks if c.name == "editor_slots").detail
    assert "dose" in next(c for c in d.checks if c.name == "editor_slots").detail


def test_missing_harms_says_side_effects_were_not_reported(drafter: Drafter) -> None:
    paper = yan(harms=True)
    paper.abstract_sections[0].text = paper.abstract_sections[0].text.replace(
        "No adverse events were observed during treatment. ", "")
    d = drafter.draft(paper)
    assert "The paper did not report on side effects." in d.body_markdown
    assert checks(d)["harms"]


def test_harms_in_the_abstract_but_not_extracted_goes_to_the_editor(drafter: Drafter) -> None:
    d = drafter.draft(yan(harms=True))  # the abstract still mentions adverse events
    assert "did not report on side effects" not in d.body_markdown
    assert "[EDITOR (harms):" in d.body_markdown


def test_missing_results_sentence_is_an_editor_note(drafter: Drafter) -> None:
    d = drafter.draft(yan(results=True))
    assert "[EDITOR (results):" in d.body_markdown
    assert "achieved" not in d.body_markdown


def test_unknown_drug_gets_what_is_editor_note() -> None:
    d = Drafter().draft(yan())  # built-in config, whatever drugs.toml holds
    body = d.body_markdown
    assert "## What is upadacitinib?" in body
    assert ("[EDITOR (what_is):" in body) != ("Rinvoq" in body)


def test_drafting_is_deterministic(drafter: Drafter) -> None:
    a, b = drafter.draft(yan()), drafter.draft(yan())
    assert (a.title, a.body_markdown, a.template_version) == \
        (b.title, b.body_markdown, b.template_version)
    assert Drafter(config_files=DRUGS).draft(yan()).body_markdown == a.body_markdown


def _site(tmp_path: Path, files: dict[str, str]) -> Drafter:
    site = tmp_path / "site-templates" / "articles"
    site.mkdir(parents=True)
    for name, text in files.items():
        (site / name).write_text(text)
    cfg = tmp_path / "newsflow.toml"
    cfg.write_text(f'templates_dir = "{site.parent}"\n')
    (tmp_path / "sources.toml").write_text("")
    return Drafter(load_settings(cfg), config_files=DRUGS)


def test_site_template_overrides_builtin_and_changes_version(tmp_path: Path,
                                                              drafter: Drafter) -> None:
    own = _site(tmp_path, {"case_series.md.j2": (
        '{% extends "base.md.j2" %}\n{% block lede %}Our own lede about {{ n_text }}.'
        '{% endblock %}\n{% block key_points %}- A {{ design_label }} of {{ n_text }}.\n'
        '{% endblock %}\n{% block what_did %}Site text.{% endblock %}\n'
        '{% block what_found %}{% include "_results.md.j2" %}{% endblock %}\n'
        '{% block strength %}This is early evidence that may matter.{% endblock %}\n')})
    d = own.draft(yan())
    assert d.body_markdown.startswith("Our own lede about 6 people.")
    assert "Site text." in d.body_markdown
    assert d.template_version != drafter.template_version
    # Families the site did not override still come from the built-in folder.
    assert own.draft(paper_from_json(json.loads(
        (GOLDEN / "lab_study" / "input.json").read_text()))).template_name == "lab_study"


def test_strict_undefined_fails_loudly(tmp_path: Path) -> None:
    own = _site(tmp_path, {"case_series.md.j2": "{{ no_such_fact }}\n"})
    with pytest.raises(TemplateError, match="no_such_fact"):
        own.draft(yan())


def test_printing_a_missing_value_fails(tmp_path: Path) -> None:
    own = _site(tmp_path, {"case_series.md.j2": "Harms: {{ harms_quote }}\n"})
    with pytest.raises(TemplateError, match="None"):
        own.draft(yan())


def test_empty_phrase_is_refused(tmp_path: Path) -> None:
    own = _site(tmp_path, {"case_series.md.j2": "People were given ({{ '' }}) here .\n"})
    with pytest.raises(TemplateError, match="empty or broken"):
        own.draft(yan())


def test_untrusted_html_in_the_abstract_is_escaped(drafter: Drafter) -> None:
    record = copy.deepcopy(YAN)
    f = record["facts"]["conclusion"]
    f["sentence"] = "Upadacitinib <script>alert(1)</script> may help."
    d = drafter.draft(paper_from_json(record))
    assert "<script>" not in d.body_markdown
    assert "&lt;script&gt;" in d.body_markdown


def test_hype_in_the_authors_words_is_not_reprinted(drafter: Drafter) -> None:
    record = copy.deepcopy(YAN)
    record["facts"]["conclusion"]["sentence"] = "Upadacitinib is a breakthrough for face AD."
    d = drafter.draft(paper_from_json(record))
    assert "breakthrough" not in d.body_markdown
    assert "[EDITOR (hype):" in d.body_markdown
    assert checks(d)["hype_words"]
