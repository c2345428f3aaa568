"""Readability of a draft body, computed offline with textstat (as BioLaySumm does).

Scored text: the body without headings, EDITOR notes or the source section, with each
bullet as its own sentence and markdown marks removed.  Human summaries are scored with
``score_text`` directly, so both sides use the same formulas.
"""

from __future__ import annotations

import re
from functools import lru_cache

import textstat

from newsflow.draft.glossary import glossable_lines

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_MD = re.compile(r"[*_`>#]|\[|\]\([^)]*\)")


def prose(body: str) -> str:
    out: list[str] = []
    for _, line, ok in glossable_lines(body):
        text = line.strip()
        if not ok or not text:
            continue
        text = re.sub(r"^[-*]\s+", "", text)
        text = _MD.sub("", text).strip()
        if text and text[-1] not in ".!?:”\"":
            text += "."
        out.append(text)
    return "\n".join(out)


@lru_cache(maxsize=50_000)
def _syllables(word: str) -> int:
    return int(textstat.syllable_count(word))


def score_text(text: str) -> dict[str, float]:
    """FKGL from textstat; sentence length and 3+ syllable share from textstat's counters."""
    words = textstat.lexicon_count(text, removepunct=True)
    sentences = max(1, textstat.sentence_count(text))
    # textstat.polysyllabcount re-counts every word; a per-word cache gives the same number.
    long_words = sum(1 for w in _WORD.findall(text) if _syllables(w.lower()) >= 3)
    return {
        "fkgl": round(float(textstat.flesch_kincaid_grade(text)), 2),
        "mean_sentence_words": round(words / sentences, 2),
        "long_word_share": round(long_words / words, 4) if words else 0.0,
        "words": float(words),
        "sentences": float(sentences),
    }


def score_body(body: str) -> dict[str, float]:
    return score_text(prose(body))
