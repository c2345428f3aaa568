"""The automatic quality checks stored on every draft version (see issue #4 and
shared/notes/quality.md).  Each returns a ``Check``; ``blocking`` failures stop approval.
"""

from __future__ import annotations

import re
from typing import Any

from newsflow.draft import family as fam
from newsflow.draft.context import hype_in
from newsflow.draft.glossary import SOURCE_HEADING, unexplained_acronyms
from newsflow.draft.numbers import Derivations, check_provenance
from newsflow.draft.readability import score_body
from newsflow.draft.resources import Resources
from newsflow.models import Check

SLOT_NAMES = ("cost", "availability", "alternatives", "conflicts")
_EDITOR = re.compile(r"\[EDITOR \(([a-z_]+)\):")
_QUOTE = re.compile(r"“[^”]*”")
_STRENGTH_HEADING = "## How strong is this evidence?"
_SAFETY_HEADING = "## Is it safe?"


def split_source(body: str) -> tuple[str, str]:
    i = body.find(SOURCE_HEADING)
    return (body, "") if i < 0 else (body[:i], body[i:])


def section(body: str, heading: str) -> str:
    i = body.find(heading)
    if i < 0:
        return ""
    rest = body[i + len(heading):]
    j = rest.find("\n## ")
    return rest if j < 0 else rest[:j]


def _own_words(text: str) -> str:
    """Text outside the authors' quoted words."""
    return _QUOTE.sub("“…”", text)


def check_numbers(title: str, body: str, sources: list[str],
                  derivations: Derivations) -> tuple[Check, list[dict[str, Any]]]:
    from newsflow.draft.numbers import source_values

    values, words = source_values(sources)
    records, unmapped = check_provenance(f"{title}\n{body}", values, words, derivations)
    if unmapped:
        detail = "unmapped: " + ", ".join(f"'{t.text}'" for t in unmapped[:10])
    else:
        derived = sum(1 for r in records if r["maps_to"] == "derivation")
        detail = f"{len(records)} numbers: {len(records) - derived} from the paper, " \
                 f"{derived} logged derivations"
    return Check("number_provenance", not unmapped, True, detail), records


def check_design_n(title: str, body: str, ctx: dict[str, Any]) -> Check:
    early = (title + "\n" + body.split("\n## ", 1)[0]).lower()
    label_ok = ctx["design_label"].lower() in early
    need_n = ctx["human"] and ctx["family"] not in ("guideline_other",)
    n_ok = True
    if need_n:
        n_text = str(ctx.get("n_text") or "")
        n_ok = bool(n_text) and n_text.lower() in early
    missing = [w for w, ok in (("design", label_ok), ("number of people", n_ok)) if not ok]
    detail = "design and N stated before the first section" if not missing else \
        "not stated early: " + ", ".join(missing)
    return Check("design_and_n_early", not missing, True, detail)


def check_evidence(body: str, ctx: dict[str, Any]) -> Check:
    ladder = fam.ladder_for(ctx["design"], ctx.get("level"))
    part = section(body, _STRENGTH_HEADING).lower()
    missing = [p for p in ladder.required if p not in part]
    own = _own_words(split_source(body)[0]).lower()
    banned = [b for b in ladder.banned if re.search(rf"\b{re.escape(b)}\b", own)]
    ok = bool(part) and not missing and not banned
    if ok:
        detail = f"level {ladder.level or 'opinion'}: '{ladder.strength}' wording"
    else:
        detail = "; ".join(filter(None, [
            "no evidence-strength section" if not part else "",
            f"missing {missing}" if missing else "", f"banned {banned}" if banned else ""]))
    return Check("evidence_wording", ok, True, detail)


def limitation_triggers(ctx: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each condition that needs a limitation line → phrases any one of which satisfies it."""
    out: dict[str, tuple[str, ...]] = {}
    design = ctx["design"]
    human = ctx["human"]
    n = ctx.get("n")
    if design == "case_report":
        out["single person"] = ("single person",)
    elif human and n is not None and n < 30:
        out["N < 30"] = ("small",)
    if design in fam.NO_CONTROL:
        out["no control group"] = ("no comparison group",)
    if human and design in fam.NOT_RANDOMISED:
        out["not randomised"] = ("not put into groups by chance", "no comparison group")
    if ctx.get("letter"):
        out["letter"] = ("letter",)
    if design in ("case_series", "case_report"):
        out["case series"] = ("no comparison group", "single person")
    from newsflow.draft.context import duration_months

    months = duration_months(ctx.get("duration"))
    if months is not None and months < 6 and ctx.get("has_treatment") and human:
        out["follow-up < 6 months"] = ("too short",)
    if not human:
        out["not in people"] = ("not in people",)
    return out


def check_limitations(body: str, ctx: dict[str, Any]) -> Check:
    text = _own_words(body).lower()
    triggers = limitation_triggers(ctx)
    missing = [name for name, phrases in triggers.items()
               if not any(p in text for p in phrases)]
    if not triggers:
        return Check("limitations", True, True, "no condition needs a limitation line")
    ok = not missing
    detail = ("covers: " + ", ".join(triggers)) if ok else "missing a line for: " + \
        ", ".join(missing)
    return Check("limitations", ok, True, detail)


def check_harms(body: str, ctx: dict[str, Any]) -> Check:
    part = section(body, _SAFETY_HEADING).lower()
    kind = ctx.get("harms_kind", "not_mentioned")
    if not part:
        return Check("harms", False, True, "no 'Is it safe?' section")
    if not ctx["human"]:
        ok = "in people" in part
        return Check("harms", ok, True, "lab study: says it cannot speak to harms in people"
                     if ok else "lab study must say it tells us nothing about harms in people")
    need = {"none_reported": "cannot rule out", "not_mentioned": "did not report on side effects",
            "reported": "side effect", "unclear": "side effect",
            "no_treatment": "did not test a treatment"}.get(kind, "side effect")
    ok = need in part
    return Check("harms", ok, True, f"harms {kind}: " + ("worded as required" if ok
                                                          else f"needs '{need}'"))


_RELATIVE = re.compile(
    r"\b\d+(?:\.\d+)?[\s-]*(?:times|fold)\b|\b(?:twice|three times|half) as (?:likely|many|much)"
    r"|\d+(?:\.\d+)?\s*%\s*(?:lower|higher|less|more|reduced|increased|reduction|increase)"
    r"\s+(?:risk|odds|chance|likelihood|rate)"
    r"|\b(?:relative risk|risk ratio|odds ratio|hazard ratio)\b", re.I)
_RELATIVE_ACRONYM = re.compile(r"\b(?:RR|OR|HR|aOR|aHR|IRR)\b")
_ABSOLUTE = re.compile(r"\b\d[\d,]*\s+(?:of|out of)\s+(?:the\s+)?\d[\d,]*\b|\bper\s+\d", re.I)


def check_absolute(body: str) -> Check:
    text = split_source(body)[0]
    bad = []
    for sentence in re.split(r"(?<=[.!?”])\s+", text):
        relative = _RELATIVE.search(sentence) or _RELATIVE_ACRONYM.search(sentence)
        if relative and not _ABSOLUTE.search(sentence):
            bad.append(sentence.strip()[:80])
    ok = not bad
    return Check("absolute_numbers", ok, True, "no relative-only benefit claims" if ok else
                 "relative-only: " + " | ".join(bad[:3]))


_CAUSAL = re.compile(r"\b(?:causes?|caused|prevents?|prevented|leads? to|led to|"
                     r"reduces? the risk|cures?)\b", re.I)
_ADVICE = re.compile(r"\byou should\b|\byou must\b|\b(?:stop|start|switch|try|avoid) "
                     r"(?:taking|using)\b|\bask (?:your|a) (?:doctor|dermatologist) "
                     r"(?:for|to prescribe)\b|\bdo not take\b|\bdon't take\b", re.I)
_NOT_HUMAN = ("in the lab", "in mice", "in animals", "in rats", "in cells")


def claim_text(title: str, body: str) -> str:
    """Where a draft makes claims: headline, lede, key points, findings and meaning.

    Background such as "What is …?" and glossary explanations may say what causes a
    disease; that is not a claim about this study.
    """
    parts = [title, body.split("\n## ", 1)[0], section(body, "## What did it find?"),
             section(body, "## What does this mean for you?")]
    return "\n".join(parts)


def check_claims(title: str, body: str, ctx: dict[str, Any]) -> Check:
    text = split_source(body)[0]
    problems: list[str] = []
    if ctx.get("observational"):
        problems += [f"causal '{m.group(0)}'" for m in
                     _CAUSAL.finditer(_own_words(_strip_glosses(claim_text(title, text))))]
    problems += [f"advice '{m.group(0)}'" for m in _ADVICE.finditer(f"{title}\n{text}")]
    if not ctx["human"]:
        if not any(p in title.lower() for p in _NOT_HUMAN):
            problems.append("headline does not say 'in the lab' / 'in mice'")
        if not any(p in text.lower() for p in _NOT_HUMAN):
            problems.append("body does not say 'in the lab' / 'in mice'")
    ok = not problems
    return Check("claim_guard", ok, True, "no causal overreach, advice or lab-to-human leap"
                 if ok else "; ".join(problems[:5]))


def _strip_glosses(text: str) -> str:
    return re.sub(r" \([^()]*\)| \[[^\[\]]*\]", "", text)


def find_hype(text: str, res: Resources) -> list[str]:
    return hype_in(text, res)


def check_hype(title: str, body: str, res: Resources) -> Check:
    hits = find_hype(f"{title}\n{split_source(body)[0]}", res)
    return Check("hype_words", not hits, True,
                 "none found" if not hits else "found: " + ", ".join(sorted(set(hits))))


def check_readability(scores: dict[str, float]) -> Check:
    fk, msl, lw = scores["fkgl"], scores["mean_sentence_words"], scores["long_word_share"]
    ok = fk <= 8 and msl <= 16 and lw <= 0.15
    hard = fk > 9 or msl > 20
    detail = f"grade {fk:.1f} (≤8), {msl:.1f} words a sentence (≤16), " \
             f"{lw:.0%} long words (≤15%)"
    return Check("readability", ok, hard, detail)


def check_acronyms(body: str, res: Resources) -> Check:
    missing = unexplained_acronyms(body, res)
    return Check("acronyms_explained", not missing, True,
                 "every acronym explained on first use" if not missing
                 else "unexplained: " + ", ".join(missing[:10]))


def check_slots(body: str) -> Check:
    open_ = _EDITOR.findall(body)
    slots = [s for s in SLOT_NAMES if s in open_]
    other = sorted(set(open_) - set(SLOT_NAMES))
    if not open_:
        return Check("editor_slots", True, True, "cost, availability, alternatives and "
                     "conflicts filled; no EDITOR notes left")
    parts = []
    if slots:
        parts.append("open slots: " + ", ".join(slots))
    if other:
        parts.append("other EDITOR notes: " + ", ".join(other))
    return Check("editor_slots", False, True, "; ".join(parts))


def run_checks(title: str, body: str, ctx: dict[str, Any], res: Resources, sources: list[str],
               derivations: Derivations
               ) -> tuple[list[Check], dict[str, float], list[dict[str, Any]]]:
    """All 11 checks, the readability scores and the number-provenance records."""
    numbers, provenance = check_numbers(title, body, sources, derivations)
    scores = score_body(body)
    checks = [
        numbers,
        check_design_n(title, body, ctx),
        check_evidence(body, ctx),
        check_limitations(body, ctx),
        check_harms(body, ctx),
        check_absolute(body),
        check_claims(title, body, ctx),
        check_hype(title, body, res),
        check_readability(scores),
        check_acronyms(body, res),
        check_slots(body),
    ]
    return checks, scores, provenance
