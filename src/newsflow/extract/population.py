"""Who was studied: sample size, age range and sex split."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from newsflow.extract.doc import Doc
from newsflow.extract.numbers import DASH, INT, NUM, to_int, to_num
from newsflow.extract.rx import gated
from newsflow.extract.sentences import Sentence
from newsflow.models import Fact

NOUN = (r"(?:patients|participants|subjects|adults|children|individuals|people|persons|women|"
        r"men|cases|volunteers|infants|adolescents|respondents|dermatologists|physicians|"
        r"neonates|newborns|pregnancies|students|residents|veterans|employees|workers|twins|"
        r"families|mothers|survivors|users|recipients|donors|siblings|girls|boys|"
        r"outpatients|inpatients|controls|healthy controls|pts)")
# Up to four modifiers between the number and the noun ("60 adult Japanese AD patients").
_MODS = r"(?:(?:[A-Za-z][\w'/]*(?:-[\w']+)*|\(\w+\))\s+){0,4}?"
_VERB = (r"(?:were|was)\s+(?:\w+\s+)?(?:enrolled|included|recruited|randomi[sz]ed|studied|"
         r"analy[sz]ed|treated|evaluated|assessed|identified|surveyed|examined|followed|"
         r"allocated|assigned|investigated|reviewed|selected|involved|participated)|"
         r"(?:participated|completed the survey|responded|took part|underwent|received)")

_APPROX = r"(?:(over|more than|approximately|about|nearly|almost|around|at least|roughly|" \
          r"some|up to|fewer than|less than|>|≥|~)\s*)?"
_TOTAL = gated(rf"\b(?:a total of|in total,?|overall,?|altogether,?|total of)\s+{_APPROX}({INT})"
               rf"\s+{_MODS}{NOUN}\b", "total", "overall", "altogether")
_NOUN_AT = gated(rf"\b{NOUN}\b", *sorted({w.strip("()?:") for w in NOUN.split("|")}))
# The number (and modifiers) that ends right where a participant noun starts.
_NUM_BEFORE = re.compile(rf"(?<![\w.,/±-]){_APPROX}({INT})\s+{_MODS}\Z", re.I)
_VERB_AFTER = re.compile(rf"(?:\s*\([^()]{{0,80}}\))?,?\s+(?:{_VERB}|(?:enrolled|included|"
                         rf"recruited|randomi[sz]ed)\b)", re.I)
_VERB_LATER = re.compile(r"[^.;]{0,80}?\b(?:were|was) (?:\w+ )?(?:recruited|enrolled|included|"
                         r"randomi[sz]ed|studied|analy[sz]ed)\b", re.I)
_VERB_FIRST = gated(rf"\b(?:enrolled|included|recruited|randomi[sz]ed|studied|analy[sz]ed|"
                    rf"surveyed|involved|including|enrolling|involving|assigned|allocated|"
                    rf"(?:analy[sz]ed|collected|obtained) (?:data )?(?:from|on|of)|data (?:from|"
                    rf"on|of)|conducted (?:on|in|among)|comprised|comprising|consisted of|"
                    rf"sample of|cohort of|we (?:report|describe|present))\s+{_APPROX}"
                    rf"({INT})\s+{_MODS}{NOUN}\b", "enrol", "includ", "recruit", "random",
                    "studied", "analy", "survey", "involv", "assign", "allocat", "data",
                    "conducted", "compris", "consisted", "sample", "cohort", "report",
                    "describe", "present", "collected", "obtained")
_POOLED = gated(rf"\b({INT})\s+(?:\w+\s+){{0,3}}?(?:trials|studies|RCTs|articles)\s*"
                rf"(?:\([^)]*\)\s*)?,?\s*(?:that [^.;]{{0,60}}?)?(?:involving|including|with|"
                rf"enrolling|comprising|of|representing|totaling|totalling|covering)\s+"
                rf"(?:a total of\s+)?{_APPROX}({INT})\s+{_MODS}{NOUN}\b", "trials", "studies",
                "rcts", "articles")
_PAREN = gated(rf"\b(?:trials|studies|RCTs|reports)\s*\(\s*(?:(?:[Nn]\s*=\s*)({INT})\s*[;,)]|"
               rf"({INT})\s+{_MODS}{NOUN}\b)", "trials", "studies", "rcts", "reports")
_NEQ = gated(rf"(?<![\w])([Nn])\s*=\s*({INT})\b", "=", flags=0)
_EXCLUDE_BEFORE = re.compile(r"(screened|assessed for eligibility|invited|approached|contacted|"
                             r"excluded|withdrew|withdrawn|discontinued|lost to follow-up|"
                             r"dropped out|records|articles|citations|studies|trials|"
                             r"\bof whom|\bof these|\bof them|\bamong them|\bincluding|"
                             r"\bremaining|\bpooled data (from|across))\W*(\w+\W+){0,4}$", re.I)
_SUBGROUP_AFTER = re.compile(r"^\s*(\(\d+(\.\d+)?\s?%\)|were (excluded|lost)|had |did not|"
                             r"developed|achieved|reached|showed|experienced|reported|"
                             r"in the|in each|received)", re.I)
# Cheap test for "is there any number here at all" before the costly INT search.
_MAYBE_NUMBER = re.compile(r"\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                           r"twelve|teen|ty\b|ty-|hundred", re.I)
_NOT_A_COUNT = re.compile(r"(aged?|mean|median|±|/|\bper|\bevery|\beach)\s*$", re.I)
_PERCENT_AFTER = re.compile(r"^\s*(%|percent|per cent)")
_YEAR = re.compile(r"^(19[4-9]\d|20[0-3]\d)$")
_SINGLE = gated(r"\b(a|an|the|this|our|one) (\w+ ){0,3}(patient|man|woman|boy|girl|infant|child|"
                r"neonate|recipient|case)\b|\b\d{1,3}[- ](year|month)s?[- ]old\b",
                "patient", "man", "woman", "boy", "girl", "infant", "child", "neonate",
                "recipient", "case", "old")


@dataclass
class _Cand:
    n: int
    score: float
    sentence: Sentence
    phrase: str
    approximate: bool = False


def _good_number(raw: str, n: int | None) -> bool:
    return n is not None and 1 <= n <= 5_000_000


def _candidates(doc: Doc) -> list[_Cand]:
    out: list[_Cand] = []

    def add(raw: str, score: float, s: Sentence, phrase: str, approx: str | None) -> None:
        n = to_int(raw)
        if n is not None and _good_number(raw, n):
            out.append(_Cand(n, score, s, phrase, approximate=bool(approx)))

    for s in doc.sentences:
        role = doc.role_of(s)
        if role in ("funding", "conflicts", "registration"):
            continue
        bonus = {"methods": 1.0, "results": 0.8, "background": -3.0, "conclusions": -1.0,
                 "objective": -0.5}.get(role or "", 0.0)
        t = s.text
        for m in _POOLED.finditer(t):
            add(m.group(3), 6 + bonus, s, m.group(0), m.group(2))
        for m in _PAREN.finditer(t):
            if not _EXCLUDE_BEFORE.search(t[max(0, m.start() - 60):m.start()]):
                add(m.group(1) or m.group(2), 5 + bonus, s, m.group(0), None)
        for m in _TOTAL.finditer(t):
            add(m.group(2), 5 + bonus, s, m.group(0), m.group(1))
        for m in _VERB_FIRST.finditer(t):
            if not _EXCLUDE_BEFORE.search(t[max(0, m.start() - 80):m.start()]):
                add(m.group(2), 4 + bonus, s, m.group(0), m.group(1))
        for noun in _NOUN_AT.finditer(t):
            window = t[max(0, noun.start() - 70):noun.start()]
            if not _MAYBE_NUMBER.search(window):
                continue
            nm = _NUM_BEFORE.search(t, max(0, noun.start() - 70), noun.start())
            if nm is None:
                continue
            before = t[max(0, nm.start() - 80):nm.start()]
            if _EXCLUDE_BEFORE.search(before) or _NOT_A_COUNT.search(before) or \
                    "hypothetical" in t[nm.start():noun.end()].lower():
                continue
            verb = _VERB_AFTER.match(t, noun.end())
            later = None if verb else _VERB_LATER.match(t, noun.end())
            score = 4.0 if verb else 3.5 if later else 2.0
            end = verb.end() if verb else later.end() if later else noun.end()
            if _SUBGROUP_AFTER.match(t[noun.end():]) and not verb:
                score -= 1.5
            if noun.group(0).lower() == "controls":
                score -= 1.0
            add(nm.group(2), score + bonus, s, t[nm.start():end], nm.group(1))
        for m in _NEQ.finditer(t):
            if _YEAR.match(m.group(2)):  # "n = 2019" with no noun is more likely a year
                continue
            add(m.group(2), (3.0 if m.group(1) == "N" else 1.5) + bonus, s, m.group(0), None)
    # RobotReviewer's features: the largest count, and one repeated, is likely the total.
    exact = [c for c in out if not c.approximate]
    if exact:
        largest = max(c.n for c in exact if c.score > 0) if any(c.score > 0 for c in exact) \
            else 0
        counts: dict[int, int] = {}
        for c in exact:
            counts[c.n] = counts.get(c.n, 0) + 1
        for c in exact:
            c.score += (0.5 if c.n == largest else 0) + (1.0 if counts[c.n] > 1 else 0)
    return out


def extract_sample_size(doc: Doc, design: str | None) -> dict[str, Fact]:
    cands = _candidates(doc)
    if design in ("narrative_review", "guideline", "animal_or_lab"):
        cands = [c for c in cands if c.score >= 5]
    if design in ("meta_analysis", "systematic_review"):
        cands = [c for c in cands if c.score >= 4]
    exact = [c for c in cands if not c.approximate]
    if exact:
        best = max(exact, key=lambda c: (c.score, c.n))
        # A bigger total given only roughly ("over 2310 participants") means the exact
        # numbers are parts of it: abstain.
        if any(c.approximate and c.n > best.n and c.score >= 3 for c in cands):
            return {}
        if best.score >= 3:
            # Two strong, different totals in one sentence: ambiguous; say nothing.
            rivals = [c for c in exact if c.score >= best.score and c.n > best.n
                      and c.sentence.index == best.sentence.index]
            if rivals:
                return {}
            conf = min(0.95, 0.5 + best.score / 12)
            return {"sample_size": doc.fact("sample_size", best.phrase, best.n, conf,
                                            best.sentence)}
    if design == "case_report" and not cands:
        s = next((x for x in doc.sentences if _SINGLE.search(x.text)), None)
        if s is not None:
            return {"sample_size": doc.fact("sample_size", "a single patient (case report)", 1,
                                            0.7, s)}
    return {}


_AGED = re.compile(rf"\baged\s+(?:between\s+)?({NUM})(?:{DASH}|\s+and\s+)({NUM})\s*"
                   rf"(years|yrs|y|months)\b", re.I)
_AGED_MIN = re.compile(rf"\baged\s+(?:≥|>=|>|over|at least)?\s*({NUM})\s*(years|yrs|y)"
                       rf"(?:\s+(?:or|and)\s+(?:older|over|above))?", re.I)
_MIN_ONLY = re.compile(rf"(?:≥|>=|at least|older than)\s*({NUM})\s*(years|yrs)\b(?: of age)?",
                       re.I)
_RANGE = re.compile(rf"\bage[sd]?\b[^.;]{{0,40}}?\brang(?:e|ed|ing)\b\s*(?:from|between|"
                    rf"was|of)?[,:=]?\s*({NUM})(?:{DASH}|\s+and\s+)({NUM})(?:\s*(years|yrs|y|"
                    rf"months))?", re.I)
_MEAN = re.compile(rf"\b(mean|median|average)\s*(?:\([^)]*\)\s*)?age\b[^.;\d]{{0,40}}?({NUM})"
                   rf"(?:\s*(?:±|\+/-)\s*({NUM}))?(?:\s*(years|yrs|y|months))?", re.I)
_MEAN2 = re.compile(rf"\bage\b[^.;\d]{{0,12}}(?:\(|,)?\s*(mean|median)[^.;\d]{{0,20}}?({NUM})"
                    rf"(?:\s*(?:±|\+/-)\s*({NUM}))?(?:\s*(years|yrs|y))?", re.I)
_OLD = re.compile(r"\b(\d{1,3})[- ](year|month|week|day)s?[- ]old\b", re.I)


def _unit(u: str | None) -> str:
    return "months" if u and u.lower().startswith("month") else "years"


def extract_age(doc: Doc, design: str | None) -> dict[str, Fact]:
    order = sorted(doc.sentences, key=lambda s: (doc.role_of(s) not in ("methods", "results",
                                                                          None), s.index))
    for s in order:
        if doc.role_of(s) in ("background", "funding", "conflicts"):
            continue
        t = s.text
        low = t.lower()
        if "age" not in low and "old" not in low and "year" not in low:
            continue
        norm: dict[str, Any] = {}
        phrases: list[str] = []
        m = _AGED.search(t) or _RANGE.search(t)
        if m and float(m.group(1)) < float(m.group(2)) <= 120:
            norm.update(min=to_num(m.group(1)), max=to_num(m.group(2)),
                        unit=_unit(m.group(3)))
            phrases.append(m.group(0))
        else:
            m = _AGED_MIN.search(t) or _MIN_ONLY.search(t)
            if m and float(m.group(1)) <= 120:
                norm.update(min=to_num(m.group(1)), unit=_unit(m.group(2)))
                phrases.append(m.group(0))
        m = _MEAN.search(t) or _MEAN2.search(t)
        if m and float(m.group(2)) <= 120:
            norm[m.group(1).lower()] = to_num(m.group(2))
            if m.group(3):
                norm["sd"] = to_num(m.group(3))
            norm.setdefault("unit", _unit(m.group(4)))
            phrases.append(m.group(0))
        if not norm and design == "case_report":
            m = _OLD.search(t)
            if m and m.group(2).lower() in ("year", "month") and doc.role_of(s) != "conclusions":
                v = int(m.group(1))
                norm = {"min": v, "max": v, "unit": _unit(m.group(2))}
                phrases.append(m.group(0))
        if norm:
            return {"age_range": doc.fact("age_range", "; ".join(phrases), norm, 0.75, s)}
    return {}


_F = r"(?:women|females?|female patients|girls)"
_M = r"(?:men|males?|male patients|boys)"
_PAIR_FM = re.compile(rf"\b({INT})\s+{_F}\s*(?:,|and|/)\s*({INT})\s+{_M}\b", re.I)
_PAIR_MF = re.compile(rf"\b({INT})\s+{_M}\s*(?:,|and|/)\s*({INT})\s+{_F}\b", re.I)
_PCT = re.compile(rf"\b({NUM})\s?%\s*(?:were\s+|was\s+|of\s+(?:the\s+)?(?:patients|participants|"
                  rf"respondents)\s+were\s+)?(female|women|girls|male|men|boys)\b", re.I)
_PCT2 = re.compile(rf"\b(female|women|male|men)(?:\s+sex)?\s*[,:(]?\s*(?:n\s*=\s*)?(?:{INT}\s*)?"
                   rf"\(?\s*({NUM})\s?%", re.I)
_RATIO = re.compile(rf"\b(?:male|M)\s*(?:[/:]|to)\s*(?:female|F)\s*(?:ratio)?\s*(?:of|was|=|:)?\s*"
                    rf"({NUM})\s*[:/]\s*({NUM})", re.I)
_OLD_SEX = re.compile(r"\b\d{1,3}[- ](?:year|month)s?[- ]old\s+(?:\w+\s+){0,2}?(man|woman|boy|"
                      r"girl|male|female|gentleman|lady)\b", re.I)
_FEMALE = ("female", "women", "woman", "girls", "girl", "lady")


_SEX_WORDS = ("female", "male", "women", "men", "girl", "boy", "m:f", "m/f", "lady")


def extract_sex(doc: Doc, design: str | None) -> dict[str, Fact]:
    for s in doc.sentences:
        if doc.role_of(s) in ("background", "funding", "conflicts"):
            continue
        t = s.text
        low = t.lower()
        if not any(w in low for w in _SEX_WORDS):
            continue
        m = _PAIR_FM.search(t)
        if m:
            f, mm = to_int(m.group(1)), to_int(m.group(2))
            return {"sex": doc.fact("sex", m.group(0), {"female": f, "male": mm}, 0.8, s)}
        m = _PAIR_MF.search(t)
        if m:
            mm, f = to_int(m.group(1)), to_int(m.group(2))
            return {"sex": doc.fact("sex", m.group(0), {"female": f, "male": mm}, 0.8, s)}
        m = _PCT.search(t) or _PCT2.search(t)
        if m:
            pct, word = (m.group(1), m.group(2)) if m.re is _PCT else (m.group(2), m.group(1))
            p = to_num(pct)
            if 0 <= p <= 100:
                key = "female_pct" if word.lower() in _FEMALE else "male_pct"
                return {"sex": doc.fact("sex", m.group(0), {key: p}, 0.7, s)}
        m = _RATIO.search(t)
        if m:
            return {"sex": doc.fact("sex", m.group(0), {"male_to_female": f"{m.group(1)}:"
                                                        f"{m.group(2)}"}, 0.7, s)}
        m = _OLD_SEX.search(t)
        if m and design == "case_report" and doc.role_of(s) != "conclusions":
            key = "female" if m.group(1).lower() in _FEMALE else "male"
            return {"sex": doc.fact("sex", m.group(0), {key: 1}, 0.7, s)}
    return {}
