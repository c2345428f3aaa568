"""What the parsers return, kept apart from them.

These cross the pipe from a parser process; unpickling them in the parent must
not import the parsers themselves (feedparser and the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsflow.models import PaperRecord


@dataclass
class FeedParse:
    records: list[PaperRecord]
    problems: list[str] = field(default_factory=list)
    version: str = ""
    title: str = ""


@dataclass
class SearchResult:
    ids: list[str]
    count: int = 0
    errors: list[str] = field(default_factory=list)  # fatal: the search did not run
    warnings: list[str] = field(default_factory=list)  # e.g. a phrase not found


@dataclass
class SearchPage:
    records: list[PaperRecord]
    hit_count: int = 0
    cursor: str | None = None  # the cursorMark this page was asked for
    next_cursor: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return bool(self.next_cursor) and self.next_cursor != self.cursor and bool(self.records)
