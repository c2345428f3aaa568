"""The data files drafting reads: glossary, hype words and the drug list.

Each is looked up in the site's config folder first, then the built-in config/ (see
``Settings.config_file``), and cached by path and modification time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsflow.errors import ConfigError
from newsflow.settings import _read_toml
from newsflow.terms import TermIndex


@dataclass(frozen=True)
class GlossEntry:
    term: str
    explain: str
    lay: str | None = None


@dataclass(frozen=True)
class DrugInfo:
    generic: str
    brands: tuple[str, ...] = ()
    drug_class: str | None = None
    plain: str | None = None
    route: str | None = None


@dataclass
class Resources:
    glossary: TermIndex[GlossEntry]
    glossary_entries: list[GlossEntry]
    hype: re.Pattern[str] | None
    hype_allow: re.Pattern[str] | None
    drugs: dict[str, DrugInfo] = field(default_factory=dict)
    fingerprint: str = ""

    def drug(self, generic: str | None) -> DrugInfo | None:
        return self.drugs.get(generic.lower()) if generic else None

    def lay_name(self, term: str) -> str | None:
        hit = self.glossary.first(term)
        if hit and hit.start == 0 and hit.end == len(term.strip()):
            return hit.payload.lay
        return None


def _read(path: Path) -> dict[str, Any]:
    # A missing data file is an empty one (a site may not ship drugs.toml yet).
    return _read_toml(path) if path.exists() else {}


def _load_glossary(path: Path) -> list[tuple[str, GlossEntry]]:
    data = _read(path)
    out: list[tuple[str, GlossEntry]] = []
    for i, t in enumerate(data.get("term", [])):
        term, explain = t.get("term"), t.get("explain")
        if not isinstance(term, str) or not isinstance(explain, str) or not explain.strip():
            raise ConfigError("each [[term]] needs a term and an explain string",
                              path=str(path), key=f"term[{i}]")
        entry = GlossEntry(term=term, explain=explain.strip(), lay=t.get("lay"))
        out.append((term, entry))
        out.extend((alias, entry) for alias in t.get("aliases", []))
    return out


def _phrases_pattern(words: list[str]) -> re.Pattern[str] | None:
    words = [w.strip() for w in words if isinstance(w, str) and w.strip()]
    if not words:
        return None
    alts = "|".join(re.escape(w).replace(r"\ ", r"[\s\-]+")
                    for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])", re.IGNORECASE)


def _load_drugs(path: Path) -> dict[str, DrugInfo]:
    """drugs.toml: ``[[drug]]`` tables (or a table per generic name)."""
    data = _read(path)
    rows: list[dict[str, Any]] = []
    if isinstance(data.get("drug"), list):
        rows = data["drug"]
    else:
        for key, val in data.items():
            if isinstance(val, dict):
                rows.append({"generic": key, **val})
    out: dict[str, DrugInfo] = {}
    for row in rows:
        generic = row.get("generic")
        if not isinstance(generic, str):
            continue
        brands = row.get("brands") or ([row["brand"]] if row.get("brand") else [])
        plain = row.get("explain") or row.get("plain") or row.get("explanation")
        route = row.get("route")
        if isinstance(route, list):
            route = route[0] if route else None
        out[generic.lower()] = DrugInfo(
            generic=generic, brands=tuple(str(b) for b in brands),
            drug_class=row.get("class") or row.get("drug_class"),
            plain=plain, route=route)
    return out


@lru_cache(maxsize=8)
def _load(glossary: Path, hype: Path, drugs: Path, stamp: tuple[float, ...]) -> Resources:
    del stamp  # part of the cache key only
    entries = _load_glossary(glossary)
    hype_data = _read(hype)
    uniq = list({id(e): e for _, e in entries}.values())
    return Resources(
        glossary=TermIndex(entries), glossary_entries=uniq,
        hype=_phrases_pattern(hype_data.get("hype", {}).get("words", [])),
        hype_allow=_phrases_pattern(hype_data.get("allow", {}).get("phrases", [])),
        drugs=_load_drugs(drugs),
        fingerprint=f"{glossary}:{hype}:{drugs}",
    )


def load_resources(glossary: Path, hype: Path, drugs: Path) -> Resources:
    stamp = tuple(p.stat().st_mtime if p.exists() else 0.0 for p in (glossary, hype, drugs))
    return _load(glossary, hype, drugs, stamp)
