"""Each check fails on the mistake it exists to catch."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from golden_regen import GOLDEN
from newsflow.draft import Drafter
from newsflow.draft import checks as ck
from newsflow.draft.records import paper_from_json

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def drafter() -> Drafter:
    return Drafter(config_files={"drugs.toml": GOLDEN / "drugs.toml"})


def ctx(**kw: object) -> dict[str, object]:
    base = {"design": "case_series", "design_label": "case series", "family": "case_series",
            "human": True, "n": 6, "n_text": "6 people", "level": 4, "letter": False,
            "duration": "12 weeks", "has_treatment": True, "harms_kind": "none_reported",
            "observational": True}
    base.update(kw)
    return base


def test_hype_words_are_caught_but_technical_cure_phrases_are_not(drafter: Drafter) -> None:
    res = drafter.resources
    assert ck.find_hype("A breakthrough, game-changing miracle cure.", res) == \
        ["breakthrough", "game-changing", "miracle", "cure"]
    assert ck.find_hype("Mycological cure rates were similar.", res) == []
    assert not ck.check_hype("Title", "This is promising.", res).passed


def test_relative_only_claims_fail_absolute_ones_pass() -> None:
    assert not ck.check_absolute("Flares were twice as likely on HRT.").passed
    assert not ck.check_absolute("It gave a 30% lower risk of flares.").passed
    assert not ck.check_absolute("Flares rose (RR 1.34).").passed
    assert ck.check_absolute("3 of the 6 people improved, or about half.").passed


def test_claim_guard_blocks_causal_words_advice_and_lab_leaps() -> None:
    body = "Lede.\n\n## What did it find?\n\nPsoriasis causes depression.\n"
    assert not ck.check_claims("T", body, ctx(observational=True)).passed
    assert ck.check_claims("T", body, ctx(observational=False)).passed
    advice = "You should stop taking your cream.\n"
    assert "advice" in ck.check_claims("T", advice, ctx()).detail
    lab = ctx(human=False, observational=False)
    assert not ck.check_claims("Sunscreen study", "Cells were fine.\n", lab).passed
    assert ck.check_claims("In the lab: cells", "Done in the lab.\n", lab).passed


def test_limitations_required_for_small_uncontrolled_short_letters() -> None:
    c = ctx(letter=True)
    assert set(ck.limitation_triggers(c)) == {"N < 30", "no control group", "not randomised",
                                              "letter", "case series", "follow-up < 6 months"}
    assert not ck.check_limitations("Only 6 people.", c).passed
    full = "It was small. There was no comparison group. A letter. Too short."
    assert ck.check_limitations(full, c).passed
    assert ck.limitation_triggers(ctx(design="rct", n=400, duration="52 weeks",
                                      observational=False)) == {}


def test_harms_wording_follows_the_rules() -> None:
    none = "## Is it safe?\n\nThey did not see any side effects.\n"
    assert not ck.check_harms(none, ctx()).passed
    assert ck.check_harms(none + "It cannot rule out rare ones.\n", ctx()).passed
    silent = "## Is it safe?\n\nThe paper did not report on side effects.\n"
    assert ck.check_harms(silent, ctx(harms_kind="not_mentioned")).passed
    assert not ck.check_harms("No section.\n", ctx()).passed


def test_evidence_wording_rejects_strong_verbs_for_case_series() -> None:
    body = ("## How strong is this evidence?\n\nThis is early evidence; it may help.\n\n"
            "## Next\n\nThis proves the drug works.\n")
    check = ck.check_evidence(body, ctx())
    assert not check.passed and "proves" in check.detail
    assert ck.check_evidence(body.replace("This proves the drug works.", "Fine."), ctx()).passed


def test_acronyms_must_be_explained(drafter: Drafter) -> None:
    res = drafter.resources
    assert ck.check_acronyms("Scores used EASI (a score) and then EASI again.\n", res).passed
    bad = ck.check_acronyms("The XYZQ score fell.\n", res)
    assert not bad.passed and "XYZQ" in bad.detail


def test_an_invented_number_fails_provenance(drafter: Drafter) -> None:
    record = json.loads((DATA / "yan2023_case_series.json").read_text())
    good = drafter.draft(paper_from_json(record))
    assert next(c for c in good.checks if c.name == "number_provenance").passed
    tampered = copy.deepcopy(record)
    tampered["facts"]["duration"]["value"] = "16 weeks"  # a misread: not in the abstract
    bad = drafter.draft(paper_from_json(tampered))
    numbers = next(c for c in bad.checks if c.name == "number_provenance")
    assert "for 16 weeks" in bad.body_markdown
    assert not numbers.passed and numbers.blocking and "'16'" in numbers.detail


def test_readability_check_thresholds() -> None:
    ok = ck.check_readability({"fkgl": 7.0, "mean_sentence_words": 14, "long_word_share": 0.1})
    warn = ck.check_readability({"fkgl": 8.5, "mean_sentence_words": 14,
                                 "long_word_share": 0.1})
    hard = ck.check_readability({"fkgl": 11, "mean_sentence_words": 25, "long_word_share": 0.2})
    assert ok.passed and not warn.passed and not warn.blocking
    assert not hard.passed and hard.blocking
