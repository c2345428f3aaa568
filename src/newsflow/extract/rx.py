"""Regexes behind a cheap keyword gate.

Most rules look for words that are absent from most sentences.  A substring test on
the lower-cased text is far cheaper than running an alternation at every position,
so each pattern first checks that one of its keywords occurs at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


class Gated:
    def __init__(self, pattern: str, keys: tuple[str, ...], flags: int = re.IGNORECASE) -> None:
        self.rx = re.compile(pattern, flags)
        self.keys = keys

    def _open(self, text: str) -> bool:
        low = text.lower()
        return any(k in low for k in self.keys)

    def search(self, text: str) -> re.Match[str] | None:
        return self.rx.search(text) if self._open(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text) if self._open(text) else iter(())

    def match(self, text: str) -> re.Match[str] | None:
        return self.rx.match(text) if self._open(text) else None


def gated(pattern: str, *keys: str, flags: int = re.IGNORECASE) -> Gated:
    return Gated(pattern, keys, flags)
