"""Sentences of ``Paper.abstract`` with exact character offsets and their section.

Offsets index the string ``models.abstract_text`` builds, so every span a fact
carries can be cut straight out of ``paper.abstract``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import syntok.segmenter as segmenter

from newsflow.models import AbstractSection

# Structured-abstract labels → the few roles the rules care about.
_ROLES = (
    ("conflicts", re.compile(r"conflict|competing|disclosure|declaration of interest", re.I)),
    ("funding", re.compile(r"funding|financial support|sponsor", re.I)),
    ("registration", re.compile(r"registration|registry|trial number|clinicaltrials", re.I)),
    ("conclusions", re.compile(r"conclusion|interpretation|implication|discussion|relevance|"
                               r"summary|take.?home|limitation", re.I)),
    ("results", re.compile(r"result|finding|outcome|measurement", re.I)),
    ("methods", re.compile(r"method|design|setting|patient|participant|material|intervention|"
                           r"population|subject|procedure|search|selection|data (source|"
                           r"collection|extraction)|eligibility|case|observation|presentation",
                           re.I)),
    ("objective", re.compile(r"objective|aim|purpose|goal|question|hypothes|importance", re.I)),
    ("background", re.compile(r"background|introduction|context|rationale", re.I)),
)


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str
    role: str | None  # background | objective | methods | results | conclusions | ... | None
    label: str | None


def section_role(label: str | None) -> str | None:
    if not label:
        return None
    for role, rx in _ROLES:
        if rx.search(label):
            return role
    return None


def split_sentences(sections: list[AbstractSection]) -> list[Sentence]:
    """Walk the sections exactly as ``abstract_text`` joins them, splitting each with syntok."""
    out: list[Sentence] = []
    pos = 0
    first = True
    for sec in sections:
        text = sec.text.strip()
        if not text:
            continue
        if not first:
            pos += 1  # the "\n" between sections
        first = False
        prefix = f"{sec.label.upper()}: " if sec.label else ""
        base = pos + len(prefix)
        role = section_role(sec.label)
        for start, end in _spans(text):
            out.append(Sentence(len(out), base + start, base + end, text[start:end], role,
                                sec.label))
        pos += len(prefix) + len(text)
    return out


# Where a sentence may end: . ! or ? (and any closing quote or bracket), then space.
_STOP = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=\S)")
_ABBREV = re.compile(r"(?:\b(?:al|vs|e\.g|i\.e|approx|ca|cf|etc|Fig|Figs|Dr|Mr|Mrs|Ms|Prof|No|"
                     r"Nos|Ref|Inc|Ltd|Co|Corp|Jr|Sr|St|Vol|pp|spp|sp|var|resp|Eq|Tab|Suppl|"
                     r"Dept|Univ|ssp|subsp|cv|Nat|Acad|Sci|Med|Proc|Soc)|(?<!\w)[A-Z])"
                     r"[.!?][\"'\u201d\u2019)\]]*\s+$")


def _spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets.

    Clear cases are decided here: no split after a known abbreviation or before a
    lower-case word; a split before a capitalised word.  Stretches around any other
    stop (before a digit, a bracket or a symbol) go to syntok, which knows those cases.
    """
    cuts: list[tuple[int, int]] = []
    start = 0
    for m in _STOP.finditer(text):
        nxt = text[m.end()]
        if nxt.islower() or _ABBREV.search(text, max(start, m.start() - 12), m.end()):
            continue
        head = text[start:m.start()]
        if nxt.isupper() and head.count("(") == head.count(")") and \
                head.count("[") == head.count("]"):
            cuts.append((start, m.start() + len(m.group(0).rstrip())))
            start = m.end()
    cuts.append((start, len(text)))
    spans: list[tuple[int, int]] = []
    for a, b in cuts:
        chunk = text[a:b]
        body = chunk.rstrip()
        if not body.strip():
            continue
        if _has_doubt(body):
            spans.extend((a + x, a + y) for x, y in _syntok_spans(chunk))
        else:
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((a + lead, a + len(body)))
    return spans


def _has_doubt(chunk: str) -> bool:
    """A stop inside the chunk that the clear rules above did not settle."""
    for m in _STOP.finditer(chunk):
        nxt = chunk[m.end()]
        if nxt.islower() or _ABBREV.search(chunk, max(0, m.start() - 12), m.end()):
            continue
        return True
    return False


def _syntok_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            tokens = list(sentence)
            if not tokens:
                continue
            start = tokens[0].offset
            end = tokens[-1].offset + len(tokens[-1].value)
            if end > start:
                spans.append((start, end))
    return spans
