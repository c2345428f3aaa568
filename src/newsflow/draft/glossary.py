"""Explain each glossary term the first time it appears in the draft body.

Outside quotations the explanation goes in round brackets; inside the authors' quoted
words it goes in square brackets, the usual mark of an editor's insertion.  Headings, the
source section and EDITOR notes are left alone.
"""

from __future__ import annotations

import re

from newsflow.draft.resources import GlossEntry, Resources

SOURCE_HEADING = "## Where this comes from"
# Score names that papers suffix with a threshold: "EASI-75" = improved by at least 75%.
_THRESHOLD_SCORES = {"EASI", "PASI", "SCORAD", "SALT", "HiSCR"}
_SUFFIX = re.compile(r"-(\d{2,3})\b")
_ACRONYM_PAREN = re.compile(r"\s*\(([A-Z][A-Za-z0-9-]{1,12})\)")


def glossable_lines(body: str) -> list[tuple[int, str, bool]]:
    """(index, line, glossable) for each line of body."""
    out = []
    in_source = False
    for i, line in enumerate(body.split("\n")):
        if line.startswith(SOURCE_HEADING):
            in_source = True
        skip = in_source or line.startswith("#") or "EDITOR (" in line
        out.append((i, line, not skip))
    return out


def _inside_quote(line: str, pos: int) -> bool:
    before = line[:pos]
    return before.count("“") > before.count("”")


def apply_glossary(body: str, res: Resources) -> tuple[str, list[str]]:
    """Return the body with first-use explanations and the terms that were explained."""
    seen: set[int] = set()
    seen_thresholds: set[str] = set()
    explained: list[str] = []
    lines = body.split("\n")
    for i, line, ok in glossable_lines(body):
        if not ok or not line.strip():
            continue
        pieces: list[str] = []
        last = 0
        for hit in res.glossary.find_all(line):
            entry: GlossEntry = hit.payload
            end = hit.end
            text = entry.explain
            suffix = _SUFFIX.match(line, end) if hit.term in _THRESHOLD_SCORES else None
            if suffix:
                # Each threshold ("EASI-75", "EASI-90") is explained on its own first use.
                key = f"{id(entry)}-{suffix.group(1)}"
                if key in seen_thresholds:
                    continue
                seen_thresholds.add(key)
                end = suffix.end()
                meaning = f"{hit.surface}-{suffix.group(1)} means the score improved by at " \
                          f"least {suffix.group(1)}%"
                text = meaning if id(entry) in seen else f"{text}; {meaning}"
                seen.add(id(entry))
            elif id(entry) in seen:
                continue
            else:
                seen.add(id(entry))
            paren = _ACRONYM_PAREN.match(line, end)
            quote = _inside_quote(line, hit.start)
            pieces.append(line[last:end])
            if paren:
                # "juvenile dermatomyositis (JDM)" → "(JDM: explanation)"; JDM counts as done.
                acronym = paren.group(1)
                for other in res.glossary.find_all(acronym):
                    seen.add(id(other.payload))
                opener, closer = ("[", "]") if quote else ("(", ")")
                pieces.append(f" {opener}{acronym}: {text}{closer}")
                last = paren.end()
            else:
                pieces.append(f" [{text}]" if quote else f" ({text})")
                last = end
            explained.append(hit.term)
        if pieces:
            pieces.append(line[last:])
            lines[i] = "".join(pieces)
    return "\n".join(lines), explained


_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*(?:-[A-Z0-9]+)*)(?![\w])")
_COMMON = {"US", "USA", "UK", "EU", "OK", "TV", "II", "III", "IV", "VI", "VII", "VIII", "IX",
           "XI", "XII", "EDITOR", "DOI", "PMID"}


def _explained_at(line: str, end: int) -> bool:
    after = line[end:end + 6]
    # "(…)", "[…]", "X: …" or an appositive "JAK1, an enzyme …".
    return after[:2] in (" (", " [") or after.startswith(":") or \
        bool(re.match(r", (a|an|the) ", after))


def unexplained_acronyms(body: str, res: Resources) -> list[str]:
    """Acronyms whose first appearance has no explanation next to it (or to its term)."""
    missing: list[str] = []
    known: set[str] = set()
    for _, line, ok in glossable_lines(body):
        if not ok:
            continue
        found = list(_ACRONYM.finditer(line))
        if not found:
            continue
        spans = [(h.start, h.end) for h in res.glossary.find_all(line)]
        for m in found:
            # "JAK inhibitors (…)": the acronym is explained as part of its glossary term.
            if any(a <= m.start() and m.end() <= b and b - a > m.end() - m.start()
                   and _explained_at(line, b) for a, b in spans):
                known.add(m.group(1))
                continue
            word = m.group(1)
            if word in _COMMON or word in known:
                continue
            known.add(word)
            before = line[max(0, m.start() - 1):m.start()]
            if _explained_at(line, m.end()) or before in ("(", "["):
                continue
            missing.append(word)
    return missing
