"""Dermatology relevance: a decision, a score and readable reasons for one paper.

Evidence comes from four places, all shipped as data in config/:
MeSH headings (mesh_skin.toml), the journal, a term lexicon and negative rules
(dermatology.toml).  The score is the sum of the positive evidence (capped at 1)
minus a fixed amount per negative rule that fires; a paper is relevant when the
score reaches the lexicon's threshold.  The same files also label the population
studied: human, animal_or_lab, or unknown.

Not-relevant papers are kept with their reasons; an editor can overrule the
decision (``store.enrichment.set_relevance_override``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from newsflow.app import App
from newsflow.errors import ConfigError
from newsflow.models import Paper, Relevance
from newsflow.settings import BUILTIN_CONFIG_DIR, Settings, _read_toml
from newsflow.store import enrichment as store_enrichment
from newsflow.store import papers as store_papers
from newsflow.terms import TermIndex

MESH_FILE = "mesh_skin.toml"
LEXICON_FILE = "dermatology.toml"
Strength = Literal["strong", "medium", "weak"]
Population = Literal["human", "animal_or_lab", "unknown"]
_STRENGTHS: tuple[Strength, ...] = ("strong", "medium", "weak")
_MAX_ABSTRACT_REASONS = 5


@dataclass(frozen=True)
class MeshEntry:
    name: str
    trees: tuple[str, ...]
    kind: Literal["disease", "related", "route", "not_skin"]

    @property
    def label(self) -> str:
        return f"{self.name} ({', '.join(self.trees)})" if self.trees else self.name


@dataclass(frozen=True)
class NegativeRule:
    label: str
    kind: Literal["mask", "title", "text", "mesh"]
    patterns: tuple[re.Pattern[str], ...] = ()
    names: frozenset[str] = frozenset()


@dataclass
class Scoring:
    threshold: float
    journal: float
    mesh_disease: float
    mesh_disease_major: float
    mesh_disease_more: float
    mesh_related: float
    title: dict[str, float]
    keyword: dict[str, float]
    abstract: dict[str, float]
    abstract_cap: float
    abstract_cap_untitled: float
    negative: float


@dataclass
class RelevanceRules:
    """Everything classify_paper needs, loaded once and reused for every paper."""

    mesh: dict[str, MeshEntry]
    journals: frozenset[str]
    journal_patterns: tuple[re.Pattern[str], ...]
    terms: TermIndex[Strength]
    negatives: tuple[NegativeRule, ...]
    scoring: Scoring
    animal_mesh: frozenset[str]
    lab_mesh: frozenset[str]
    human_mesh: frozenset[str]
    lab_text: tuple[re.Pattern[str], ...]
    human_text: tuple[re.Pattern[str], ...]
    sources: tuple[Path, ...] = field(default=())

    @classmethod
    def load(cls, settings: Settings | None = None) -> RelevanceRules:
        """The site's mesh_skin.toml and dermatology.toml, else the built-in ones."""
        if settings is None:
            return cls.from_files(BUILTIN_CONFIG_DIR / MESH_FILE, BUILTIN_CONFIG_DIR / LEXICON_FILE)
        return cls.from_files(settings.config_file(MESH_FILE), settings.config_file(LEXICON_FILE))

    @classmethod
    def from_files(cls, mesh_path: Path, lexicon_path: Path) -> RelevanceRules:
        mesh_data = _read_toml(mesh_path)
        lex = _read_toml(lexicon_path)
        where = str(lexicon_path)
        mesh: dict[str, MeshEntry] = {}
        for kind in ("disease", "related", "route", "not_skin"):
            table = mesh_data.get(kind, {})
            if not isinstance(table, dict):
                raise ConfigError("must be a table of descriptor = [tree numbers]",
                                  path=str(mesh_path), key=kind)
            for name, trees in table.items():
                if not isinstance(trees, list) or not all(isinstance(t, str) for t in trees):
                    raise ConfigError("must be a list of tree numbers", path=str(mesh_path),
                                      key=f"{kind}.{name}")
                mesh[_mesh_key(name)] = MeshEntry(name, tuple(trees), kind)
        journals = lex.get("journals", {})
        terms_table = lex.get("terms", {})
        entries: list[tuple[str, Strength]] = []
        for strength in _STRENGTHS:
            forms = terms_table.get(strength, [])
            if not isinstance(forms, list):
                raise ConfigError("must be a list of terms", path=where, key=f"terms.{strength}")
            entries.extend((str(f), strength) for f in forms)
        negatives = tuple(_negative(n, i, where) for i, n in enumerate(lex.get("negative", [])))
        pop = lex.get("population", {})
        return cls(
            mesh=mesh,
            journals=frozenset(_norm_journal(j) for j in journals.get("names", [])),
            journal_patterns=_compile(journals.get("patterns", []), where, "journals.patterns"),
            terms=TermIndex(entries),
            negatives=negatives,
            scoring=_scoring(lex.get("scoring", {}), where),
            animal_mesh=frozenset(_mesh_key(m) for m in pop.get("animal_mesh", [])),
            lab_mesh=frozenset(_mesh_key(m) for m in pop.get("lab_mesh", [])),
            human_mesh=frozenset(_mesh_key(m) for m in pop.get("human_mesh", ["Humans"])),
            lab_text=_compile(pop.get("lab_text", []), where, "population.lab_text"),
            human_text=_compile(pop.get("human_text", []), where, "population.human_text"),
            sources=(mesh_path, lexicon_path),
        )


def _compile(patterns: Any, where: str, key: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, list):
        raise ConfigError("must be a list of regular expressions", path=where, key=key)
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.IGNORECASE))
        except (re.error, TypeError) as e:
            raise ConfigError(f"{p!r} is not a valid regular expression ({e})", path=where,
                              key=key) from None
    return tuple(out)


def _negative(raw: Any, i: int, where: str) -> NegativeRule:
    key = f"negative[{i}]"
    if not isinstance(raw, dict) or not raw.get("label"):
        raise ConfigError("needs a label", path=where, key=key)
    kind = raw.get("kind")
    if kind not in ("mask", "title", "text", "mesh"):
        raise ConfigError(f"kind {kind!r} is not known", path=where, key=f"{key}.kind",
                          allowed="mask, title, text, mesh")
    if kind == "mesh":
        return NegativeRule(str(raw["label"]), kind,
                            names=frozenset(_mesh_key(n) for n in raw.get("names", [])))
    return NegativeRule(str(raw["label"]), kind,
                        _compile(raw.get("patterns", []), where, f"{key}.patterns"))


def _scoring(raw: dict[str, Any], where: str) -> Scoring:
    defaults: dict[str, Any] = {
        "threshold": 0.5, "journal": 0.6, "mesh_disease": 0.45, "mesh_disease_major": 0.6,
        "mesh_disease_more": 0.1, "mesh_related": 0.1,
        "title": {"strong": 0.6, "medium": 0.45, "weak": 0.1},
        "keyword": {"strong": 0.3, "medium": 0.2, "weak": 0.05},
        "abstract": {"strong": 0.12, "medium": 0.08, "weak": 0.02},
        "abstract_cap": 0.45, "abstract_cap_untitled": 0.8, "negative": 0.5,
    }
    unknown = set(raw) - set(defaults)
    if unknown:
        raise ConfigError("unknown key", path=where, key=f"scoring.{sorted(unknown)[0]}",
                          allowed=", ".join(defaults))
    merged = {**defaults, **raw}
    for k in ("title", "keyword", "abstract"):
        merged[k] = {**defaults[k], **merged[k]}
    return Scoring(**merged)


def _mesh_key(term: str) -> str:
    """'*Dermatitis, Atopic/drug therapy' → 'dermatitis, atopic'."""
    t = re.sub(r"^D\d{6,9}\s*[:|]\s*", "", term.strip())
    t = t.split("/", 1)[0]
    return t.strip(" *").lower()


def _is_major(term: str) -> bool:
    head = term.split("/", 1)[0].strip()
    return head.startswith("*") or head.endswith("*") or term.strip().endswith("*")


def _norm_journal(name: str) -> str:
    n = re.split(r"\s[:=]\s", name, maxsplit=1)[0].lower()
    n = re.sub(r"^the\s+", "", n.strip())
    n = n.replace("&", " and ")
    n = re.sub(r"[^\w\s]", " ", n)
    return re.sub(r"\s+", " ", n).strip()


@dataclass
class _Evidence:
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, weight: float, reason: str) -> None:
        self.score += weight
        self.reasons.append(reason)


def classify_paper(paper: Paper, rules: RelevanceRules) -> Relevance:
    """Decide whether the paper is about the skin, and who was studied."""
    s = rules.scoring
    pos = _Evidence()
    mesh_keys = {_mesh_key(m): m for m in paper.mesh_terms if m.strip()}

    journal = _journal_match(paper, rules)
    if journal:
        pos.add(s.journal, f"journal: {journal}")

    disease = [(rules.mesh[k], _is_major(raw)) for k, raw in mesh_keys.items()
               if k in rules.mesh and rules.mesh[k].kind == "disease"]
    disease.sort(key=lambda d: (not d[1], d[0].name))
    for i, (entry, major) in enumerate(disease):
        if i == 0:
            pos.add(s.mesh_disease_major if major else s.mesh_disease,
                    f"MeSH{' (major)' if major else ''}: {entry.label}")
        else:
            pos.add(s.mesh_disease_more, f"MeSH: {entry.label}")
    related = sorted((rules.mesh[k] for k in mesh_keys
                      if k in rules.mesh and rules.mesh[k].kind == "related"),
                     key=lambda e: e.name)
    for entry in related[:2]:
        pos.add(s.mesh_related, f"MeSH (supporting): {entry.label}")

    masked_title, title_masks = _apply_masks(paper.title, rules)
    masked_abstract, abstract_masks = _apply_masks(paper.abstract, rules)
    fired_masks = title_masks | abstract_masks

    title_hits = _distinct_terms(masked_title, rules)
    if title_hits:
        ordered = sorted(title_hits.items(), key=lambda kv: _STRENGTHS.index(kv[1]))
        best_term, best = ordered[0]
        weight = s.title[best] + (0.1 if len(ordered) > 1 else 0.0)
        pos.add(weight, f"term: '{best_term}' in title")
        for term, _ in ordered[1:3]:
            pos.reasons.append(f"term: '{term}' in title")

    kw_hits: dict[str, Strength] = {}
    for kw in paper.keywords:
        kw_hits.update(_distinct_terms(_apply_masks(kw, rules)[0], rules))
    if kw_hits:
        term, best = min(kw_hits.items(), key=lambda kv: _STRENGTHS.index(kv[1]))
        pos.add(s.keyword[best], f"keyword: '{term}'")

    abstract_hits = _term_counts(masked_abstract, rules, exclude=title_hits.keys())
    if abstract_hits:
        counted = sorted(abstract_hits.items(),
                         key=lambda kv: (_STRENGTHS.index(kv[1][0]), -kv[1][1], kv[0]))
        cap = s.abstract_cap if paper.title.strip() else s.abstract_cap_untitled
        pos.score += min(cap, sum(s.abstract[st] * n for _, (st, n) in counted))
        for term, (_, n) in counted[:_MAX_ABSTRACT_REASONS]:
            pos.reasons.append(f"term: '{term}' in abstract" + (f" ({n}×)" if n > 1 else ""))
        if len(counted) > _MAX_ABSTRACT_REASONS:
            pos.reasons.append(f"… and {len(counted) - _MAX_ABSTRACT_REASONS} more skin terms "
                               "in abstract")

    positive = min(1.0, pos.score)
    if paper.title.strip() and not (journal or disease or title_hits or kw_hits):
        # Skin words only in the abstract (a side effect, a route, a comparison) do not make
        # a titled paper about the skin; a supporting MeSH heading does not tip it either.
        positive = min(positive, s.abstract_cap)
    negatives: list[str] = []
    if positive < s.threshold:
        # A skin word used only as a route, site or graft explains why nothing else counted.
        negatives.extend(f"negative: {label}" for label in sorted(fired_masks))
    if not disease:
        off = sorted(rules.mesh[k].label for k in mesh_keys
                     if k in rules.mesh and rules.mesh[k].kind == "not_skin")
        if off:
            negatives.append(f"negative: not a skin disease: {'; '.join(off[:3])}")
    title_text = paper.title
    full_text = f"{paper.title}\n{paper.abstract}"
    for rule in rules.negatives:
        label = f"negative: {rule.label}"
        if label in negatives:
            continue
        if rule.kind == "mesh":
            fired = bool(rule.names & mesh_keys.keys())
        elif rule.kind in ("title", "text"):
            text = title_text if rule.kind == "title" else full_text
            fired = any(p.search(text) for p in rule.patterns)
        else:
            continue
        if fired:
            negatives.append(label)
    penalised = [n for n in negatives if not _is_mask_reason(n, rules)]
    score = max(0.0, positive - s.negative * len(penalised))
    score = round(score, 2)
    reasons = pos.reasons + negatives
    if not reasons:
        reasons = ["no skin-related MeSH heading, journal or term found"]
    return Relevance(relevant=score >= s.threshold, score=score, reasons=reasons,
                     population=classify_population(paper, rules))


def _is_mask_reason(reason: str, rules: RelevanceRules) -> bool:
    return any(reason == f"negative: {r.label}" for r in rules.negatives if r.kind == "mask")


def _journal_match(paper: Paper, rules: RelevanceRules) -> str | None:
    for name in (paper.journal, paper.journal_abbrev):
        if not name:
            continue
        if _norm_journal(name) in rules.journals or \
                any(p.search(name) for p in rules.journal_patterns):
            return re.split(r"\s[:=]\s", name, maxsplit=1)[0].strip()
    return None


def _apply_masks(text: str, rules: RelevanceRules) -> tuple[str, set[str]]:
    fired: set[str] = set()
    for rule in rules.negatives:
        if rule.kind != "mask":
            continue
        for p in rule.patterns:
            def blank(m: re.Match[str], _label: str = rule.label) -> str:
                fired.add(_label)
                return " " * len(m.group(0))
            text = p.sub(blank, text)
    return text, fired


def _distinct_terms(text: str, rules: RelevanceRules) -> dict[str, Strength]:
    out: dict[str, Strength] = {}
    for m in rules.terms.find_all(text):
        key = m.term.lower()
        if key not in out or _STRENGTHS.index(m.payload) < _STRENGTHS.index(out[key]):
            out[key] = m.payload
    return out


_RULES_CACHE: dict[tuple[Path, float, Path, float], RelevanceRules] = {}


def rules_for(settings: Settings) -> RelevanceRules:
    """The settings' rules, loaded once per process and again only when a file changes."""
    mesh, lex = settings.config_file(MESH_FILE), settings.config_file(LEXICON_FILE)
    try:
        key = (mesh, mesh.stat().st_mtime, lex, lex.stat().st_mtime)
    except OSError:
        return RelevanceRules.from_files(mesh, lex)  # raises a ConfigError naming the file
    if key not in _RULES_CACHE:
        _RULES_CACHE.clear()
        _RULES_CACHE[key] = RelevanceRules.from_files(mesh, lex)
    return _RULES_CACHE[key]


def classify_stage(app: App, paper_id: int) -> None:
    """Pipeline stage: classify the stored paper and store the decision."""
    paper = store_papers.get_paper(app.store, paper_id)
    store_enrichment.save_relevance(app.store, paper_id,
                                    classify_paper(paper, rules_for(app.settings)))


def _term_counts(text: str, rules: RelevanceRules,
                 exclude: Any = ()) -> dict[str, tuple[Strength, int]]:
    out: dict[str, tuple[Strength, int]] = {}
    for m in rules.terms.find_all(text):
        key = m.term.lower()
        if key in exclude:
            continue
        strength, n = out.get(key, (m.payload, 0))
        out[key] = (strength, n + 1)
    return out


def classify_population(paper: Paper, rules: RelevanceRules) -> Population:
    """human, animal_or_lab or unknown: MeSH first, then the wording of title and abstract."""
    keys = {_mesh_key(m) for m in paper.mesh_terms}
    animal = keys & (rules.animal_mesh | rules.lab_mesh)
    human = bool(keys & rules.human_mesh)
    if animal and not human:
        return "animal_or_lab"
    if human and not animal:
        return "human"
    lab_score = 1 if animal else 0
    human_score = 1 if human else 0
    for patterns, title_weight in ((rules.lab_text, 2), (rules.human_text, 2)):
        hits = 0
        for p in patterns:
            if p.search(paper.title):
                hits += title_weight
            elif p.search(paper.abstract):
                hits += 1
        if patterns is rules.lab_text:
            lab_score += hits
        else:
            human_score += hits
    if lab_score > human_score:
        return "animal_or_lab"
    if human_score > lab_score:
        return "human"
    return "human" if human else "unknown"
