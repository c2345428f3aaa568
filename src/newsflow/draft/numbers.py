"""Number provenance: every number in a draft must come from the paper or a logged derivation.

A *number token* is a run of digits (with thousands separators or decimals, optionally a
percent sign), a number word ("six", "twenty-one", "once"), or one of the quantity words
"half", "all" and "none".  Each token in a draft maps to

* ``source``: the same value appears in the title, abstract or bibliographic metadata;
* ``derivation``: the template computed it and logged how (3/6 → "half", 6/6 → "all");

or it is *unmapped*, which fails the provenance check and blocks approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_TIMES = {"once": 1, "twice": 2, "thrice": 3}
# Words that state a quantity without a digit; they need a source word or a derivation.
QUANTITY_WORDS = ("half", "all", "none", "third", "quarter")

_NUMBER_WORDS = {*_UNITS, *_TENS, *_SCALES, *_TIMES}
_ALL_WORDS = sorted(_NUMBER_WORDS | set(QUANTITY_WORDS), key=len, reverse=True)
_FIRST = "".join(sorted({w[0] for w in _ALL_WORDS} | {w[0].upper() for w in _ALL_WORDS}))
# The lookahead on first letters keeps this alternation cheap on long abstracts.
_TOKEN = re.compile(
    r"(?P<num>(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|(?<![\w.])\d+(?:\.\d+)?%?)"
    rf"|(?P<word>(?<![A-Za-z])(?=[{_FIRST}])(?:{'|'.join(_ALL_WORDS)})(?![A-Za-z]))",
    re.IGNORECASE)
_JOIN = re.compile(r"[\s-]+")
_QTY = set(QUANTITY_WORDS)


@dataclass(frozen=True)
class NumberToken:
    text: str
    start: int
    end: int
    kind: str  # "num" | "word" | "qty"
    value: float | None  # None for quantity words

    @property
    def is_percent(self) -> bool:
        return self.text.endswith("%")


def _words_value(text: str) -> float | None:
    total, current = 0, 0
    parts = re.split(r"[\s-]+", text.lower())
    for p in parts:
        if p in _UNITS:
            current += _UNITS[p]
        elif p in _TENS:
            current += _TENS[p]
        elif p in _TIMES:
            current += _TIMES[p]
        elif p in _SCALES:
            current = max(current, 1) * _SCALES[p]
            if _SCALES[p] >= 1000:
                total += current
                current = 0
        else:
            return None
    return float(total + current)


def find_numbers(text: str) -> list[NumberToken]:
    """Every number token in text, in order; "twenty-one" and "fifty one" are one token."""
    out: list[NumberToken] = []
    pending: list[re.Match[str]] = []

    def flush() -> None:
        if pending:
            start, end = pending[0].start(), pending[-1].end()
            raw = text[start:end]
            out.append(NumberToken(raw, start, end, "word", _words_value(raw)))
            pending.clear()

    for m in _TOKEN.finditer(text):
        if m.group("num"):
            flush()
            raw = m.group(0)
            out.append(NumberToken(raw, m.start(), m.end(), "num",
                                   float(raw.rstrip("%").replace(",", ""))))
            continue
        low = m.group(0).lower()
        if low in _NUMBER_WORDS and low not in _QTY:
            if pending and not _JOIN.fullmatch(text[pending[-1].end():m.start()]):
                flush()
            pending.append(m)
            continue
        flush()
        if low in _QTY:
            out.append(NumberToken(m.group(0), m.start(), m.end(), "qty", None))
    flush()
    return out


# A digit run right after letters ("EASI75") is not caught by the lookbehind above, so the
# source side also indexes those; the draft side never writes them.
_ANY_DIGITS = re.compile(r"\d+(?:\.\d+)?")


_COMPOUND = re.compile(rf"\b(?:{'|'.join(_TENS)})[\s-]+(?:{'|'.join(_UNITS)})\b", re.I)
_WORDS = re.compile(r"[a-z]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def source_values(texts: list[str]) -> tuple[set[float], set[str]]:
    """Numeric values and quantity words found anywhere in the source texts.

    Cheaper than ``find_numbers`` (no spans are needed): every digit run counts, including
    those glued to letters ("EASI75", "JAK1"), and every number word counts on its own.
    """
    values: set[float] = set()
    words: set[str] = set()
    for text in texts:
        if not text:
            continue
        flat = _THOUSANDS.sub("", text)
        values.update(float(x) for x in _ANY_DIGITS.findall(flat))
        present = set(_WORDS.findall(text.lower()))
        for w in present & _NUMBER_WORDS:
            v = _words_value(w)
            if v is not None:
                values.add(v)
        words.update(present & _QTY)
        if present & set(_TENS):
            values.update(v for m in _COMPOUND.finditer(text)
                          if (v := _words_value(m.group(0))) is not None)
    return values, words


@dataclass
class Derivations:
    """Numbers the templates computed, each with the rule and the inputs it came from."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def log(self, text: str, rule: str, inputs: str) -> str:
        entry = {"text": text, "rule": rule, "from": inputs}
        if entry not in self.items:
            self.items.append(entry)
        return text

    def surfaces(self) -> set[str]:
        out: set[str] = set()
        for item in self.items:
            for tok in find_numbers(item["text"]):
                if tok.kind == "qty":
                    out.add(tok.text.lower())
        return out


# Only fractions whose words carry no second number, so the log maps one word to one share.
_FRACTION_WORDS = {Fraction(1, 2): "half", Fraction(1, 3): "a third", Fraction(1, 4): "a quarter"}


def share_words(count: int, total: int, log: Derivations) -> str:
    """ "all 6", "none of the 6", "3 of the 6 (half)", "4 of the 9" — logged when words are added."""
    if total <= 0 or count < 0 or count > total:
        raise ValueError(f"bad share {count}/{total}")
    if count == total:
        log.log("all", "count equals total", f"{count}/{total}")
        return f"all {total}"
    if count == 0:
        log.log("none", "count is zero", f"{count}/{total}")
        return f"none of the {total}"
    phrase = f"{count} of the {total}"
    word = _FRACTION_WORDS.get(Fraction(count, total))
    if word:
        log.log(word, "exact fraction", f"{count}/{total}")
        phrase += f" ({word})"
    return phrase


def check_provenance(draft: str, values: set[float], words: set[str],
                     derivations: Derivations) -> tuple[list[dict[str, Any]], list[NumberToken]]:
    """Map each number token in draft; return (records, unmapped tokens)."""
    derived = derivations.surfaces()
    records: list[dict[str, Any]] = []
    unmapped: list[NumberToken] = []
    for tok in find_numbers(draft):
        low = tok.text.lower()
        if low in derived:
            where = "derivation"
        elif tok.value is not None and tok.value in values or tok.value is None and low in words:
            where = "source"
        else:
            unmapped.append(tok)
            where = "unmapped"
        records.append({"token": tok.text, "at": tok.start, "value": tok.value, "maps_to": where})
    return records, unmapped
