"""APA 7 reference for a paper, built only from its metadata."""

from __future__ import annotations

import re

from newsflow.models import Author, Paper

_INITIALS = re.compile(r"^[A-Z]{1,4}$")


def apa_author(author: Author) -> str:
    """'Yan Y' / 'Yan, Ying' / 'Ying Yan' → 'Yan, Y.'"""
    name = " ".join(author.name.split())
    if not name:
        return ""
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
    else:
        parts = name.split(" ")
        if len(parts) > 1 and _INITIALS.match(parts[-1]):
            last, first = " ".join(parts[:-1]), parts[-1]
            return f"{last}, {' '.join(c + '.' for c in first)}"
        if len(parts) == 1:
            return name
        last, first = parts[-1], " ".join(parts[:-1])
    initials = " ".join(f"{p[0]}." for p in re.split(r"[\s\-]+", first) if p)
    return f"{last}, {initials}" if initials else last


def apa_authors(authors: list[Author]) -> str:
    names = [n for n in (apa_author(a) for a in authors) if n]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) <= 20:
        return ", ".join(names[:-1]) + ", & " + names[-1]
    return ", ".join(names[:19]) + ", . . . " + names[-1]


def doi_url(doi: str | None) -> str | None:
    if not doi:
        return None
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.I)
    return f"https://doi.org/{doi}"


def apa_reference(paper: Paper) -> str:
    """Authors (Year). Title. *Journal*, *Volume*(Issue), pages. https://doi.org/…"""
    parts: list[str] = []
    who = apa_authors(paper.authors)
    year = (paper.pub_date or "")[:4]
    year_text = f"({year})" if year.isdigit() else "(n.d.)"
    parts.append(f"{who} {year_text}." if who else f"{year_text}.")
    title = paper.title.strip().rstrip(".")
    if title:
        parts.append(f"{title}.")
    if paper.journal:
        src = f"*{paper.journal.strip()}*"
        if paper.volume:
            src += f", *{paper.volume}*"
            if paper.issue:
                src += f"({paper.issue})"
        if paper.pages:
            src += f", {paper.pages.replace('-', '–')}"
        parts.append(src + ".")
    url = doi_url(paper.doi)
    if url:
        parts.append(url)
    return " ".join(parts)
