"""What was found: main results with their numbers, harms, conclusion, funding, conflicts."""

from __future__ import annotations

import re
from typing import Any

from newsflow.extract.doc import Doc
from newsflow.extract.sentences import Sentence
from newsflow.models import Fact

_MEASURE = re.compile(r"\b(EASI|PASI|SCORAD|IGA|vIGA|PGA|sPGA|DLQI|CDLQI|NRS|VAS|SALT|"
                      r"HiSCR|IHS4|UAS7|F-?VASI|T-?VASI|BSA|POEM|HECSI|mNAPSI|NAPSI|MASI|"
                      r"ACR|DAS28|HbA1c|BMI)(?:[- ]?\d{2,3})?\b")
_P = re.compile(r"\b[Pp]\s*(?:value\s*)?(?:[<>=≤≥]|&lt;|&gt;)\s*0?[.·]\d+|"
                r"\b[Pp]\s*(?:[<>=≤≥])\s*\d(?:\.\d+)?\s*[x×]\s*10[-−]?\d+")
_PCT = re.compile(r"\b\d+(?:\.\d+)?\s?%")
_FRACTION = re.compile(r"\b(\d+)\s*/\s*(\d+)\b(?!\s*(?:mg|g|kg|ml|mL|µL))")
_CI = re.compile(r"\b(9[05]%\s*(?:CI|confidence interval)|[OHR]R|odds ratio|hazard ratio|"
                 r"relative risk|risk ratio|mean difference|MD|SMD)\b")
_OUTCOME_WORDS = re.compile(r"\b(improv\w*|reduc\w*|decreas\w*|increas\w*|respon\w*|achiev\w*|"
                            r"clear\w*|remission|resolution|resolved|superior|significant\w*|"
                            r"efficac\w*|effective|associated|higher|lower|risk)\b", re.I)


def _numbers(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not any(c.isdigit() for c in text):
        return out
    measures = sorted({m.group(0) for m in _MEASURE.finditer(text)})
    if measures:
        out["measures"] = measures
    pct = [m.group(0).replace(" ", "") for m in _PCT.finditer(text)]
    if pct:
        out["percentages"] = pct
    fr = [f"{a}/{b}" for a, b in _FRACTION.findall(text) if int(b) > 0 and int(a) <= int(b)]
    if fr:
        out["fractions"] = fr
    pv = [m.group(0) for m in _P.finditer(text)]
    if pv:
        out["p_values"] = pv
    if _CI.search(text):
        out["has_effect_estimate"] = True
    return out


def _result_score(doc: Doc, s: Sentence) -> float:
    t = s.text
    role = doc.role_of(s)
    if role in ("background", "objective", "funding", "conflicts", "registration"):
        return 0.0
    nums = _numbers(t)
    score = 0.0
    score += 2.0 * bool(nums.get("measures"))
    score += 1.5 * bool(nums.get("percentages") or nums.get("fractions"))
    score += 1.0 * bool(nums.get("p_values") or nums.get("has_effect_estimate"))
    score += 1.0 * bool(_OUTCOME_WORDS.search(t))
    if role == "results":
        score += 1.0
    if role == "methods" or re.search(r"\b(primary (end ?point|outcome) was|were assessed|"
                                      r"was assessed|were measured|randomly assigned|were "
                                      r"(randomi[sz]ed|enrolled|included)|we (recruited|"
                                      r"enrolled))\b", t, re.I):
        score -= 2.0
    if not (nums.get("percentages") or nums.get("fractions") or nums.get("p_values")
            or nums.get("has_effect_estimate") or re.search(r"\d", t)):
        score -= 2.0
    return score


def extract_results(doc: Doc) -> dict[str, Fact]:
    scored = [(_result_score(doc, s), s) for s in doc.sentences]
    scored = [x for x in scored if x[0] >= 3.0]
    if not scored:
        return {}
    best = max(scored, key=lambda x: (x[0], -x[1].index))[1]
    return {"results": doc.fact("results", best.text, _numbers(best.text), 0.6, best)}


_AE = (r"(adverse (drug )?(events?|effects?|reactions?)|side[- ]effects?|AEs|TEAEs|SAEs|"
       r"toxicit(y|ies)|complications?)")
_NONE = re.compile(rf"\b(no|without|nor|neither|none of the \w+ (had|experienced|reported))\s+"
                   rf"(any\s+)?(serious\s+|significant\s+|major\s+|severe\s+|systemic\s+|"
                   rf"notable\s+|drug-related\s+|treatment-related\s+)?(\w+\s+)?{_AE}"
                   rf"|\b{_AE}\s+(were|was)\s+(not\s+(observed|reported|seen|noted)|absent)"
                   rf"|\bno\s+(patients?|participants?)\s+(had|experienced|reported)\s+(any\s+)?"
                   rf"(\w+\s+)?{_AE}", re.I)
_REPORTED = re.compile(rf"\b(most common|most frequent(ly reported)?|common(ly reported)?)\s+"
                       rf"(\w+\s+){{0,3}}?{_AE}|{_AE}\s+(\w+\s+){{0,4}}?(were|was|included|"
                       rf"occurred|included|reported|observed|comprised|consisted)\b|"
                       rf"\b(incidence|rate|rates|frequency)\s+of\s+(\w+\s+)?{_AE}|"
                       rf"\b(conjunctivitis|nasopharyngitis|injection[- ]site reactions?|"
                       rf"herpes zoster|acne|headache|nausea|infections?|erythema|burning|"
                       rf"stinging|pruritus|irritation|hepatotoxicity)\b[^.;]{{0,60}}"
                       rf"(\d+(\.\d+)?\s?%|\d+\s*/\s*\d+|\(\d+|\bin \d+ (patients|participants))|"
                       rf"\b(because of|due to|owing to) (\w+ )?{_AE}|"
                       rf"{_AE}[^.;]{{0,60}}(\d+(\.\d+)?\s?%|\bin \d+ (patients|participants))",
                       re.I)
_ANY_AE = re.compile(rf"\b{_AE}|\bsafety\b|\btolera(ted|bility)\b", re.I)


_AE_KEYS = ("adverse", "side effect", "side-effect", "aes", "toxicit", "complication",
            "conjunctivitis", "nasopharyngitis", "injection", "zoster", "acne", "headache",
            "nausea", "infection", "erythema", "burning", "stinging", "prurit", "irritation",
            "hepatotox")


def extract_harms(doc: Doc, has_intervention: bool) -> dict[str, Fact]:
    none_s = reported_s = None
    for s in doc.sentences:
        if doc.role_of(s) in ("background", "objective"):
            continue
        low = s.text.lower()
        if not any(k in low for k in _AE_KEYS):
            continue
        if none_s is None and _NONE.search(s.text):
            none_s = s
        if reported_s is None and _REPORTED.search(s.text) and not (
                none_s is s and not re.search(r"\b(but|however|although|while|whereas)\b|"
                                              r"\d+(\.\d+)?\s?%", s.text, re.I)):
            reported_s = s
    if reported_s is not None:
        # The whole sentence says what the harms were; a phrase would lose that.
        value = reported_s.text
        return {"harms": doc.fact("harms", value, "reported", 0.7, reported_s)}
    if none_s is not None:
        m = _NONE.search(none_s.text)
        value = m.group(0) if m else none_s.text
        return {"harms": doc.fact("harms", value, "none_reported", 0.75, none_s)}
    if has_intervention and doc.sentences and not any(_ANY_AE.search(s.text)
                                                     for s in doc.sentences):
        return {"harms": doc.fact("harms", "no harms or side effects mentioned in the abstract",
                                  "not_mentioned", 0.6, None)}
    return {}


_CONCL = re.compile(r"^(in conclusion|to conclude|in summary|overall|taken together|"
                    r"collectively|these (results|findings|data|observations) (suggest|"
                    r"indicate|show|demonstrate|support|highlight)|our (results|findings|data|"
                    r"study|observations)|this (study|case|report|review|trial) (suggests|"
                    r"shows|demonstrates|highlights|indicates|supports)|we conclude)", re.I)


def extract_conclusion(doc: Doc) -> dict[str, Fact]:
    concl = [s for s in doc.sentences if doc.role_of(s) == "conclusions" and s.role]
    if concl:
        return {"conclusion": doc.fact("conclusion", concl[0].text, None, 0.85, concl[0])}
    for s in reversed(doc.sentences):
        if _CONCL.search(s.text):
            return {"conclusion": doc.fact("conclusion", s.text, None, 0.7, s)}
    if not doc.structured and len(doc.sentences) >= 4:
        last = doc.sentences[-1]
        if doc.role_of(last) == "conclusions":
            return {"conclusion": doc.fact("conclusion", last.text, None, 0.5, last)}
    return {}


_FUND = re.compile(r"\b(funded by|supported (in part )?by (a |an |the )?(grants?|funding|"
                   r"\w+ (foundation|council|institute|agency))|sponsored by|financial "
                   r"support (from|was)|grant (no\.?|number|from)|funding (was )?"
                   r"(provided|received))", re.I)
_COI = re.compile(r"\b(conflicts? of interest|competing interests?|disclosures?|"
                  r"declare(s|d)? (no|that))\b", re.I)


def extract_funding(doc: Doc) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    for s in doc.sentences:
        if "funding" not in out and (doc.role_of(s) == "funding" or _FUND.search(s.text)):
            out["funding"] = doc.fact("funding", s.text, None, 0.8, s)
        if "conflicts" not in out and (doc.role_of(s) == "conflicts" or _COI.search(s.text)):
            out["conflicts"] = doc.fact("conflicts", s.text, _coi_norm(s.text), 0.8, s)
    paper = doc.paper
    if "funding" not in out and paper.grants:
        grants = "; ".join(paper.grants[:5])
        out["funding"] = doc.fact("funding", f"grants listed in the record: {grants}",
                                  list(paper.grants), 0.9, None)
    if "conflicts" not in out and paper.coi_statement:
        out["conflicts"] = doc.fact("conflicts", paper.coi_statement.strip(),
                                    _coi_norm(paper.coi_statement), 0.9, None)
    return out


def _coi_norm(text: str) -> str:
    if re.search(r"\b(no|none|nothing to|not have any|declare(s|d)? no)\b[^.]{0,40}"
                 r"(conflicts?|competing|interests?|disclos)|^\s*none\.?\s*$", text, re.I):
        return "none_declared"
    return "declared"
