"""``newsflow papers promote|demote|enrich``: overrule the relevance classifier, retry
enrichment now; ``papers show`` gains an "enrichment" section."""

from __future__ import annotations

import asyncio
import getpass
from typing import Any

import click

from newsflow import clock
from newsflow.app import App
from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.cli.papers import SHOW_HOOKS
from newsflow.enrich import enrich_one
from newsflow.errors import NewsflowError
from newsflow.http import Fetcher
from newsflow.models import Paper
from newsflow.retraction import sync_marks
from newsflow.store import papers as store_papers
from newsflow.store.enrichment import get_enrich_state, get_relevance, set_relevance_override
from newsflow.store.papers import find_paper_id


def _resolve(ctx: click.Context, ref: str) -> int:
    app = get_app(ctx)
    paper_id = find_paper_id(app.store, ref)
    if paper_id is None:
        raise NewsflowError(f"no paper matches {ref!r} (give an id, a DOI or a PMID)")
    return paper_id


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _override(ctx: click.Context, ref: str, value: bool, undo: bool, reason: str | None,
              actor: str | None, as_json: bool) -> None:
    paper_id = _resolve(ctx, ref)
    store = get_app(ctx).store
    new = None if undo else value
    set_relevance_override(store, paper_id, new, actor=actor or _who(), reason=reason)
    rel, override = get_relevance(store, paper_id)
    effective = override if override is not None else bool(rel and rel.relevant)
    if as_json:
        echo_json({"paper_id": paper_id, "relevance_override": override,
                   "classifier": None if rel is None else {
                       "relevant": rel.relevant, "score": rel.score, "reasons": rel.reasons},
                   "relevant": effective})
        return
    what = {True: "promoted to relevant", False: "demoted to not relevant",
            None: "back to the classifier's decision"}[new]
    click.echo(f"Paper {paper_id} {what} (now {'relevant' if effective else 'not relevant'}).")


def _command(name: str, value: bool, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("ref", metavar="ID")
    @click.option("--undo", is_flag=True, help="Remove the override; the classifier decides.")
    @click.option("--reason", help="Why, for the audit log.")
    @click.option("--by", "actor", help="Who decided (default: the login name).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_context
    def run(ctx: click.Context, ref: str, undo: bool, reason: str | None, actor: str | None,
            as_json: bool) -> None:
        _override(ctx, ref, value, undo, reason, actor, as_json)
    return run


promote = _command("promote", True, """Mark a paper relevant although the classifier said no, so it gets drafted.

    ID is the internal id, a DOI or a PMID.

    Example: newsflow papers promote 10.1080/09546634.2023.2242540 --reason "acne study"
    """)
demote = _command("demote", False, """Mark a paper not relevant although the classifier said yes; it is kept, not drafted.

    ID is the internal id, a DOI or a PMID.

    Example: newsflow papers demote 38909159 --reason "cardiology focus"
    """)


@click.command("enrich")
@click.argument("ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def enrich_cmd(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Look a paper up now in PubMed, Europe PMC, Crossref and its landing page.

    Runs even if its retry is not due yet.  ID is the internal id, a DOI or a PMID.

    Example: newsflow papers enrich 10.1080/09546634.2023.2242540
    """
    paper_id = _resolve(ctx, ref)
    app = get_app(ctx)

    async def run() -> Any:
        async with Fetcher.from_settings(app.settings) as fetcher:
            return await enrich_one(app, fetcher, paper_id, force=True)
    result = asyncio.run(run())
    sync_marks(app.store, store_papers.get_paper(app.store, paper_id))
    if as_json:
        echo_json({"paper_id": paper_id, "status": result.status,
                   "missing_before": result.missing_before,
                   "missing_after": result.missing_after,
                   "steps": [{"step": s.step, "found": s.found, "note": s.note}
                             for s in result.steps],
                   "next_at": clock.iso(result.next_at)})
        return
    for step in result.steps:
        click.echo(f"  {step.line()}")
    when = f"; next try {clock.iso(result.next_at)}" if result.next_at else ""
    click.echo(f"Paper {paper_id}: {result.status}{when}.")


def _enrichment_section(app: App, paper: Paper) -> tuple[str, Any]:
    st = get_enrich_state(app.store, paper.id)
    return ("enrichment", {"status": st.status, "attempts": st.attempts,
                           "next_at": clock.iso(st.next_at), "error": st.error,
                           "field_sources": paper.field_sources,
                           "relevance_override": paper.relevance_override})


def register(cli: click.Group) -> None:
    """Add promote/demote to the ``papers`` group, creating the group if it is not there yet."""
    group = cli.commands.get("papers")
    if not isinstance(group, click.Group):
        group = NewsflowGroup("papers", help="Look at and correct papers.")
        cli.add_command(group)
    group.add_command(promote)
    group.add_command(demote)
    group.add_command(enrich_cmd)
    if _enrichment_section not in SHOW_HOOKS:
        SHOW_HOOKS.append(_enrichment_section)
