"""What was given: intervention (generic name), dose, frequency, route, comparator, duration."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from newsflow.extract.doc import Doc
from newsflow.extract.numbers import INT, NUM, to_int, to_num
from newsflow.extract.rx import gated
from newsflow.extract.sentences import Sentence
from newsflow.models import Fact

# A drug named right after these is history or background, not what the study gave.
_PRIOR = re.compile(r"(after|prior|previous(ly)?|failed|failure (of|to)|inadequate(ly)? "
                    r"(response|responders?|controlled) (to|with|on)|refractory to|resistant to|"
                    r"switch(ed|ing)? from|intoleran(t|ce) (of|to)|history of|non-?responders? "
                    r"to|despite|unresponsive to|discontinu\w+|persist\w* (on|during|with))\W+(\w+\W+){0,5}$",
                    re.I)
_COMPARE = re.compile(r"(versus|vs\.?|compared (with|to)|comparison (with|to)|than|or with|"
                      r"relative to|comparator|control(led)? (arm|group)?)\W+(\w+\W+){0,2}$",
                      re.I)
_GIVEN = re.compile(r"(treated with|treatment with|received|receiving|given|administered|"
                    r"initiated|started|therapy with|switched to|switching to|added|"
                    r"use of|efficacy of|safety of|effect of|"
                    r"effectiveness of|response to)\W+(\w+\W+){0,2}$", re.I)


def _role_weight(doc: Doc, s: Sentence) -> float:
    return {"methods": 1.5, "objective": 1.5, "results": 1.0, "conclusions": 1.0,
            "background": 0.2, "funding": 0.0, "conflicts": 0.0,
            "registration": 0.0}.get(doc.role_of(s) or "", 1.0)


_REVIEWS = ("systematic_review", "meta_analysis", "narrative_review", "guideline",
            "animal_or_lab")
# "5-fluorouracil-induced apoptosis": the drug is an exposure, not what was studied.
_EXPOSURE_AFTER = re.compile(r"^-?(induced|associated|related|resistant|exposed)\b", re.I)


def extract_treatment(doc: Doc, design: str | None = None) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    scores: dict[str, float] = defaultdict(float)
    first: dict[str, tuple[Sentence, str]] = {}
    comparators: dict[str, tuple[Sentence, str]] = {}
    title = doc.paper.title or ""
    title_hits = doc.drugs.find_all(title)
    for i, m in enumerate(title_hits):
        before = title[max(0, m.start - 80):m.start]
        if _PRIOR.search(before):
            scores[m.payload.generic] -= 1
        elif _COMPARE.search(before):
            scores[m.payload.generic] += 0.5
        else:  # the drug a title names first is nearly always the one studied
            scores[m.payload.generic] += 4 if i == 0 else 1.5
    for s, m in doc.drug_hits:
        g = m.payload.generic
        before = s.text[max(0, m.start - 80):m.start]
        w = _role_weight(doc, s)
        if _PRIOR.search(before) or _EXPOSURE_AFTER.match(s.text[m.end:]):
            scores[g] -= 0.5 * w
            continue
        if _COMPARE.search(before):
            comparators.setdefault(g, (s, m.surface))
            scores[g] += 0.2 * w
            continue
        scores[g] += w * (2.0 if _GIVEN.search(before) else 1.0)
        first.setdefault(g, (s, m.surface))
    ranked = sorted((g for g in scores if g in first), key=lambda g: -scores[g])
    # One plain mention is enough when it is the only drug named (a case report's
    # "treated with an oral terbinafine tablet"); with several, the winner must stand out.
    if not ranked or scores[ranked[0]] < (1.0 if len(scores) == 1 else 1.5):
        return _comparator(doc, out, comparators, None)
    top = ranked[0]
    # Reviews list many drugs and lab studies use them as reagents: only a drug the
    # title names is what such a paper is about.
    if design in _REVIEWS and not any(m.payload.generic == top for m in title_hits):
        return _comparator(doc, out, comparators, None)
    # Many drugs, none singled out (a review of a drug class): no single intervention.
    if len(ranked) >= 3 and not title_hits and scores[ranked[1]] >= 0.7 * scores[top]:
        return _comparator(doc, out, comparators, None)
    s, surface = first[top]
    conf = 0.9 if any(m.payload.generic == top for m in title_hits) else 0.7
    value = surface if surface.lower() == top else f"{surface} ({top})"
    out["intervention"] = doc.fact("intervention", value, top, conf, s)
    _dose_frequency_route(doc, top, out)
    return _comparator(doc, out, comparators, top)


_UNIT = r"(?:mg/kg|mg/m2|mg/m²|mg|µg|μg|mcg|g|IU|units?|U|mL|ml|%)"
_DOSE = re.compile(rf"(?<![\w.])({NUM})\s?({_UNIT})(?![\w/])(?:\s*(?:or|and|,|/)\s*({NUM})\s?"
                   rf"({_UNIT})(?![\w/]))?", re.I)
_FREQ = (
    (re.compile(r"\bonce[- ]daily\b|\bonce a day\b|\bdaily\b|\bq\.?d\.?\b|\bevery day\b|"
                r"\bonce per day\b", re.I), "once daily"),
    (re.compile(r"\btwice[- ]daily\b|\btwice a day\b|\bb\.?i\.?d\.?\b|\btwice per day\b",
                re.I), "twice daily"),
    (re.compile(r"\bthree times (a|per) day\b|\bt\.?i\.?d\.?\b", re.I), "three times daily"),
    (re.compile(r"\bevery other week\b|\bq2w\b|\bevery 2 weeks\b|\bevery two weeks\b|"
                r"\bbiweekly\b|\bfortnightly\b", re.I), "every 2 weeks"),
    (re.compile(r"\bevery 4 weeks\b|\bevery four weeks\b|\bq4w\b|\bmonthly\b", re.I),
     "every 4 weeks"),
    (re.compile(r"\bevery (8|eight) weeks\b|\bq8w\b", re.I), "every 8 weeks"),
    (re.compile(r"\bevery (12|twelve) weeks\b|\bq12w\b", re.I), "every 12 weeks"),
    (re.compile(r"\bonce[- ]weekly\b|\bonce a week\b|\bweekly\b|\bqw\b|\bevery week\b", re.I),
     "once weekly"),
)
_ROUTE = (
    (re.compile(r"\bsubcutaneous(ly)?\b|\bs\.?c\.? injection|\bsubcutaneous injection", re.I),
     "subcutaneous"),
    (re.compile(r"\bintravenous(ly)?\b|\bi\.v\.|\binfusions?\b", re.I), "intravenous"),
    (re.compile(r"\bintramuscular(ly)?\b", re.I), "intramuscular"),
    (re.compile(r"\bintralesional(ly)?\b", re.I), "intralesional"),
    (re.compile(r"\bintradermal(ly)?\b", re.I), "intradermal"),
    (re.compile(r"\btopical(ly)?\b|\bcream\b|\bointment\b|\bgel\b|\bfoam\b|\blotion\b|"
                r"\bshampoo\b", re.I), "topical"),
    (re.compile(r"\boral(ly)?\b|\btablets?\b|\bcapsules?\b|\bby mouth\b", re.I), "oral"),
)


def _drug_sentences(doc: Doc, generic: str) -> list[Sentence]:
    seen: list[Sentence] = []
    for s, m in doc.drug_hits:
        if m.payload.generic == generic and s not in seen:
            seen.append(s)
    return seen


def _dose_frequency_route(doc: Doc, generic: str, out: dict[str, Fact]) -> None:
    for s in _drug_sentences(doc, generic):
        t = s.text
        pos = next(m.end for m in doc.drugs.find_all(t) if m.payload.generic == generic)
        if "dose" not in out:
            # The dose printed nearest after the drug name, within the same clause.
            for m in _DOSE.finditer(t):
                if m.start() < pos - 40 or m.start() - pos > 60 or m.group(2) == "%" and \
                        not re.search(r"cream|ointment|gel|foam|solution|lotion", t, re.I):
                    continue
                if re.match(r"\s*(of|in)\s+(patients|participants|the)", t[m.end():]):
                    continue
                norm: list[dict[str, Any]] = [{"amount": to_num(m.group(1)),
                                               "unit": m.group(2)}]
                if m.group(3):
                    norm.append({"amount": to_num(m.group(3)), "unit": m.group(4)})
                out["dose"] = doc.fact("dose", m.group(0), norm, 0.75, s)
                break
        if "frequency" not in out:
            for rx, name in _FREQ:
                fm = rx.search(t)
                if fm:
                    out["frequency"] = doc.fact("frequency", fm.group(0), name, 0.7, s)
                    break
        if "route" not in out:
            for rx, name in _ROUTE:
                rm = rx.search(t)
                if rm:
                    out["route"] = doc.fact("route", rm.group(0), name, 0.7, s)
                    break


_CTRL = re.compile(r"\b(placebo|vehicle|sham|standard (of )?care|usual care|no treatment|"
                   r"untreated controls?|active comparator)\b", re.I)


def _comparator(doc: Doc, out: dict[str, Fact], comparators: dict[str, tuple[Sentence, str]],
                top: str | None) -> dict[str, Fact]:
    for s in doc.sentences:
        if doc.role_of(s) in ("background", "funding", "conflicts"):
            continue
        m = _CTRL.search(s.text)
        if m:
            norm = m.group(1).lower()
            norm = {"standard of care": "standard care", "untreated control": "no treatment",
                    "untreated controls": "no treatment"}.get(norm, norm)
            out["comparator"] = doc.fact("comparator", m.group(0), norm, 0.75, s)
            return out
    for g, (s, surface) in comparators.items():
        if g != top and top is not None:
            out["comparator"] = doc.fact("comparator", surface, g, 0.6, s)
            return out
    return out


_DUR_UNITS = r"(days?|weeks?|wk|months?|mo|years?)"
_DUR_KEYS = ("day", "week", "wk", "month", "mo", "year")
_FOR = gated(rf"\b(for|over|during|after|through)\s+(?:a\s+(?:period\s+of\s+)?|up\s+to\s+)?"
             rf"({INT})\s+{_DUR_UNITS}\b", *_DUR_KEYS)
_ADJ = gated(rf"\b({INT})[- ](day|week|wk|month|mo|year)s?[- ]?(?:long\s+)?(?:treatment|therapy|"
                  rf"course|trial|study|period|phase|regimen|intervention|programme|program|"
                  rf"follow-up|double-blind|open-label|randomi[sz]ed|placebo|extension|"
                  rf"maintenance|induction)", *_DUR_KEYS)
_AT_WEEK = gated(r"\b(?:at|by|through|until|to)\s+(week|month)\s+(\d+)\b", "week", "month")
_FOLLOW = gated(rf"\bfollow(?:ed)?[- ]?up\b[^.;]{{0,40}}?({INT}|{NUM})\s+{_DUR_UNITS}\b",
                "follow")


_TREATED = re.compile(r"\b(treat\w*|therap\w*|received|receiving|applied|given|administered|"
                      r"dose[sd]?|dosing|took|taking|taken|injections?|tablets?|cream|ointment)\b",
                      re.I)
_NOT_TREATMENT = re.compile(r"\b(disease|history|duration of|lasting|symptoms)\b", re.I)


def _unit_norm(u: str) -> str:
    u = u.lower()
    return {"wk": "week", "mo": "month"}.get(u, u.rstrip("s"))


def extract_duration(doc: Doc) -> dict[str, Fact]:
    best: tuple[int, Fact] | None = None
    for s in doc.sentences:
        role = doc.role_of(s)
        if role in ("background", "funding", "conflicts", "registration"):
            continue
        t = s.text
        found: list[tuple[int, str, dict[str, Any]]] = []
        m = _ADJ.search(t)
        if m:
            kind = "follow_up" if "follow" in m.group(0).lower() else "treatment"
            found.append((3, m.group(0), {"amount": to_int(m.group(1)),
                                          "unit": _unit_norm(m.group(2)), "kind": kind}))
        m = _FOLLOW.search(t)
        if m:
            n = to_int(m.group(1))
            amount: int | float | None = n if n is not None else to_num(m.group(1))
            found.append((2, m.group(0), {"amount": amount, "unit": _unit_norm(m.group(2)),
                                          "kind": "follow_up"}))
        m = _FOR.search(t)
        if m and not _NOT_TREATMENT.search(t[max(0, m.start() - 30):m.start()]):
            kind = "endpoint" if m.group(1).lower() == "after" else \
                "treatment" if _TREATED.search(t) else "study_period"
            found.append((2 if kind != "endpoint" else 1, m.group(0),
                          {"amount": to_int(m.group(2)), "unit": _unit_norm(m.group(3)),
                           "kind": kind}))
        m = _AT_WEEK.search(t)
        if m:
            found.append((1, m.group(0), {"amount": int(m.group(2)),
                                          "unit": m.group(1).lower(), "kind": "endpoint"}))
        for rank, value, norm in found:
            if norm["amount"] is None:
                continue
            r = rank + (1 if role == "methods" else 0)
            if best is None or r > best[0]:
                best = (r, doc.fact("duration", value, norm, 0.6 + 0.08 * rank, s))
    return {"duration": best[1]} if best else {}
