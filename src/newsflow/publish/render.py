"""Render an ``Article`` as Markdown with YAML front matter, a standalone HTML page and JSON.

Draft text is editor-approved but built from untrusted paper metadata, so Markdown is
rendered with raw HTML off and the result is sanitised again with nh3 before it is
marked safe in the autoescaped page template.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from newsflow.clock import iso
from newsflow.models import Article
from newsflow.settings import BUILTIN_TEMPLATES_DIR
from newsflow.store.publish import article_to_json

ALLOWED_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a",
                "blockquote", "code", "pre", "br", "hr"}
ALLOWED_ATTRS = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def body_html(markdown: str) -> str:
    html = _md.render(markdown)
    # A draft's own "# Title" would repeat the page's <h1>; demote headings one level.
    html = re.sub(r"<(/?)h([1-5])>", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}>", html)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRS, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow").strip()


def shown_body(a: Article) -> str:
    """A withdrawn article keeps its URL but no longer shows its text."""
    return "" if a.status == "withdrawn" else a.body_markdown


# -- Markdown + YAML front matter -------------------------------------------------------------

_YAML_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff]")


def _yaml(value: Any) -> str:
    """A YAML 1.1/1.2 scalar or flow list that Hugo, Jekyll (Psych) and Eleventy (js-yaml) read
    the same way: strings always double-quoted, timestamps bare RFC 3339."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso(value) or "null"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    text = json.dumps(str(value), ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def front_matter(a: Article) -> dict[str, Any]:
    return {
        "title": ("Withdrawn: " if a.status == "withdrawn" else "") + a.title,
        "date": a.published,
        "lastmod": a.updated,
        "slug": a.slug,
        "tags": a.tags,
        "summary": a.notice if a.status == "withdrawn" else a.summary,
        "doi": a.doi,
        "pmid": a.pmid,
        "source_journal": a.source_journal,
        "source_url": a.source_url,
        "evidence_level": a.evidence_level,
        "reviewed_by": a.reviewed_by,
        "url_canonical": a.url,
        "id": a.feed_id,
        "status": a.status,
        "notice": a.notice,
    }


def to_markdown(a: Article) -> str:
    lines = ["---", *(f"{k}: {_yaml(v)}" for k, v in front_matter(a).items()), "---", ""]
    if a.notice:
        lines += [f"> **{_notice_label(a)}** {_md_escape(a.notice)}", ""]
    body = shown_body(a)
    return "\n".join(lines) + (body if body else "")


def _notice_label(a: Article) -> str:
    return "Withdrawn." if a.status == "withdrawn" else "Note."


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)


# -- HTML -------------------------------------------------------------------------------------

def site_loader(site_dir: str) -> jinja2.BaseLoader:
    """The site's own templates (``templates_dir``) first, then the built-in ones."""
    dirs = [site_dir] if site_dir else []
    return jinja2.ChoiceLoader([jinja2.FileSystemLoader(d)
                                for d in [*dirs, str(BUILTIN_TEMPLATES_DIR)]])


@lru_cache(maxsize=8)
def _env(site_dir: str) -> jinja2.Environment:
    return jinja2.Environment(loader=site_loader(site_dir), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def to_html(a: Article, templates_dir: str | Path = "", site_name: str = "") -> str:
    template = _env(str(templates_dir))
    return template.get_template("site/article.html").render(
        a=a, body=Markup(body_html(shown_body(a))),
        published=iso(a.published), updated=iso(a.updated), site_name=site_name,
        withdrawn=a.status == "withdrawn")


# -- JSON -------------------------------------------------------------------------------------

def to_json(a: Article) -> str:
    data = article_to_json(a)
    data["published"] = iso(a.published)
    data["updated"] = iso(a.updated)
    data["body_markdown"] = shown_body(a)
    data["body_html"] = body_html(shown_body(a))
    if a.status == "withdrawn":
        data["summary"] = a.notice
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
