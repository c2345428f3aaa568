"""Fill a family template from a paper's facts, then gloss terms and run the checks.

Templates are looked up in the site's ``templates_dir``/articles first, then the built-in
templates/articles.  The *template version* is a hash of every template source in effect
plus the data files and renderer version that shape the text, so "same paper + same template
version → same draft" holds and any change re-renders drafts nobody has edited.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from newsflow.draft.checks import run_checks
from newsflow.draft.context import build_context
from newsflow.draft.glossary import SOURCE_HEADING, apply_glossary
from newsflow.draft.numbers import Derivations
from newsflow.draft.resources import Resources, load_resources
from newsflow.errors import TemplateError
from newsflow.models import DraftContent, Fact, Paper
from newsflow.settings import BUILTIN_TEMPLATES_DIR, Settings

# Bump when Python-side wording (context.py, glossary insertion) changes the output.
RENDERER_VERSION = "1"
_BAD_OUTPUT = re.compile(r"\(\s*\)|“\s*”|[ \t]{2,}\S|"
                         r"\s[,.;:](?!\d)|^\s*-\s*$", re.M)


def _finalize(value: Any) -> Any:
    if value is None:
        raise TemplateError("a template printed a missing value (None); test it with 'if'")
    if isinstance(value, str):
        # Paper text is untrusted: keep raw HTML out of the markdown.
        return value.replace("<", "&lt;").replace(">", "&gt;")
    return value


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


@dataclass
class TemplateSet:
    env: jinja2.Environment
    version: str
    dirs: list[Path]


def template_dirs(settings: Settings | None) -> list[Path]:
    dirs: list[Path] = []
    own = str(settings["templates_dir"]) if settings is not None else ""
    if own:
        base = Path(own)
        if not base.is_absolute() and settings is not None:
            base = settings.config_dir / base
        dirs.append(base / "articles" if (base / "articles").is_dir() else base)
    dirs.append(BUILTIN_TEMPLATES_DIR / "articles")
    return dirs


def _hash_sources(dirs: list[Path], data_files: list[Path]) -> str:
    h = hashlib.sha256(f"renderer {RENDERER_VERSION}\n".encode())
    effective: dict[str, Path] = {}
    for d in reversed(dirs):  # later (built-in) first, so the site's files override
        if d.is_dir():
            for p in sorted(d.glob("*.j2")):
                effective[p.name] = p
    for name in sorted(effective):
        h.update(name.encode() + b"\0" + effective[name].read_bytes() + b"\0")
    for p in data_files:
        h.update(p.name.encode() + b"\0" + (p.read_bytes() if p.exists() else b"") + b"\0")
    return h.hexdigest()[:16]


def load_templates(dirs: list[Path], data_files: list[Path]) -> TemplateSet:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs]),
        undefined=jinja2.StrictUndefined, autoescape=False, finalize=_finalize,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        # Changes are caught by the template version (stage.drafter_for), not per render.
        auto_reload=False)
    env.filters["cap"] = _cap
    return TemplateSet(env=env, version=_hash_sources(dirs, data_files), dirs=dirs)


DATA_FILES = ("glossary.toml", "hype_words.toml", "drugs.toml")


def data_files(settings: Settings | None,
               config_files: dict[str, Path] | None = None) -> list[Path]:
    def cfg(name: str) -> Path:
        if config_files and name in config_files:
            return config_files[name]
        if settings is not None:
            return settings.config_file(name)
        from newsflow.settings import BUILTIN_CONFIG_DIR
        return BUILTIN_CONFIG_DIR / name
    return [cfg(n) for n in DATA_FILES]


def current_template_version(settings: Settings | None,
                             config_files: dict[str, Path] | None = None) -> str:
    return _hash_sources(template_dirs(settings), data_files(settings, config_files))


class Drafter:
    """Renders drafts for one configuration; build it once and reuse it."""

    def __init__(self, settings: Settings | None = None, *,
                 config_files: dict[str, Path] | None = None) -> None:
        files = data_files(settings, config_files)
        self.resources: Resources = load_resources(*files)
        self.templates = load_templates(template_dirs(settings), files)

    @property
    def template_version(self) -> str:
        return self.templates.version

    def draft(self, paper: Paper, facts: dict[str, Fact] | None = None) -> DraftContent:
        facts = paper.facts if facts is None else facts
        log = Derivations()
        ctx = build_context(paper, facts, self.resources, log)
        template_name = ctx["family"]
        ctx["drug_name"] = _first_use(ctx["treatment_first"], ctx["treatment"])
        try:
            template = self.templates.env.get_template(f"{template_name}.md.j2")
            raw = template.render(ctx)
        except jinja2.TemplateError as e:
            raise TemplateError(f"template {template_name}: {e}") from e
        body = _tidy(raw)
        # The APA reference is exempt: its ". . ." for long author lists is correct style.
        # So are the authors' quoted words: "dropouts , adverse" is how the paper wrote it.
        prose_part = re.sub(r"“[^”]*”", "“…”", body.split(SOURCE_HEADING)[0])
        bad = [m.group(0).strip() or "empty bullet" for m in _BAD_OUTPUT.finditer(prose_part)]
        if bad:
            raise TemplateError(f"template {template_name} produced empty or broken text: "
                                f"{bad[:3]}")
        body, _ = apply_glossary(body, self.resources)
        title = ctx["headline"]
        checks, readability, provenance = run_checks(
            title, body, ctx, self.resources,
            source_texts(paper, facts) + ctx["reference_texts"], log)
        provenance = provenance + [{"derivation": d} for d in log.items]
        return DraftContent(title=title, body_markdown=body, template_name=template_name,
                            template_version=self.template_version, checks=checks,
                            readability=readability, provenance=provenance)


def _first_use(first: str | None, later: str | None) -> Callable[[], str | None]:
    used = [False]

    def name() -> str | None:
        if not used[0]:
            used[0] = True
            return first
        return later
    return name


def _tidy(text: str) -> str:
    lines = [ln.rstrip() for ln in text.split("\n")]
    out = "\n".join(lines).strip() + "\n"
    # Headings always stand in their own paragraph, whatever the template's whitespace.
    out = re.sub(r"\n*(\n## [^\n]*)\n*", r"\n\1\n\n", out)
    out = re.sub(r"([^\n])\n(## )", r"\1\n\n\2", out)
    # EDITOR notes stand alone so an editor can delete one without touching the prose.
    out = re.sub(r"([^\n])\n(\[EDITOR )", r"\1\n\n\2", out)
    out = re.sub(r"(\n\[EDITOR [^\n]*\])\n([^\n])", r"\1\n\n\2", out)
    return re.sub(r"\n{3,}", "\n\n", out)


def source_texts(paper: Paper, facts: dict[str, Fact]) -> list[str]:
    """What a number in a draft may come from: the paper and its bibliographic record.

    Extracted fact values are deliberately not included: a fact is only as good as the
    abstract text behind it, so a misread value must fail provenance.
    """
    del facts
    meta = [paper.title, paper.abstract, paper.doi or "", paper.pmid or "", paper.volume or "",
            paper.issue or "", paper.pages or "", paper.pub_date or "", paper.journal or "",
            paper.coi_statement or "", " ".join(paper.grants)]
    meta += [a.name for a in paper.authors]
    return meta
