"""Study design and OCEBM evidence level: publication types first, text rules second.

"Letter", "Comment" and "Journal Article" are formats, not designs, so they fall
through to the text rules (a letter can report a case series).
"""

from __future__ import annotations

import re

from newsflow.extract.doc import Doc
from newsflow.extract.sentences import Sentence
from newsflow.models import Fact

DESIGNS = ("rct", "controlled_trial", "cohort", "case_control", "cross_sectional", "case_series",
           "case_report", "systematic_review", "meta_analysis", "narrative_review",
           "animal_or_lab", "guideline", "other")

# Publication type → design, strongest first.  Trials and reviews still get a text check.
_PT = (
    ("meta-analysis", "meta_analysis"),
    ("network meta-analysis", "meta_analysis"),
    ("systematic review", "systematic_review"),
    ("practice guideline", "guideline"),
    ("guideline", "guideline"),
    ("consensus development conference", "guideline"),
    ("randomized controlled trial", "rct"),
    ("equivalence trial", "rct"),
    ("pragmatic clinical trial", "rct"),
    ("controlled clinical trial", "controlled_trial"),
)
_TRIAL_PT = re.compile(r"^(clinical trial|clinical study|adaptive clinical trial)")
_CASE_PT = "case reports"

_META = re.compile(r"\bmeta-?analys[ie]s|\bmeta-?regression|\bpooled analysis of (\w+ )?"
                   r"(randomi[sz]ed|trials|studies)", re.I)
_SYSREV = re.compile(r"\bsystematic(ally)? (literature )?(review|search)|\bscoping review|"
                     r"\bPRISMA\b|\b(searched|search of) (the )?(\w+ )?(PubMed|MEDLINE|Embase|"
                     r"Cochrane|Web of Science|Scopus|electronic databases?)", re.I)
_FUTURE = re.compile(r"\b(needed|warranted|required|future|further|should be|would be|larger)\b",
                     re.I)
_RANDOM = re.compile(r"(?<!non-)(?<!non)(?<!quasi-)\b(randomi[sz]ed|randomly (assigned|allocated|"
                     r"divided)|randomi[sz]ation)\b", re.I)
_NONRANDOM = re.compile(r"\bnon-?randomi[sz]ed|\bquasi-?randomi[sz]ed", re.I)
_CONTROLLED = re.compile(r"\b(placebo|vehicle|sham)[- ]controlled|\bcontrolled (clinical )?"
                         r"(trial|study)|\bcontrol group|\bcompared (with|to) (placebo|vehicle|"
                         r"a control)|\bversus placebo|\bvs\.? placebo", re.I)
_ANIMAL = re.compile(r"\b(mice|mouse|murine|rats?|rabbits?|zebrafish|porcine|pigs?|guinea pigs?|"
                     r"in vitro|in vivo|cell lines?|cultured|xenograft|HaCaT|fibroblasts|"
                     r"keratinocytes|organoids?|ex vivo|animal models?|knockout|transgenic|"
                     r"in silico|docking|bacterial strains?|isolates)\b", re.I)
_HUMAN_STUDY = re.compile(r"\b(\d+|[a-z]+) (patients|participants|subjects|adults|children|"
                          r"women|men|volunteers|individuals|people)\b", re.I)
_CASE_CONTROL = re.compile(r"\bcase[- ]control\b", re.I)
_CROSS = re.compile(r"\bcross[- ]sectional\b|\b(online |web-based |national )?survey\b|"
                    r"\bquestionnaire[- ]based\b|\bprevalence study\b", re.I)
_COHORT = re.compile(r"\bcohort\b|\b(registry|register)[- ]based\b|\blongitudinal (study|"
                     r"analysis)\b|\bprospective(ly)? (observational |multicent(er|re) )?"
                     r"(study|followed)\b|\bpopulation-based\b|\bclaims (data|database)\b|"
                     r"\bnationwide\b", re.I)
_RETRO = re.compile(r"\bretrospective(ly)?\b|\bchart review\b|\bmedical records\b", re.I)
_ASSOC = re.compile(r"\b(odds ratio|hazard ratio|relative risk|risk of|associated with|"
                    r"association|incidence|compared (with|to)|versus|vs\.?)\b", re.I)
_SERIES = re.compile(r"\bcase series\b|\bseries of (\d+|[a-z]+) (patients|cases)\b|"
                     r"\bwe (report|describe|present) (\d+|two|three|four|five|six|seven|eight|"
                     r"nine|ten|eleven|twelve) (patients|cases|children|adults|women|men)\b|"
                     r"\bsingle[- ]arm\b|\bopen[- ]label,? (single|uncontrolled|pilot)|"
                     r"\buncontrolled\b", re.I)
_REPORT = re.compile(r"\bcase report\b|\bwe (report|describe|present) (a|an|the) (\w+ ){0,4}"
                     r"(case|patient|man|woman|boy|girl|infant|child)\b|\b(a|an) \d{1,3}[- ]"
                     r"(year|month|week|day)s?[- ]old (\w+ ){0,3}(man|woman|male|female|boy|girl|"
                     r"patient|infant|child|gentleman|lady)\b|\bthis case\b", re.I)
_GUIDE = re.compile(r"\bguidelines?\b|\bconsensus (statement|recommendations?)\b|"
                    r"\bposition (statement|paper)\b|\brecommendations (for|on)\b", re.I)
_REVIEW = re.compile(r"\b(this|in this|we) (narrative |comprehensive )?review\b|\breview (of|on) "
                     r"the (current )?(literature|evidence)\b|\b(we|this article) (summari[sz]e|"
                     r"review|discuss|overview)s?\b|\b(an |a )?(update|overview)\b|"
                     r"\bnarrative review\b|\breview article\b", re.I)
_TRIALWORD = re.compile(r"\b(trial|study)\b", re.I)

LEVELS = {"meta_analysis": "L1", "systematic_review": "L1", "rct": "L2",
          "controlled_trial": "L3", "cohort": "L3", "case_control": "L4",
          "cross_sectional": "L4", "case_series": "L4", "case_report": "L4",
          "animal_or_lab": "L5", "narrative_review": "L5"}
LEVEL_WORDS = {"L1": "systematic review of trials", "L2": "randomised trial",
               "L3": "non-randomised controlled or cohort study",
               "L4": "case series, case-control, cross-sectional study or case report",
               "L5": "mechanism-based reasoning: lab, animal or expert review"}


def _methods_text(doc: Doc) -> list[Sentence]:
    """Sentences that describe this study (not background or calls for future work)."""
    return [s for s in doc.sentences
            if doc.role_of(s) not in ("background", "conclusions", "funding", "conflicts")
            and not _FUTURE.search(s.text)]


def _first(doc: Doc, rx: re.Pattern[str], sentences: list[Sentence]) -> Sentence | None:
    return next((s for s in sentences if rx.search(s.text)), None)


def extract_design(doc: Doc) -> dict[str, Fact]:
    found = _design(doc)
    if found is None:
        return {}
    design, value, conf, sent = found
    out = {"design": doc.fact("design", value, design, conf, sent)}
    level = LEVELS.get(design)
    if level == "L1" and not re.search(r"randomi[sz]ed|\bRCTs?\b|\btrials\b",
                                       doc.abstract + " " + doc.paper.title, re.I):
        level = "L3"  # a review that pooled observational studies only
    if level is not None:
        out["evidence_level"] = doc.fact(
            "evidence_level", f"OCEBM level {level[1]}: {LEVEL_WORDS[level]} ({design})",
            level, conf * 0.9, sent)
    return out


def _design(doc: Doc) -> tuple[str, str, float, Sentence | None] | None:
    first = doc.sentences[0] if doc.sentences else None
    title = doc.paper.title or ""
    body = _methods_text(doc)
    # Title first: it names the design most reliably.
    for pt, design in _PT:
        if pt in doc.pub_types:
            if design in ("rct", "controlled_trial") and _is_review(doc, title, body):
                break  # reviews of trials are sometimes indexed with the trial's type
            sent = _first(doc, _pt_evidence(design), body) or first
            return design, f"{_pt_label(doc, pt)} (publication type)", 0.95, sent
    meta = _META.search(title) or _first(doc, _META, body)
    if meta:
        return "meta_analysis", "meta-analysis (text)", 0.85, _sent(doc, _META, body, first)
    if _SYSREV.search(title) or _first(doc, _SYSREV, body):
        return "systematic_review", "systematic review (text)", 0.85, \
            _sent(doc, _SYSREV, body, first)
    if _GUIDE.search(title) or "guideline" in doc.pub_types:
        return "guideline", "guideline or consensus statement (text)", 0.8, \
            _sent(doc, _GUIDE, doc.sentences, first)
    trial_pt = any(_TRIAL_PT.match(p) for p in doc.pub_types)
    if not _NONRANDOM.search(title) and (_RANDOM.search(title) or _first(doc, _RANDOM, body)):
        return "rct", "randomised trial (text)", 0.85, _sent(doc, _RANDOM, body, first)
    if _CONTROLLED.search(title) or _first(doc, _CONTROLLED, body) or (
            _NONRANDOM.search(title) or _first(doc, _NONRANDOM, body)):
        rx = _CONTROLLED if (_CONTROLLED.search(title) or _first(doc, _CONTROLLED, body)) \
            else _NONRANDOM
        if not _is_review(doc, title, body):
            return "controlled_trial", "non-randomised controlled study (text)", 0.75, \
                _sent(doc, rx, body, first)
    if _is_lab(doc, title, body):
        return "animal_or_lab", "laboratory or animal study (text)", 0.8, \
            _sent(doc, _ANIMAL, doc.sentences, first)
    if _CASE_CONTROL.search(title) or _first(doc, _CASE_CONTROL, body):
        return "case_control", "case-control study (text)", 0.8, \
            _sent(doc, _CASE_CONTROL, body, first)
    if trial_pt:
        return "case_series", "single-arm trial without a control group " \
            "(publication type Clinical Trial)", 0.7, _sent(doc, _TRIALWORD, body, first)
    if _CROSS.search(title) or _first(doc, _CROSS, body):
        return "cross_sectional", "cross-sectional study or survey (text)", 0.75, \
            _sent(doc, _CROSS, body, first)
    if _COHORT.search(title) or _first(doc, _COHORT, body):
        return "cohort", "cohort study (text)", 0.75, _sent(doc, _COHORT, body, first)
    series = _SERIES.search(title) or _first(doc, _SERIES, body)
    if series:
        return "case_series", "case series (text)", 0.75, _sent(doc, _SERIES, body, first)
    if _CASE_PT in doc.pub_types or _REPORT.search(title) or _first(doc, _REPORT, body):
        if _CASE_PT in doc.pub_types:
            return "case_report", "Case Reports (publication type)", 0.9, \
                _sent(doc, _REPORT, doc.sentences, first)
        return "case_report", "case report (text)", 0.75, _sent(doc, _REPORT, body, first)
    if _RETRO.search(title) or _first(doc, _RETRO, body):
        if _first(doc, _ASSOC, body) or _ASSOC.search(title):
            return "cohort", "retrospective cohort (text)", 0.65, _sent(doc, _RETRO, body, first)
        return "case_series", "retrospective case series (text)", 0.6, \
            _sent(doc, _RETRO, body, first)
    if "observational study" in doc.pub_types:
        return "cohort", "Observational Study (publication type)", 0.6, \
            _sent(doc, _COHORT, body, first)
    if "review" in doc.pub_types or _REVIEW.search(title) or _first(doc, _REVIEW,
                                                                    doc.sentences):
        label = "Review (publication type)" if "review" in doc.pub_types else "review (text)"
        return "narrative_review", label, 0.7, _sent(doc, _REVIEW, doc.sentences, first)
    return None


def _is_review(doc: Doc, title: str, body: list[Sentence]) -> bool:
    return bool("review" in doc.pub_types or "systematic review" in doc.pub_types
                or _SYSREV.search(title) or _META.search(title))


def _is_lab(doc: Doc, title: str, body: list[Sentence]) -> bool:
    if "animals" in doc.mesh and "humans" not in doc.mesh:
        return True
    if "humans" in doc.mesh and "animals" not in doc.mesh:
        return False
    hits = sum(1 for s in body if _ANIMAL.search(s.text)) + (2 if _ANIMAL.search(title) else 0)
    humans = sum(1 for s in body if _HUMAN_STUDY.search(s.text))
    return hits >= 2 and hits > humans


def _pt_evidence(design: str) -> re.Pattern[str]:
    return {"meta_analysis": _META, "systematic_review": _SYSREV, "guideline": _GUIDE,
            "rct": _RANDOM, "controlled_trial": _CONTROLLED}[design]


def _pt_label(doc: Doc, pt: str) -> str:
    for p in doc.paper.publication_types:
        if p.strip().lower() == pt:
            return p.strip()
    return pt


def _sent(doc: Doc, rx: re.Pattern[str], sentences: list[Sentence],
          fallback: Sentence | None) -> Sentence | None:
    return _first(doc, rx, sentences) or fallback
