"""The SAX driver feedparser parses with: the stdlib's expat reader, text buffered.

feedparser takes its parser from ``xml.sax.make_parser(PREFERRED_XML_PARSERS)``.
By default that list names ``drv_libxml2``, which is not installed, so every parse
searched the import path for it and then fell back to the expat reader.  This is
that reader with expat's ``buffer_text`` on: a run of text comes to feedparser as
one piece instead of one per line end and entity (300,000 calls for 200 journal
feeds, about 8% of its parsing time; docs/benchmarks.md).  The parser, its
features and its handlers are otherwise the same; tests/test_parse_feeds.py checks
that every corpus feed parses to the same result either way.
"""

from __future__ import annotations

from typing import Any
from xml.sax.expatreader import ExpatParser


class BufferedExpatParser(ExpatParser):
    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True  # type: ignore[attr-defined]


def create_parser(*args: Any, **kwargs: Any) -> BufferedExpatParser:
    return BufferedExpatParser(*args, **kwargs)


def install() -> None:
    """Make feedparser, in this process, parse with this driver."""
    import feedparser.api
    feedparser.api.PREFERRED_XML_PARSERS[:] = [__name__]
