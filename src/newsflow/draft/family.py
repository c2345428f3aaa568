"""Study design → template family, reader-facing label and evidence-strength wording.

Levels follow OCEBM 2011 "does this intervention help?" and the verbs follow the GRADE
plain-language ladder (Santesso et al. 2020): stronger designs "suggest", weaker ones "may".
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("randomised_trial", "trial_or_observational", "case_series", "systematic_review",
            "lab_study", "guideline_other")

_FAMILY = {
    "rct": "randomised_trial",
    "controlled_trial": "trial_or_observational",
    "cohort": "trial_or_observational",
    "case_control": "trial_or_observational",
    "cross_sectional": "trial_or_observational",
    "case_series": "case_series",
    "case_report": "case_series",
    "systematic_review": "systematic_review",
    "meta_analysis": "systematic_review",
    "animal_or_lab": "lab_study",
    "guideline": "guideline_other",
    "narrative_review": "guideline_other",
    "other": "guideline_other",
}

LABELS = {
    "rct": "randomised controlled trial",
    "controlled_trial": "controlled trial",
    "cohort": "cohort study",
    "case_control": "case-control study",
    "cross_sectional": "cross-sectional study",
    "case_series": "case series",
    "case_report": "case report",
    "systematic_review": "systematic review",
    "meta_analysis": "meta-analysis",
    "narrative_review": "narrative review",
    "animal_or_lab": "lab study",
    "guideline": "clinical guideline",
    "other": "study",
}

OBSERVATIONAL = {"cohort", "case_control", "cross_sectional", "case_series", "case_report"}
NO_CONTROL = {"case_series", "case_report", "cross_sectional"}
NOT_RANDOMISED = {"controlled_trial", "cohort", "case_control", "cross_sectional",
                  "case_series", "case_report"}


@dataclass(frozen=True)
class Ladder:
    level: int | None  # OCEBM level 1–5; None for guidelines and opinion
    strength: str  # "fairly strong", "moderate", "early", "very early", "expert opinion"
    verb: str  # the verb the body must use for the treatment claim
    required: tuple[str, ...]  # phrases the strength section must contain
    banned: tuple[str, ...]  # phrases the body must not contain


_BANNED_WEAK = ("proves", "proven", "proof that", "confirms", "shows that", "works for")
_LADDERS = {
    1: Ladder(1, "fairly strong", "suggests", ("suggest",), ("proves", "proof that")),
    2: Ladder(2, "fairly strong", "suggests", ("suggest",), ("proves", "proof that")),
    3: Ladder(3, "moderate", "may", ("may",), _BANNED_WEAK),
    4: Ladder(4, "early", "may", ("early evidence", "may"), _BANNED_WEAK),
    5: Ladder(5, "very early", "may", ("early", "may", "in the lab"), _BANNED_WEAK),
}
_OPINION = Ladder(None, "expert opinion", "may", ("not new evidence",), _BANNED_WEAK)

_DEFAULT_LEVEL = {
    "systematic_review": 1, "meta_analysis": 1, "rct": 2, "controlled_trial": 3, "cohort": 3,
    "case_control": 4, "cross_sectional": 4, "case_series": 4, "case_report": 4,
    "animal_or_lab": 5,
}


def family_for(design: str | None) -> str:
    return _FAMILY.get(design or "other", "guideline_other")


def parse_level(value: object) -> int | None:
    """Accept 2, "2", "L2", "level 2", "1a"; anything else is None."""
    text = str(value).strip().lower() if value is not None else ""
    for ch in text:
        if ch.isdigit():
            n = int(ch)
            return n if 1 <= n <= 5 else None
    return None


def ladder_for(design: str | None, level: object = None) -> Ladder:
    d = design or "other"
    if d in ("guideline", "narrative_review", "other") and parse_level(level) is None:
        return _OPINION
    n = parse_level(level) or _DEFAULT_LEVEL.get(d)
    if n is None:
        return _OPINION
    # A design never reads stronger than its own default: a case series tagged level 2
    # by a publisher still gets the case-series wording.
    n = max(n, _DEFAULT_LEVEL.get(d, n))
    return _LADDERS[n]
