"""The facts and relevance sections of ``newsflow papers show`` (shape: docs/papers-json.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from newsflow import demo
from newsflow.app import App
from newsflow.extract import FACT_NAMES
from newsflow.models import Fact, Paper
from newsflow.store import facts as store_facts


def relevance_json(paper: Paper) -> dict[str, Any] | None:
    rel = paper.relevance
    if rel is None and paper.relevance_override is None:
        return None
    return {"relevant": rel.relevant if rel else None, "score": rel.score if rel else None,
            "reasons": list(rel.reasons) if rel else [],
            "population": rel.population if rel else None,
            "override": paper.relevance_override}


def show_json(paper: Paper, facts: dict[str, Fact], version: str | None) -> dict[str, Any]:
    """Every fact name, null when not found, plus relevance and the extractor version."""
    return {"facts": {name: facts[name].to_json() if name in facts else None
                      for name in (*FACT_NAMES, *sorted(set(facts) - set(FACT_NAMES)))},
            "relevance": relevance_json(paper), "extractor_version": version}


def print_sections(out: Console, paper: Paper, facts: dict[str, Fact],
                   version: str | None) -> None:
    rel = relevance_json(paper)
    out.print()
    if rel is None:
        out.print("Relevance: not classified yet", markup=False)
    else:
        verdict = "relevant" if paper.is_relevant else "not relevant"
        score = f" (score {rel['score']:.2f})" if rel["score"] is not None else ""
        override = {True: ", promoted by an editor", False: ", demoted by an editor"}.get(
            rel["override"], "")
        out.print(f"Relevance: {verdict}{score}{override}", markup=False)
        for reason in rel["reasons"]:
            out.print(f"  - {reason}", markup=False)
    out.print()
    if not facts:
        out.print("Facts: none extracted yet" if version is None
                  else f"Facts (extractor {version}): none found", markup=False)
        return
    out.print(f"Facts (extractor {version}):", markup=False)
    for name in FACT_NAMES:
        f = facts.get(name)
        if f is None:
            out.print(f"  {name}: not found", markup=False)
            continue
        norm = json.dumps(f.normalized, ensure_ascii=False)
        out.print(f"  {name}: {f.value}  -> {norm}  (confidence {f.confidence:.2f})",
                  markup=False)
        where = f"\u201c{f.sentence}\u201d [{f.span[0]}:{f.span[1]}]" if f.sentence \
            else "(from the record's metadata, not the abstract)"
        out.print(f"      {where}", markup=False)


def demo_lines(app: App, directory: Path) -> list[str]:
    """What `newsflow demo` prints about extraction: a few papers and their key facts."""
    cfg = directory.resolve() / "newsflow.toml"
    lines = ["Extracted facts (a few papers; each fact with its source sentence: "
             f"newsflow --config {cfg} papers show ID):"]
    for pid, title, found in store_facts.recent_with_facts(app.store, limit=5):
        bits = [str(found[k].normalized) for k in ("design", "condition", "intervention")
                if k in found]
        if "sample_size" in found:
            n = found["sample_size"].normalized
            bits.insert(1, f"{n} participant{'' if n == 1 else 's'}")
        short = title if len(title) <= 70 else title[:69] + "\u2026"
        lines.append(f"  {pid}: {short} \u2014 {', '.join(bits) or 'no facts found'}")
    return lines if len(lines) > 1 else []


demo.UI_HOOKS.append(demo_lines)
