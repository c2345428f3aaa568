"""The condition studied, from config/conditions.toml through the shared TermIndex."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

from newsflow.errors import ConfigError
from newsflow.extract.doc import Doc
from newsflow.extract.drugs import read_toml
from newsflow.models import Fact
from newsflow.settings import BUILTIN_CONFIG_DIR, Settings
from newsflow.terms import TermIndex

# Broad words lose to any specific condition named in the same abstract.
_BROAD = {"skin disease", "dermatitis", "wounds", "hair loss", "skin infections", "pruritus",
          "skin cancer", "eczema"}


class ConditionIndex:
    def __init__(self, entries: list[tuple[str, list[str]]]) -> None:
        self.names = [n for n, _ in entries]
        self.terms: TermIndex[str] = TermIndex((f, n) for n, forms in entries for f in [n, *forms])

    @classmethod
    def load(cls, settings: Settings) -> ConditionIndex:
        return cls.from_path(settings.config_file("conditions.toml"))

    @classmethod
    def from_path(cls, path: Path) -> ConditionIndex:
        data = read_toml(path)
        tables = data.get("condition", [])
        if not isinstance(tables, list):
            raise ConfigError("needs [[condition]] tables", path=str(path), key="condition")
        entries = []
        for i, t in enumerate(tables):
            name, forms = t.get("name"), t.get("forms", [])
            if not isinstance(name, str) or not name.strip() or not isinstance(forms, list):
                raise ConfigError("needs a name and a list of forms", path=str(path),
                                  key=f"condition[{i}]")
            entries.append((name.strip(), [str(f) for f in forms]))
        return cls(entries)


@lru_cache(maxsize=1)
def builtin_conditions() -> ConditionIndex:
    return ConditionIndex.from_path(BUILTIN_CONFIG_DIR / "conditions.toml")


def extract_condition(doc: Doc, conditions: ConditionIndex) -> dict[str, Fact]:
    title_hits = {m.payload for m in conditions.terms.find_all(doc.paper.title or "")}
    counts: Counter[str] = Counter()
    first: dict[str, tuple[int, str, int]] = {}
    for s in doc.sentences:
        if doc.role_of(s) in ("funding", "conflicts"):
            continue
        for m in conditions.terms.find_all(s.text):
            counts[m.payload] += 1
            first.setdefault(m.payload, (s.index, m.surface, len(first)))
    if not counts:
        return {}

    def score(name: str) -> tuple[float, int]:
        return (counts[name] + (3 if name in title_hits else 0)
                - (2.5 if name in _BROAD and len(counts) > 1 else 0), -first[name][2])

    best = max(counts, key=score)
    idx, surface, _ = first[best]
    conf = 0.85 if best in title_hits else 0.6
    return {"condition": doc.fact("condition", surface, best, conf, doc.sentences[idx])}
