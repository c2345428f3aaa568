"""Paper + facts as JSON: the recorded input of golden tests and benchmarks."""

from __future__ import annotations

import dataclasses
from typing import Any

from newsflow.models import AbstractSection, Author, Fact, Paper, Relevance


def fact_from_json(name: str, d: dict[str, Any]) -> Fact:
    span = d.get("span") or [0, 0]
    return Fact(name=name, value=str(d.get("value", "")), normalized=d.get("normalized"),
                confidence=float(d.get("confidence", 1.0)), span=(int(span[0]), int(span[1])),
                sentence=str(d.get("sentence", "")))


def paper_from_json(d: dict[str, Any]) -> Paper:
    p = dict(d["paper"])
    p["abstract_sections"] = [AbstractSection(s.get("label"), s["text"])
                              for s in p.get("abstract_sections", [])]
    p["authors"] = [Author(**a) for a in p.get("authors", [])]
    rel = p.pop("relevance", None)
    known = {f.name for f in dataclasses.fields(Paper)}
    paper = Paper(**{k: v for k, v in p.items() if k in known})
    if rel:
        paper.relevance = Relevance(**rel)
    paper.facts = {k: fact_from_json(k, v) for k, v in d.get("facts", {}).items()}
    return paper


def paper_to_json(paper: Paper) -> dict[str, Any]:
    p = dataclasses.asdict(paper)
    p.pop("facts", None)
    for k in ("created_at", "updated_at"):
        p.pop(k, None)
    return {"paper": p, "facts": {k: f.to_json() for k, f in paper.facts.items()}}
