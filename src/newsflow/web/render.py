"""Turning untrusted text into safe HTML for the review pages.

Everything from feeds, the web or an editor is either escaped or sanitised with nh3 and an
explicit allow-list; the helpers here return ``Markup`` only for HTML they built that way.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from newsflow.publish.render import body_html
from newsflow.store.review import SourceFact


def markdown_html(text: str) -> str:
    """Markdown → HTML exactly as the published page will show it: raw HTML off, then
    sanitised with nh3's allow-list."""
    return body_html(text or "")


_TAG_SPLIT = re.compile(r"(<[^>]*>)")
# Entities first, so the digits inside "&#39;" are never taken for a number.
_NUM_OR_ENTITY = re.compile(r"(&[#\w]+;)|((?<![\w.])\d+(?:[.,]\d+)*%?(?![\w]))")
_SLOT = re.compile(r"\[\s*EDITOR\b[^\]]*\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@dataclass
class Source:
    """Where a number in the draft came from: a sentence of the abstract."""

    start: int
    end: int
    sentence: str
    label: str


def _bare(token: str) -> str:
    return token.rstrip("%").replace(",", "")


def _provenance_source(entry: dict[str, Any], abstract: str) -> Source | None:
    span = entry.get("source_span") or entry.get("span")
    start = entry.get("source_start", span[0] if isinstance(span, list | tuple) else None)
    end = entry.get("source_end", span[1] if isinstance(span, list | tuple) else None)
    sentence = entry.get("sentence") or entry.get("source_sentence")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(abstract):
        return Source(start, end, sentence or abstract[start:end],
                      str(entry.get("field") or entry.get("fact") or "abstract"))
    if sentence:
        i = abstract.find(sentence)
        if i >= 0:
            return Source(i, i + len(sentence), sentence, "abstract")
        return Source(-1, -1, sentence, str(entry.get("field") or "metadata"))
    return None


def find_source(token: str, provenance: list[dict[str, Any]], facts: list[SourceFact],
                abstract: str, record: list[tuple[str, str]] | None = None) -> Source | None:
    """The drafting stage's provenance first, then a fact, then any abstract sentence, then
    the paper's bibliographic record (title, journal, date, volume, DOI …)."""
    bare = _bare(token)
    for entry in provenance:
        num = str(entry.get("number") or entry.get("text") or entry.get("token")
                  or entry.get("value") or "")
        if num and _bare(num) == bare:
            src = _provenance_source(entry, abstract)
            if src:
                return src
    pat = re.compile(rf"(?<![\d.]){re.escape(bare)}(?![\d])")
    for f in facts:
        if pat.search(f.value):
            return Source(f.span_start, f.span_end, f.sentence, f.name)
    for s, e in sentence_spans(abstract):
        if pat.search(abstract[s:e]):
            return Source(s, e, abstract[s:e], "abstract")
    for label, text in record or []:
        if text and pat.search(text):
            return Source(-1, -1, text, label)
    return None


def draft_html(body_markdown: str, provenance: list[dict[str, Any]], facts: list[SourceFact],
               abstract: str, record: list[tuple[str, str]] | None = None
               ) -> tuple[Markup, int]:
    """The draft as HTML, each number a button naming its source sentence; returns the HTML
    and how many numbers have no source at all."""
    safe = markdown_html(body_markdown)
    missing = 0
    out = []
    for part in _TAG_SPLIT.split(safe):
        if part.startswith("<"):
            out.append(part)
            continue

        def num(m: re.Match[str]) -> str:
            nonlocal missing
            if m.group(1):
                return m.group(1)
            token = m.group(2)
            src = find_source(token, provenance, facts, abstract, record)
            if src is None:
                missing += 1
                return (f'<button type="button" class="num unsupported" '
                        f'title="Not found in the source">{token}</button>')
            return (f'<button type="button" class="num" data-start="{src.start}" '
                    f'data-end="{src.end}" data-label="{escape(src.label)}" '
                    f'data-sentence="{escape(src.sentence)}" '
                    f'title="{escape(src.sentence)}">{token}</button>')

        part = _NUM_OR_ENTITY.sub(num, part)
        part = _SLOT.sub(lambda m: f'<span class="slot">{m.group(0)}</span>', part)
        out.append(part)
    return Markup("".join(out)), missing


def abstract_html(abstract: str, facts: list[SourceFact]) -> Markup:
    """The abstract, escaped, one span per sentence, with the fact spans marked."""
    out = []
    for s, e in sentence_spans(abstract):
        inner = []
        pos = s
        for f in sorted(facts, key=lambda f: f.span_start):
            if f.span_start < pos or f.span_end > e or f.span_start >= f.span_end:
                continue
            inner.append(str(escape(abstract[pos:f.span_start])))
            inner.append(f'<mark class="fact" tabindex="0" data-fact="{escape(f.name)}" '
                         f'data-start="{f.span_start}" data-end="{f.span_end}" '
                         f'data-sentence="{escape(f.sentence)}" '
                         f'title="{escape(f.name)}: {escape(f.value)}">'
                         f'{escape(abstract[f.span_start:f.span_end])}</mark>')
            pos = f.span_end
        inner.append(str(escape(abstract[pos:e])))
        text = "".join(inner)
        label = re.match(r"^([A-Z][A-Z /]+):\s", abstract[s:e])
        if label:
            cut = len(str(escape(label.group(0))))
            text = f'<strong class="label">{text[:cut]}</strong>{text[cut:]}'
        sep = "<br>" if e < len(abstract) and abstract[e:e + 1] == "\n" else " "
        out.append(f'<span class="sent" data-start="{s}" data-end="{e}">{text}</span>{sep}')
    return Markup("".join(out))


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> Markup:
    """A word-level diff of two texts as escaped HTML with <del>/<ins>.

    Changes separated only by whitespace are merged into one deletion and one insertion,
    so a rewritten sentence reads as old-then-new rather than word salad."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    chunks: list[list[str]] = []  # [equal_text, deleted, inserted]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = "".join(a[i1:i2])
            if chunks and not same.strip() and chunks[-1][0] == "" and (chunks[-1][1] or
                                                                       chunks[-1][2]):
                chunks[-1][1] += same
                chunks[-1][2] += same
            else:
                chunks.append([same, "", ""])
            continue
        if chunks and chunks[-1][0] == "":
            chunks[-1][1] += "".join(a[i1:i2])
            chunks[-1][2] += "".join(b[j1:j2])
        else:
            chunks.append(["", "".join(a[i1:i2]), "".join(b[j1:j2])])
    out = []
    for same, deleted, inserted in chunks:
        if same:
            out.append(str(escape(same)))
        if deleted:
            out.append(f"<del>{escape(deleted)}</del>")
        if inserted:
            out.append(f"<ins>{escape(inserted)}</ins>")
    return Markup("".join(out))


def editor_slots(body: str) -> list[str]:
    return _SLOT.findall(body)
