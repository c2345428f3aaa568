"""Study-fact extraction: rules over the abstract's sentences, each fact with its source.

``extract_facts`` never guesses: a rule that is not sure records nothing.
Bump ``EXTRACTOR_VERSION`` whenever a rule changes what it emits, so stored
facts can be told apart and re-extracted.
"""

from __future__ import annotations

from newsflow.extract.condition import ConditionIndex, builtin_conditions, extract_condition
from newsflow.extract.design import DESIGNS, extract_design
from newsflow.extract.doc import Doc
from newsflow.extract.drugs import Drug, DrugIndex
from newsflow.extract.outcomes import (
    extract_conclusion,
    extract_funding,
    extract_harms,
    extract_results,
)
from newsflow.extract.population import extract_age, extract_sample_size, extract_sex
from newsflow.extract.treatment import extract_duration, extract_treatment
from newsflow.models import Fact, Paper

EXTRACTOR_VERSION = "1.1"

FACT_NAMES = ("design", "evidence_level", "sample_size", "age_range", "sex", "condition",
              "intervention", "dose", "frequency", "route", "comparator", "duration", "results",
              "harms", "conclusion", "funding", "conflicts")

__all__ = ["DESIGNS", "EXTRACTOR_VERSION", "FACT_NAMES", "ConditionIndex", "Drug", "DrugIndex",
           "extract_facts"]


def extract_facts(paper: Paper, drugs: DrugIndex,
                  conditions: ConditionIndex | None = None) -> dict[str, Fact]:
    doc = Doc.of(paper, drugs)
    facts: dict[str, Fact] = {}
    facts.update(extract_design(doc))
    design = facts["design"].normalized if "design" in facts else None
    facts.update(extract_sample_size(doc, design))
    facts.update(extract_age(doc, design))
    facts.update(extract_sex(doc, design))
    facts.update(extract_condition(doc, conditions or builtin_conditions()))
    facts.update(extract_treatment(doc, design))
    facts.update(extract_duration(doc))
    facts.update(extract_results(doc))
    facts.update(extract_harms(doc, "intervention" in facts))
    facts.update(extract_conclusion(doc))
    facts.update(extract_funding(doc))
    return {name: facts[name] for name in FACT_NAMES if name in facts}
