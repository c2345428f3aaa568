"""What every rule reads: the paper, its abstract, its sentences, and a Fact builder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from newsflow.extract.drugs import DrugIndex
from newsflow.extract.sentences import Sentence, split_sentences
from newsflow.models import Fact, Paper
from newsflow.terms import TermMatch


@dataclass
class Doc:
    paper: Paper
    drugs: DrugIndex
    abstract: str = ""
    sentences: list[Sentence] = field(default_factory=list)

    @classmethod
    def of(cls, paper: Paper, drugs: DrugIndex) -> Doc:
        return cls(paper, drugs, paper.abstract, split_sentences(paper.abstract_sections))

    @cached_property
    def structured(self) -> bool:
        return any(s.role for s in self.sentences)

    @cached_property
    def pub_types(self) -> set[str]:
        return {p.strip().lower() for p in self.paper.publication_types}

    @cached_property
    def mesh(self) -> set[str]:
        return {m.strip().lower().rstrip("*") for m in self.paper.mesh_terms}

    @cached_property
    def drug_hits(self) -> list[tuple[Sentence, TermMatch[Any]]]:
        return [(s, m) for s in self.sentences for m in self.drugs.find_all(s.text)]

    def role_of(self, s: Sentence) -> str | None:
        """The section role, guessed from position when the abstract has no labels."""
        if s.role or self.structured:
            return s.role
        n = len(self.sentences)
        if n >= 4 and s.index >= n - 2 and re.search(
                r"\b(conclu|suggest|indicat|support|may|might|could|should|promising|"
                r"warrant|needed)", s.text, re.I):
            return "conclusions"
        if s.index == 0 and n >= 3 and not re.search(r"\d|^(We|In this|This (study|trial|"
                                                       r"review))\b", s.text):
            return "background"
        return None

    def in_roles(self, *roles: str | None) -> Iterator[Sentence]:
        return (s for s in self.sentences if self.role_of(s) in roles)

    def fact(self, name: str, value: str, normalized: Any, confidence: float,
             sentence: Sentence | None) -> Fact:
        """A fact and the abstract sentence that supports it.

        ``sentence=None`` marks a fact read from the record's metadata (publication types,
        grant list, COI statement) rather than the abstract: its span is (0, 0).
        """
        if sentence is None:
            return Fact(name, value, normalized, round(confidence, 2), (0, 0), "")
        return Fact(name, value, normalized, round(confidence, 2),
                    (sentence.start, sentence.end), self.abstract[sentence.start:sentence.end])
