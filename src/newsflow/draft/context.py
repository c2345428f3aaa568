"""Everything a template may say, computed from a paper's facts and metadata.

Values are plain strings, numbers, lists or None.  None means "not known": templates test
for it and drop the sentence or show an EDITOR note, and the renderer refuses to print it.
Numbers turned into words are logged in ``Derivations`` for the provenance check.

Fact shapes accepted (``Fact.normalized``):
  design: one of family.LABELS; evidence_level: 1–5 or "L2"; sample_size: int;
  age_range: {"min", "max", "mean"} or [min, max]; sex: {"male": n, "female": n} or
  "female"/"male"; harms: "none_reported" | "reported" | "not_mentioned";
  intervention: generic name.  Every other fact is used through its ``value`` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from newsflow.draft import family as fam
from newsflow.draft.citation import apa_reference, doi_url
from newsflow.draft.numbers import Derivations, share_words
from newsflow.draft.resources import Resources
from newsflow.models import Fact, Paper

_WORD_N = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "all": -1}
_COUNT = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_SUBJ = r"(?:\s+(?:patients?|participants?|people|subjects?|children|adults|cases))?"
_VERB = r"(achieved|reached|attained|had|showed|experienced|developed|responded|improved)"
_OUTCOME = r"([^,;.()]+?)(?=\s*(?:,|;|\.(?:\s|$)|$|\s+and\s+(?:\d|all|none)|\())"
_SHARE_PATTERNS = (
    re.compile(rf"\b{_COUNT}\s*/\s*{_COUNT}\s*(?:\([\d.]+\s*%\))?{_SUBJ}\s+{_VERB}\s*{_OUTCOME}",
               re.I),
    re.compile(rf"\b{_COUNT}\s+of\s+(?:the\s+)?{_COUNT}{_SUBJ}\s*(?:\([\d.]+\s*%\))?\s+{_VERB}"
               rf"\s*{_OUTCOME}", re.I),
    re.compile(rf"\b(all)\s+(?:the\s+)?{_COUNT}?{_SUBJ}\s+{_VERB}\s*{_OUTCOME}", re.I),
)
# "71 (78.9%) subjects had depression": the count is out of N when the percent agrees.
_COUNT_PCT = re.compile(rf"\b(\d+)\s*\((\d+(?:\.\d+)?)\s*%\){_SUBJ}\s+{_VERB}\s*{_OUTCOME}", re.I)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)[\s-]*(day|week|month|year)s?", re.I)
_MONTHS = {"day": 1 / 30.4, "week": 12 / 52.0, "month": 1.0, "year": 12.0}
_LABEL_PREFIX = re.compile(r"^[A-Z][A-Z &/-]{2,40}:\s+")
_STATS = re.compile(r"\b(?:RR|OR|HR|CI|P\s*[=<>]|p\s*[=<>])|\d+\s*%\s*CI", re.I)


@dataclass
class Share:
    count: int
    total: int
    verb: str
    outcome: str
    text: str  # "all 6 people achieved EASI-75"


def _count(tok: str | None, total: int | None) -> int | None:
    if tok is None:
        return total
    t = tok.lower()
    if t.isdigit():
        return int(t)
    v = _WORD_N.get(t)
    return total if v == -1 else v


def parse_shares(text: str, n: int | None, log: Derivations) -> list[Share]:
    """'6/6 (100%) achieved EASI-75 and 3/6 (50%) achieved EASI-90' → two Shares over n."""
    found: list[tuple[int, Share]] = []
    taken: list[tuple[int, int]] = []
    for pat in _SHARE_PATTERNS:
        for m in pat.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            g = m.groups()
            if g[0].lower() == "all":
                total = _count(g[1], n)
                count = total
                verb, outcome = g[2], g[3]
            else:
                count, total = _count(g[0], None), _count(g[1], None)
                verb, outcome = g[2], g[3]
            if count is None or total is None or total <= 0 or count > total:
                continue
            if n is not None and total != n:
                continue
            outcome = " ".join(outcome.split()[:10]).strip()
            if not outcome:
                continue
            share = share_words(count, total, log)
            noun = "people" if count != 1 else "person"
            lead = share if share.startswith(("all", "none")) else share
            sentence = f"{lead} {noun} {verb.lower()} {outcome}" if lead.startswith("all") \
                else f"{lead} {verb.lower()} {outcome}"
            found.append((m.start(), Share(count, total, verb.lower(), outcome, sentence)))
            taken.append((m.start(), m.end()))
    if n:
        for m in _COUNT_PCT.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            count, pct = int(m.group(1)), float(m.group(2))
            if count > n or abs(count * 100 / n - pct) > 0.15:
                continue
            outcome = " ".join(m.group(4).split()[:10]).strip()
            share = share_words(count, n, log)
            lead = f"{share} people" if share.startswith("all") else share
            found.append((m.start(), Share(count, n, m.group(3).lower(), outcome,
                                           f"{lead} {m.group(3).lower()} {outcome}")))
            taken.append((m.start(), m.end()))
    return [s for _, s in sorted(found, key=lambda x: x[0])]


def clean_sentence(text: str | None) -> str | None:
    if not text:
        return None
    text = _LABEL_PREFIX.sub("", " ".join(text.split())).strip()
    if not text:
        return None
    return text if text[-1] in ".!?" else text + "."


def duration_months(text: str | None) -> float | None:
    if not text:
        return None
    m = _DURATION.search(text)
    if not m:
        return None
    return float(m.group(1)) * _MONTHS[m.group(2).lower()]


def _fact(facts: dict[str, Fact], name: str) -> Fact | None:
    f = facts.get(name)
    if f is None or (not str(f.value).strip() and f.normalized in (None, "")):
        return None
    return f


def _text(facts: dict[str, Fact], name: str) -> str | None:
    f = _fact(facts, name)
    if f is None:
        return None
    v = " ".join(str(f.value).split()).strip().rstrip(".")
    return v or None


def _norm_str(facts: dict[str, Fact], name: str) -> str | None:
    f = _fact(facts, name)
    if f is None:
        return None
    v = f.normalized if isinstance(f.normalized, str) and f.normalized else f.value
    v = " ".join(str(v).split()).strip().rstrip(".")
    return v or None


def _int(facts: dict[str, Fact], name: str) -> int | None:
    f = _fact(facts, name)
    if f is None:
        return None
    v = f.normalized
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)) and v > 0 and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and v.replace(",", "").isdigit():
        return int(v.replace(",", ""))
    return None


def fmt_int(n: int) -> str:
    return f"{n:,}"


def _ages(facts: dict[str, Fact]) -> str | None:
    f = _fact(facts, "age_range")
    if f is None:
        return None
    v = f.normalized
    lo = hi = mean = median = None
    unit = ""
    if isinstance(v, dict):
        lo, hi, mean, median = v.get("min"), v.get("max"), v.get("mean"), v.get("median")
        if str(v.get("unit", "")).startswith("month"):
            unit = " months"
    elif isinstance(v, (list, tuple)) and len(v) == 2:
        lo, hi = v
    if lo is not None and hi is not None:
        if lo == hi:
            return f"The person was {_num(lo)}{unit or ' years'} old."
        return f"They were aged {_num(lo)} to {_num(hi)}{unit}."
    if mean is not None:
        return f"Their average age was {_num(mean)}{unit}."
    if median is not None:
        return f"Their median age was {_num(median)}{unit}."
    return None


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else str(v)


def _sex(facts: dict[str, Fact], n: int | None, log: Derivations) -> str | None:
    f = _fact(facts, "sex")
    if f is None:
        return None
    v = f.normalized
    if isinstance(v, dict):
        male, female = v.get("male"), v.get("female")
        if isinstance(male, int) and isinstance(female, int):
            if male == 0 or female == 0:
                who = "women and girls" if male == 0 else "men and boys"
                if n:
                    return f"{share_words(n, n, log).capitalize()} were {who}."
                return None
            return f"Of these, {male} were male and {female} were female."
        if isinstance(female, int):
            return f"{female} were female."
        if isinstance(male, int):
            return f"{male} were male."
    if isinstance(v, dict) and isinstance(v.get("female_pct"), (int, float)):
        return f"Of these, {_num(v['female_pct'])}% were female."
    if isinstance(v, dict) and isinstance(v.get("male_pct"), (int, float)):
        return f"Of these, {_num(v['male_pct'])}% were male."
    if isinstance(v, str) and v.lower() in ("female", "women"):
        return "The people in the study were women."
    if isinstance(v, str) and v.lower() in ("male", "men"):
        return "The people in the study were men."
    return None


def _first_sentences(text: str, keep: re.Pattern[str], limit: int = 2) -> str | None:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    chosen = [p for p in parts if keep.search(p)][:limit]
    return " ".join(chosen) if chosen else None


_HARMS_WORDS = re.compile(r"adverse|side[- ]effect|safety|tolerab|toxicit|harm", re.I)
_COI_WORDS = re.compile(r"interest|conflict|competing|disclos|declare", re.I)


def build_context(paper: Paper, facts: dict[str, Fact], res: Resources,
                  log: Derivations) -> dict[str, Any]:
    design = _norm_str(facts, "design")
    design = design if design in fam.LABELS else "other"
    family = fam.family_for(design)
    level_fact = _fact(facts, "evidence_level")
    ladder = fam.ladder_for(design, level_fact.normalized if level_fact else None)
    n = _int(facts, "sample_size")
    human = not (design == "animal_or_lab" or (paper.relevance is not None
                                               and paper.relevance.population == "animal_or_lab"))
    label = fam.LABELS[design]
    letter = any(pt.lower() in ("letter", "comment") for pt in paper.publication_types)

    # Condition: the plain name for headlines, the paper's own phrase for the body.
    condition = _norm_str(facts, "condition")
    condition_body = condition
    raw_condition = _text(facts, "condition")
    if raw_condition and len(raw_condition) <= 60:
        condition_body = raw_condition
    condition_lay = (res.lay_name(condition) or condition) if condition else None

    # Treatment: generic name always, brand in brackets when drugs.toml knows it.
    generic = _norm_str(facts, "intervention")
    drug = res.drug(generic)
    treatment = generic
    treatment_first = generic
    if drug is not None:
        treatment = drug.generic
        treatment_first = f"{drug.generic} ({drug.brands[0]})" if drug.brands else drug.generic

    # The number of people, in words a reader can picture.
    n_text = None
    if design == "case_report" and (n is None or n == 1):
        n_text = "a single person"
    elif n is not None:
        unit = "people" if human else "samples"
        n_text = f"{fmt_int(n)} {unit}" if n != 1 else "a single person"

    results_text = " ".join(filter(None, [
        clean_sentence(facts["results"].sentence) if _fact(facts, "results") else None])) or ""
    shares = parse_shares(results_text, n, log) if results_text and human else []

    duration = _text(facts, "duration")
    months = duration_months(duration)
    comparator = _text(facts, "comparator")
    harms_fact = _fact(facts, "harms")
    if harms_fact is not None:
        harms_kind = str(harms_fact.normalized)
        if harms_kind not in ("none_reported", "reported", "not_mentioned"):
            harms_kind = "reported"
    elif _HARMS_WORDS.search(paper.abstract):
        # The abstract talks about harms but no fact captured them: an editor must.
        harms_kind = "unclear"
    elif generic is None and design in ("cross_sectional", "cohort", "case_control"):
        harms_kind = "no_treatment"
    else:
        harms_kind = "not_mentioned"
    harms_quote = clean_sentence(harms_fact.sentence) if harms_fact and \
        harms_kind == "reported" else None

    results_quote = None
    if not shares and _fact(facts, "results"):
        results_quote = clean_sentence(facts["results"].sentence)
    conclusion_quote = clean_sentence(facts["conclusion"].sentence) \
        if _fact(facts, "conclusion") else None
    if conclusion_quote and conclusion_quote == results_quote:
        conclusion_quote = None
    # We do not reprint hype, even in the authors' words; the editor restates the point.
    hype_quoted: list[str] = []
    if res.hype is not None:
        def clean(q: str | None) -> str | None:
            if q and hype_in(q, res):
                hype_quoted.extend(hype_in(q, res))
                return None
            return q
        results_quote, conclusion_quote, harms_quote = \
            clean(results_quote), clean(conclusion_quote), clean(harms_quote)

    limitations = _limitations(design, n, n_text, human, letter, comparator, duration, months,
                               family, generic is not None)

    conflicts = None
    conflicts_fact = _fact(facts, "conflicts")
    if conflicts_fact:
        text = conflicts_fact.sentence or str(conflicts_fact.value)
        conflicts = clean_sentence(_first_sentences(text, _COI_WORDS) or text)
    elif paper.coi_statement:
        conflicts = clean_sentence(_first_sentences(paper.coi_statement, _COI_WORDS))
    funding_fact = _fact(facts, "funding")
    funding = clean_sentence(funding_fact.sentence or str(funding_fact.value)) \
        if funding_fact else None

    has_treatment = treatment is not None
    ctx: dict[str, Any] = {
        "family": family,
        "design": design,
        "design_label": label,
        "design_label_a": ("an " if label[0] in "aeiou" else "a ") + label,
        "level": ladder.level,
        "strength": ladder.strength,
        "verb": ladder.verb,
        "human": human,
        "letter": letter,
        "observational": design in fam.OBSERVATIONAL,
        "n": n,
        "n_text": n_text,
        "condition": condition_body,
        "condition_lay": condition_lay,
        "treatment": treatment,
        "treatment_first": treatment_first,
        "has_treatment": has_treatment,
        "drug_known": drug is not None,
        # "What are titanium dioxide nanoparticles?" but "What is psoriasis?"
        "what_verb": "are" if treatment and re.search(r"[^siu]s$", treatment) else "is",
        "drug_plain": _noun_phrase(drug.plain) if drug and drug.plain else None,
        "drug_about": drug.plain.strip() if drug and drug.plain and
        not _noun_phrase(drug.plain) else None,
        "drug_class": _class_a(drug.drug_class) if drug and drug.drug_class else None,
        # Curated reference text the draft may quote numbers from ("IL-13", "JAK1").
        "reference_texts": [t for t in (drug.plain, drug.drug_class) if t] if drug else [],
        "dose": _text(facts, "dose"),
        # "0.625 mg of conjugated estrogen daily": the dose already names what was given.
        "dose_is_full": bool(_text(facts, "dose")) and " of " in (_text(facts, "dose") or ""),
        "frequency": _text(facts, "frequency"),
        "route": _route(_norm_str(facts, "route") or (drug.route if drug else None)),
        "duration": duration,
        "comparator": comparator,
        "ages": _ages(facts),
        "sex": _sex(facts, n, log),
        "shares": [s.text for s in shares],
        "results_quote": results_quote,
        "conclusion_quote": conclusion_quote,
        "harms_kind": harms_kind if harms_kind != "reported" or harms_quote else "unclear",
        "hype_quoted": sorted(set(w.lower() for w in hype_quoted)),
        "harms_quote": harms_quote,
        "limitations": limitations,
        "conflicts": conflicts,
        "funding": funding,
        "citation": apa_reference(paper),
        "doi_url": doi_url(paper.doi),
        "pmid": paper.pmid,
        "journal": paper.journal,
    }
    ctx["headline"] = _headline(ctx)
    return ctx


def hype_in(text: str, res: Resources) -> list[str]:
    if res.hype is None:
        return []
    if res.hype_allow is not None:
        text = res.hype_allow.sub(" ", text)
    return [m.group(0) for m in res.hype.finditer(text)]


def _noun_phrase(text: str) -> str | None:
    """'A daily pill that …' → 'a daily pill that …' (to follow 'X is'); else None."""
    t = " ".join(text.split()).rstrip(".")
    if re.match(r"^(A|An|The)\s", t):
        return t[0].lower() + t[1:]
    if re.match(r"^(a|an|the)\s", t):
        return t
    return None


def _class_a(drug_class: str) -> str | None:
    """'JAK inhibitor (JAK1)' → 'a JAK inhibitor'; 'biologic: TNF blocker' → 'a biologic'."""
    head = re.split(r"[:,(]", drug_class)[0].strip()
    if not head:
        return None
    return ("an " if head[0].lower() in "aeiou" else "a ") + head


def _route(route: str | None) -> str | None:
    if not route:
        return None
    r = route.lower()
    return {"oral": "by mouth", "topical": "on the skin", "subcutaneous": "as an injection "
            "under the skin", "intravenous": "into a vein", "injection": "as an injection"
            }.get(r)


def _limitations(design: str, n: int | None, n_text: str | None, human: bool, letter: bool,
                 comparator: str | None, duration: str | None, months: float | None,
                 family: str, has_treatment: bool) -> list[str]:
    out: list[str] = []
    if not human:
        out.append("It was done in the lab, not in people. Results in the lab often do not "
                   "carry over to people.")
    if design == "case_report":
        out.append("It describes a single person, so we cannot know whether others would "
                   "respond the same way.")
    elif n is not None and n < 30 and human:
        out.append(f"It was small: only {n_text} took part, so chance alone could explain "
                   "some of the results.")
    if design in fam.NO_CONTROL or (family in ("randomised_trial", "trial_or_observational")
                                    and design not in ("cohort", "case_control")
                                    and comparator is None and design != "rct"):
        out.append("There was no comparison group, so we cannot tell how much people would "
                   "have changed without the treatment." if has_treatment else
                   "There was no comparison group, so we cannot tell how these people differ "
                   "from others.")
    if design in ("cohort", "case_control", "controlled_trial"):
        out.append("People were not put into groups by chance, so the groups may have "
                   "differed in other ways that affected the results.")
    if design in fam.OBSERVATIONAL and design not in ("case_series", "case_report"):
        out.append("A study like this can find links, but it cannot tell us what is behind "
                   "them.")
    if letter:
        out.append("It was published as a short letter, which gives fewer details than a "
                   "full paper.")
    if months is not None and months < 6 and duration and has_treatment:
        out.append(f"It lasted only {duration}, which is too short to show long-term effects.")
    if family == "systematic_review":
        out.append("A review is only as good as the studies it includes.")
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _headline(c: dict[str, Any]) -> str:
    cond, treat, n_text = c["condition_lay"], c["treatment"], c["n_text"]
    # "X for Y" only when X is a known medicine; a trial of hormone therapy in lupus is
    # about "X and Y" (it tested harm, not a treatment for lupus).
    link = "for" if c["drug_known"] else "and"
    fam_ = c["family"]
    if fam_ == "lab_study":
        subject = treat or cond or "a new question"
        return f"In the lab: what a study found about {subject}"
    if fam_ == "systematic_review":
        if treat and cond:
            return _cap(f"{treat} {link} {cond}: what a review of the research found")
        if treat or cond:
            return _cap(f"{treat or cond}: what a review of the research found")
        return "What a review of the research found"
    if fam_ == "guideline_other":
        if treat or cond:
            return _cap(f"{treat or cond}: what a {c['design_label']} says")
        return _cap(f"What a {c['design_label']} says")
    who = f" in {n_text}" if n_text and fam_ != "case_series" else ""
    if fam_ == "case_series":
        who = f" from {n_text}" if n_text else ""
        if treat and cond:
            return _cap(f"{treat} {link} {cond}: early results{who}")
        if treat or cond:
            return _cap(f"{cond or treat}: an early report{who}")
        return f"An early report{who}"
    if treat and cond:
        return _cap(f"{treat} {link} {cond}: what a {c['design_label']}{who} found")
    if treat or cond:
        return _cap(f"{cond or treat}: what a {c['design_label']}{who} found")
    return _cap(f"What a {c['design_label']}{who} found")
