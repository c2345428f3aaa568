"""Study design and OCEBM evidence level: publication types first, text rules second.

"Letter", "Comment" and "Journal Article" are formats, not designs, so they fall
through to the text rules (a letter can report a case series).  A trial without a
control arm (a single-arm or open-label pilot) is labelled ``case_series``: OCEBM
grades it with case series, and no design in the list fits it better.
"""

from __future__ import annotations

from newsflow.extract.doc import Doc
from newsflow.extract.rx import Gated, gated
from newsflow.extract.sentences import Sentence
from newsflow.models import Fact

DESIGNS = ("rct", "controlled_trial", "cohort", "case_control", "cross_sectional", "case_series",
           "case_report", "systematic_review", "meta_analysis", "narrative_review",
           "animal_or_lab", "guideline", "other")

# Publication type → design, strongest first.
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
_TRIAL_PTS = ("clinical trial", "clinical trial, phase i", "clinical trial, phase ii",
              "clinical trial, phase iii", "clinical trial, phase iv", "adaptive clinical trial",
              "clinical study")
# MeSH check tags that name a design.
_MESH = (
    ("case-control studies", "case_control"),
    ("cross-sectional studies", "cross_sectional"),
    ("cohort studies", "cohort"),
    ("prospective studies", "cohort"),
    ("longitudinal studies", "cohort"),
)

_META = gated(r"\bmeta[- ]?analys[ie]s|\bmeta-?regression|\bpooled (data|analys[ie]s|estimates?|"
              r"results|proportions?|relative risks?|risk ratios?|odds ratios?|RRs?|ORs?)\b|"
              r"\bdata (were|was) pooled|\bstatistical pooling\b|\brandom-effects (model|"
              r"meta)", "meta", "pool", "random-effects")
_META_NEG = gated(r"\b(precluded|prevented|not (possible|appropriate|suitable|feasible|"
                  r"performed)|did not (perform|conduct|undertake)|could not be (pooled|combined)|"
                  r"impossible|no)\b[^.;]{0,40}\b(meta[- ]?analys|pool)|\b(meta[- ]?analys\w*|"
                  r"pooling)[^.;]{0,30}\b(was|were) not (possible|appropriate|feasible|"
                  r"performed)|\bunsuitable for (meta|pool)|not suitable for meta|"
                  r"reviews and meta-?analyses",
                  "meta", "pool")
_POOLED_EST = gated(r"\((?=[^()]*\b(RR|OR|MD|SMD|HR|risk ratio|odds ratio|mean difference)\b)"
                    r"[^()]*(\bN\s*=\s*\d|\b\d+ (studies|trials|RCTs)\b|\d+ participants)",
                    "rr", "or", "md", "hr", "ratio", "difference")
_SYSREV = gated(r"\bsystematic(ally)? (literature )?(review|search|overview)|\bscoping review|"
                r"\bPRISMA\b|\b(searched|search of) (the )?(\w+ )?(PubMed|MEDLINE|Embase|Cochrane|"
                r"Web of Science|Scopus|electronic databases?|bibliographic databases?)|"
                r"\bwe (included|identified|found|retrieved) (\w+ ){0,2}(\d+|[a-z]+) (\w+ ){0,2}"
                r"(studies|trials|RCTs|reports|articles)|\b(studies|trials|RCTs|reports|articles)\b[^.;]{0,80}\b(met|fulfill?ed)"
                r" (the|our) (\w+ )?(inclusion|selection|eligibility) criteria|\b(included|"
                r"identified|eligible) (for inclusion )?in (this|the) review|\bthe review "
                r"(contains|included|includes|identified)|"
                r"\b(\d+|[a-z]+) (\w+ ){0,3}(RCTs|trials|studies|reports) [^.;]{0,120}\b(were|was) "
                r"(identified|included|eligible)|\bidentified for inclusion\b",
                "systematic", "scoping", "prisma", "search", "included", "inclusion",
                "review", "identified", "eligible", "found", "retrieved")
_FUTURE = gated(r"\b(needed|warranted|required|future|further|should be|would be|larger)\b",
                "need", "warrant", "requir", "future", "further", "should", "would", "larger")
_RANDOM = gated(r"(?<!non-)(?<!non)(?<!quasi-)\b(randomi[sz]ed(?! (order|sequence|manner))|"
                r"randomly (assigned|allocated|divided)|randomi[sz]ation)\b", "random")
_NONRANDOM = gated(r"\bnon-?randomi[sz]ed|\bquasi-?randomi[sz]ed", "random")
_CONTROLLED = gated(r"\b(placebo|vehicle|sham)[- ]controlled|\bcontrolled (clinical )?"
                    r"(trial|study)|\bcontrol group|\bcompared (with|to) (placebo|vehicle|"
                    r"a control)|\bversus placebo|\bvs\.? placebo", "control", "placebo")
_LAB = gated(r"\b(mice|mouse|murine|rats?|rabbits?|zebrafish|porcine|guinea pigs?|cats?|dogs?|"
             r"canine|feline|sheep|ovine|bovine|cattle|horses?|equine|monkeys?|macaques?|"
             r"primates|hamsters?|pigs|piglets|chickens?|in vitro|"
             r"in vivo|cell lines?|cultured|xenografts?|HaCaT|fibroblasts?|keratinocytes|"
             r"melanocytes|organoids?|ex vivo|animal models?|knockout|knockdown|siRNA|transgenic|"
             r"in silico|docking|bacterial strains?|assays?|cytotoxic\w*|clastogenic\w*|"
             r"genotoxic\w*|western blot)\b",
             "mice", "mouse", "murine", "rat", "rabbit", "zebrafish", "porcine", "guinea",
             "cat", "dog", "canine", "feline", "sheep", "ovine", "bovine", "cattle", "horse",
             "equine", "monkey", "macaque", "primate", "hamster", "pig", "chicken",
             "vitro", "vivo", "cell line", "cultured", "xenograft", "hacat", "fibroblast",
             "keratinocyte", "melanocyte", "organoid", "animal", "knock", "sirna", "transgenic",
             "silico", "docking", "strain", "assay", "cytotox", "clastogen", "genotox", "blot")
_HUMAN_STUDY = gated(r"\b(\d+|[a-z]+) (patients|participants|subjects|adults|children|women|"
                     r"men|volunteers|individuals|people)\b", "patient", "participant",
                     "subject", "adult", "children", "men", "volunteer", "individual", "people")
_CASE_CONTROL = gated(r"\bcase[- ]control\b", "control")
_CROSS = gated(r"\bcross[- ]sectional\b|\b(online |web-based |national )?survey\b|"
               r"\bquestionnaire[- ]based\b|\bprevalence study\b", "cross", "survey",
               "questionnaire", "prevalence")
_COHORT = gated(r"\bcohort\b|\b(registry|register)[- ]based\b|\blongitudinal (study|"
                r"analysis)\b|\bprospective(ly)? (observational |multicent(er|re) )?"
                r"(study|followed)\b|\bpopulation-based\b|\bclaims (data|database)\b|"
                r"\bnationwide\b|\bcancer registr(y|ies)\b", "cohort", "regist", "longitudinal",
                "prospective", "population-based", "claims", "nationwide")
_RETRO = gated(r"\bretrospective(ly)?\b|\bchart review\b|\bmedical records\b", "retrospective",
               "chart", "records")
_ASSOC = gated(r"\b(odds ratio|hazard ratio|relative risk|risk of|associated with|association|"
               r"incidence|compared (with|to)|versus|vs\.?|predictors?|than (patients|those))\b|"
               r"\b[Pp]\s*[<=]\s*0?\.\d", "ratio", "risk", "associat", "incidence", "compared",
               "versus", "vs", "predict", "than", "p<", "p <", "p=", "p =")
_SERIES = gated(r"\bcase series\b|\bseries of (\d+|[a-z]+) (patients|cases)\b|"
                r"\bwe (report|describe|present) (\d+|two|three|four|five|six|seven|eight|"
                r"nine|ten|eleven|twelve) (\w+ )?(patients|cases|children|adults|women|men)\b|"
                r"\bsingle[- ]arm\b|\bopen[- ]label,? (single|uncontrolled|pilot)|"
                r"\buncontrolled\b|\bconsecutive (patients|cases)\b",
                "series", "report", "describe", "present", "single", "open", "uncontrolled",
                "consecutive")
_REPORT = gated(r"\bcase report\b|\bwe (report|describe|present) (a|an|the) (\w+ ){0,4}"
                r"(case|patient|man|woman|boy|girl|infant|child)\b|\b(a|an) \d{1,3}[- ]"
                r"(year|month|week|day)s?[- ]old (\w+ ){0,3}(man|woman|male|female|boy|girl|"
                r"patient|infant|child|gentleman|lady)\b|\b(this|a) case (is|was) "
                r"(presented|described|reported)", "case", "report", "describe", "present",
                "old")
_GUIDE = gated(r"\bguidelines?\b|\bconsensus (statement|recommendations?)\b|"
               r"\bposition (statement|paper)\b|\brecommendations (for|on)\b",
               "guideline", "consensus", "position", "recommendation")
_REVIEW = gated(r"\b(this|in this|we) (narrative |comprehensive )?review\b|\breview (of|on) "
                r"the (current )?(literature|evidence)\b|\b(we|this article) (summari[sz]e|"
                r"review|discuss|overview)s?\b|\b(an |a )?(update|overview)\b|"
                r"\bnarrative review\b|\breview article\b|\bpurpose of review\b",
                "review", "summari", "discuss", "update", "overview")
_DESCRIBE = gated(r"\b(to describe|we describe|descriptive)\b", "describ")
_TRIALWORD = gated(r"\b(trial|study)\b", "trial", "study")

LEVELS = {"meta_analysis": "L1", "systematic_review": "L1", "rct": "L2",
          "controlled_trial": "L3", "cohort": "L3", "case_control": "L4",
          "cross_sectional": "L4", "case_series": "L4", "case_report": "L4",
          "animal_or_lab": "L5", "narrative_review": "L5"}
LEVEL_WORDS = {"L1": "systematic review of trials", "L2": "randomised trial",
               "L3": "non-randomised controlled or cohort study",
               "L4": "case series, case-control, cross-sectional study or case report",
               "L5": "mechanism-based reasoning: lab, animal or expert review"}

_Found = tuple[str, str, float, Sentence | None]


def extract_design(doc: Doc) -> dict[str, Fact]:
    found = _design(doc)
    if found is None:
        return {}
    design, value, conf, sent = found
    out = {"design": doc.fact("design", value, design, conf, sent)}
    level = LEVELS.get(design)
    if level == "L1" and not any(w in (doc.abstract + " " + doc.paper.title).lower()
                                 for w in ("randomi", "rct", "trial")):
        level = "L3"  # a review of observational studies only
    if level is not None:
        out["evidence_level"] = doc.fact(
            "evidence_level", f"OCEBM level {level[1]}: {LEVEL_WORDS[level]} ({design})",
            level, conf * 0.9, sent)
    return out


class _Text:
    """The title and the sentences that describe this study (not background or calls for
    future work), searched in that order."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.title = doc.paper.title or ""
        self.body = [s for s in doc.sentences
                     if doc.role_of(s) not in ("background", "conclusions", "funding",
                                               "conflicts", "registration")
                     and not _FUTURE.search(s.text)]
        self.first = doc.sentences[0] if doc.sentences else None

    def sentence(self, rx: Gated, everywhere: bool = False) -> Sentence | None:
        pool = self.doc.sentences if everywhere else self.body
        return next((s for s in pool if rx.search(s.text)), None)

    def has(self, rx: Gated, everywhere: bool = False) -> bool:
        return bool(rx.search(self.title)) or self.sentence(rx, everywhere) is not None

    def where(self, rx: Gated, everywhere: bool = False) -> Sentence | None:
        return self.sentence(rx, everywhere) or self.first


def _design(doc: Doc) -> _Found | None:
    t = _Text(doc)
    for rule in (_by_pub_type, _by_review_text, _by_review_type, _by_trial_text, _by_lab_text,
                 _by_observational_text, _by_case_text, _by_narrative):
        found = rule(doc, t)
        if found is not None:
            return found
    return None


def _is_review(doc: Doc, t: _Text) -> bool:
    return ("review" in doc.pub_types or "systematic review" in doc.pub_types
            or bool(_SYSREV.search(t.title)) or bool(_META.search(t.title)))


def _by_pub_type(doc: Doc, t: _Text) -> _Found | None:
    for pt, design in _PT:
        if pt not in doc.pub_types:
            continue
        if design in ("rct", "controlled_trial") and _is_review(doc, t):
            return None  # reviews of trials are sometimes indexed with the trial's type
        if design == "systematic_review" and _pooled(t):
            design = "meta_analysis"
        rx = {"meta_analysis": _META, "systematic_review": _SYSREV, "guideline": _GUIDE,
              "rct": _RANDOM, "controlled_trial": _CONTROLLED}[design]
        return design, f"{_pt_label(doc, pt)} (publication type)", 0.95, t.where(rx)
    return None


def _pooled(t: _Text) -> bool:
    """Did the review pool results?  "Heterogeneity precluded meta-analysis" says no."""
    pos = [s for s in t.doc.sentences if _META.search(s.text) and not _META_NEG.search(s.text)]
    if pos or (_META.search(t.title) and not _META_NEG.search(t.title)):
        return True
    if any(_META_NEG.search(s.text) for s in t.doc.sentences):
        return False
    return any(_POOLED_EST.search(s.text) for s in t.doc.sentences)


_NARRATIVE = gated(r"\bnarrative review\b|\bselective (literature )?(search|review)\b",
                   "narrative", "selective")


def _by_review_text(doc: Doc, t: _Text) -> _Found | None:
    if t.has(_NARRATIVE, everywhere=True):  # "a narrative review based on a systematic search"
        return "narrative_review", "narrative review (text)", 0.8, t.where(_NARRATIVE, True)
    sysrev = t.has(_SYSREV, everywhere=True)
    meta_title = bool(_META.search(t.title)) and not _META_NEG.search(t.title)
    if meta_title or (sysrev and _pooled(t)):
        return "meta_analysis", "meta-analysis (text)", 0.85, \
            next((s for s in doc.sentences if _META.search(s.text)
                  and not _META_NEG.search(s.text)), None) or t.where(_SYSREV, True)
    if sysrev:
        return "systematic_review", "systematic review (text)", 0.85, t.where(_SYSREV, True)
    if _GUIDE.search(t.title) or "guideline" in doc.pub_types:
        return "guideline", "guideline or consensus statement (text)", 0.8, \
            t.where(_GUIDE, True)
    return None


def _by_review_type(doc: Doc, t: _Text) -> _Found | None:
    # An indexed Review that no systematic rule caught discusses trials and cohorts; it is
    # not one.  A case report "with review of the literature" stays a case report.
    if "review" in doc.pub_types and "case reports" not in doc.pub_types:
        return "narrative_review", "Review (publication type)", 0.7, t.where(_REVIEW, True)
    return None


def _by_trial_text(doc: Doc, t: _Text) -> _Found | None:
    if not _NONRANDOM.search(t.title) and t.has(_RANDOM):
        return "rct", "randomised trial (text)", 0.85, t.where(_RANDOM)
    if t.has(_CONTROLLED) or t.has(_NONRANDOM):
        rx = _CONTROLLED if t.has(_CONTROLLED) else _NONRANDOM
        return "controlled_trial", "non-randomised controlled study (text)", 0.75, t.where(rx)
    if any(p in doc.pub_types for p in _TRIAL_PTS):
        return "case_series", "single-arm trial without a control group (publication type " \
            "Clinical Trial)", 0.7, t.where(_TRIALWORD)
    return None


def _by_lab_text(doc: Doc, t: _Text) -> _Found | None:
    if "animals" in doc.mesh and "humans" not in doc.mesh:
        return "animal_or_lab", "laboratory or animal study (MeSH Animals, no Humans)", 0.85, \
            t.where(_LAB, True)
    if "humans" in doc.mesh and "animals" not in doc.mesh:
        return None
    hits = sum(1 for s in t.body if _LAB.search(s.text)) + (2 if _LAB.search(t.title) else 0)
    humans = sum(1 for s in t.body if _HUMAN_STUDY.search(s.text))
    if hits >= 2 and hits > humans:
        return "animal_or_lab", "laboratory or animal study (text)", 0.8, t.where(_LAB, True)
    return None


def _by_observational_text(doc: Doc, t: _Text) -> _Found | None:
    if t.has(_CASE_CONTROL):
        return "case_control", "case-control study (text)", 0.8, t.where(_CASE_CONTROL)
    if t.has(_CROSS):
        return "cross_sectional", "cross-sectional study or survey (text)", 0.75, \
            t.where(_CROSS)
    if t.has(_COHORT):
        return "cohort", "cohort study (text)", 0.75, t.where(_COHORT)
    if t.has(_SERIES):
        return "case_series", "case series (text)", 0.75, t.where(_SERIES)
    for term, design in _MESH:
        if term in doc.mesh:
            return design, f"{design.replace('_', ' ')} (MeSH {term})", 0.65, t.first
    if t.has(_RETRO) or "retrospective studies" in doc.mesh:
        if t.has(_ASSOC):
            return "cohort", "retrospective cohort (text)", 0.65, t.where(_RETRO)
        return "case_series", "retrospective case series (text)", 0.6, t.where(_RETRO)
    if "observational study" in doc.pub_types:
        return "cohort", "Observational Study (publication type)", 0.6, t.where(_COHORT)
    if t.has(_DESCRIBE, everywhere=True) and t.has(_HUMAN_STUDY) and not t.has(_ASSOC):
        return "case_series", "descriptive study of a group of patients (text)", 0.5, \
            t.where(_HUMAN_STUDY)
    return None


def _by_case_text(doc: Doc, t: _Text) -> _Found | None:
    if "case reports" in doc.pub_types:
        return "case_report", "Case Reports (publication type)", 0.9, t.where(_REPORT, True)
    if t.has(_REPORT, everywhere=True):
        return "case_report", "case report (text)", 0.75, t.where(_REPORT, True)
    return None


def _by_narrative(doc: Doc, t: _Text) -> _Found | None:
    if "review" in doc.pub_types:
        return "narrative_review", "Review (publication type)", 0.7, t.where(_REVIEW, True)
    if t.has(_REVIEW, everywhere=True):
        return "narrative_review", "review (text)", 0.65, t.where(_REVIEW, True)
    return None


def _pt_label(doc: Doc, pt: str) -> str:
    return next((p.strip() for p in doc.paper.publication_types if p.strip().lower() == pt), pt)
