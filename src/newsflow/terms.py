"""Longest-match term lookup shared by drug recognition and the glossary.

Terms match on word boundaries.  A surface form with two or more capitals
("EASI", "IgA") matches case-sensitively, so the acronym IGA (Investigator's
Global Assessment) is never confused with the antibody IgA; other forms match
in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class TermMatch(Generic[T]):
    start: int
    end: int
    surface: str  # the text as it appears in the input
    term: str  # the registered form that matched
    payload: T


def _is_case_sensitive(form: str) -> bool:
    return sum(1 for c in form if c.isupper()) >= 2


def _pattern(forms: Iterable[str], flags: int) -> re.Pattern[str] | None:
    ordered = sorted(set(forms), key=lambda f: (-len(f), f))
    if not ordered:
        return None
    alts = "|".join(re.escape(f).replace(r"\ ", r"[\s\-]+") for f in ordered)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", flags)


_WORD = re.compile(r"\w+")


def _first_word(form: str) -> str:
    m = _WORD.search(form)
    return m.group(0) if m else ""


class TermIndex(Generic[T]):
    """Longest-match lookup of many surface forms.

    Matching tries the big alternation only where a text word equals the first word of
    some form, so its cost follows the number of such words, not the number of forms.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._exact: dict[str, tuple[str, T]] = {}
        self._folded: dict[str, tuple[str, T]] = {}
        for form, payload in entries:
            form = form.strip()
            if not form:
                continue
            if _is_case_sensitive(form):
                self._exact.setdefault(_norm(form), (form, payload))
            else:
                self._folded.setdefault(_norm(form).lower(), (form, payload))
        self._re_exact = _pattern((f for f, _ in self._exact.values()), 0)
        self._re_folded = _pattern((f for f, _ in self._folded.values()), re.IGNORECASE)
        self._first_exact = {_first_word(f) for f, _ in self._exact.values()}
        self._first_folded = {_first_word(f).lower() for f, _ in self._folded.values()}

    def __len__(self) -> int:
        return len(self._exact) + len(self._folded)

    def find_all(self, text: str) -> list[TermMatch[T]]:
        """Non-overlapping matches in text order; the longer match wins an overlap."""
        found: list[TermMatch[T]] = []
        words = set(_WORD.findall(text))
        exact_hit = bool(words & self._first_exact)
        folded_hit = bool({w.lower() for w in words} & self._first_folded)
        if not (exact_hit or folded_hit):  # most sentences: one set test, no regex
            return []
        for w in _WORD.finditer(text):
            word = w.group(0)
            if exact_hit and self._re_exact is not None and word in self._first_exact:
                self._try(self._re_exact, self._exact, False, text, w.start(), found)
            if folded_hit and self._re_folded is not None and \
                    word.lower() in self._first_folded:
                self._try(self._re_folded, self._folded, True, text, w.start(), found)
        found.sort(key=lambda t: (t.start, -(t.end - t.start)))
        out: list[TermMatch[T]] = []
        last_end = -1
        for t in found:
            if t.start >= last_end:
                out.append(t)
                last_end = t.end
        return out

    @staticmethod
    def _try(rx: re.Pattern[str], table: dict[str, tuple[str, T]], fold: bool, text: str,
             pos: int, found: list[TermMatch[T]]) -> None:
        m = rx.match(text, pos)
        if m is None:
            return
        key = _norm(m.group(0))
        hit = table.get(key.lower() if fold else key)
        if hit is not None:
            found.append(TermMatch(m.start(), m.end(), m.group(0), hit[0], hit[1]))

    def first(self, text: str) -> TermMatch[T] | None:
        hits = self.find_all(text)
        return hits[0] if hits else None


def _norm(s: str) -> str:
    return re.sub(r"[\s\-]+", " ", s).strip()
