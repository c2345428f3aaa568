"""The Atom feed (RFC 4287) of published articles.

Entry ids are the tag: URIs minted at first publication, so a re-publish or a
correction never makes a reader show the article twice; ``updated`` moves only when
what readers see changed.  Withdrawn articles stay in the feed with their notice, so
readers who saw the article learn it was withdrawn.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from newsflow.clock import iso
from newsflow.models import Article
from newsflow.publish.render import body_html, shown_body

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def atom_feed(articles: list[Article], *, title: str, base_url: str, author: str) -> bytes:
    base = base_url.rstrip("/")
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", base + "/feed.xml")
    _el(feed, "title", title)
    # An empty feed still needs a fixed date, or every run would rewrite it.
    _el(feed, "updated", iso(max((a.updated for a in articles), default=None))
        or "1970-01-01T00:00:00Z")
    _el(feed, "link", rel="self", href=base + "/feed.xml", type="application/atom+xml")
    _el(feed, "link", rel="alternate", href=base + "/", type="text/html")
    _el(_el(feed, "author"), "name", author)
    _el(feed, "generator", "newsflow")
    for a in sorted(articles, key=lambda x: (x.updated, x.draft_id), reverse=True):
        withdrawn = a.status == "withdrawn"
        e = _el(feed, "entry")
        _el(e, "id", a.feed_id)
        _el(e, "title", ("Withdrawn: " if withdrawn else "") + a.title)
        _el(e, "link", rel="alternate", href=a.url, type="text/html")
        _el(e, "published", iso(a.published))
        _el(e, "updated", iso(a.updated))
        if a.reviewed_by:
            _el(_el(e, "contributor"), "name", a.reviewed_by)
        for t in a.tags:
            _el(e, "category", term=t)
        _el(e, "summary", a.notice if withdrawn else a.summary, type="text")
        html = body_html(shown_body(a))
        if a.notice:
            html = f"<p><strong>{'Withdrawn.' if withdrawn else 'Note.'}</strong> " \
                   f"{_escape(a.notice)}</p>\n" + html
        _el(e, "content", html, type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
