"""``newsflow papers list|show``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from newsflow import clock
from newsflow.cli import paper_facts
from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.models import Paper
from newsflow.store import facts as store_facts
from newsflow.store import papers as store_papers

# Other areas add sections to `papers show` (e.g. extracted facts): each hook gets the
# app and the paper and returns (title, data) or None.
SHOW_HOOKS: list[Callable[[Any, Paper], tuple[str, Any] | None]] = []


def paper_json(paper: Paper) -> dict[str, Any]:
    data = dataclasses.asdict(paper)
    data["abstract"] = paper.abstract
    data["created_at"] = clock.iso(paper.created_at)
    data["updated_at"] = clock.iso(paper.updated_at)
    return data


@click.group("papers", cls=NewsflowGroup)
def papers_group() -> None:
    """List and inspect stored papers."""


@papers_group.command("list")
@click.option("--limit", default=50, show_default=True, help="How many papers.")
@click.option("--source", default=None, help="Only papers this source reported.")
@click.option("--search", default=None, help="Only papers whose title contains this text.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def papers_list(ctx: click.Context, limit: int, source: str | None, search: str | None,
                as_json: bool) -> None:
    """List papers, newest first.

    Example: newsflow papers list --limit 20 --source "JAMA Dermatology"
    """
    app = get_app(ctx)
    items = store_papers.list_papers(app.store, limit=limit, source=source, search=search)
    if as_json:
        echo_json([{"id": p.id, "title": p.title, "doi": p.doi, "pmid": p.pmid,
                    "journal": p.journal, "pub_date": p.pub_date, "sources": p.sources,
                    "created_at": clock.iso(p.created_at)} for p in items])
        return
    table = Table(title=f"{len(items)} papers")
    for col in ("id", "date", "journal", "title", "DOI / PMID", "sources"):
        table.add_column(col, overflow="fold")
    for p in items:
        table.add_row(str(p.id), p.pub_date or "", Text((p.journal or "")[:30]),
                      Text(p.title[:90]),
                      Text(p.doi or (f"PMID {p.pmid}" if p.pmid else "")), str(len(p.sources)))
    Console().print(table)


@papers_group.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def papers_show(ctx: click.Context, key: str, as_json: bool) -> None:
    """Show one paper by internal id, DOI or PMID, with its relevance and extracted facts
    (each with the abstract sentence it came from).  The --json shape is documented in
    docs/papers-json.md.

    Examples: newsflow papers show 12    newsflow papers show 10.1001/jamadermatol.2024.1
    newsflow papers show 35067114 --json
    """
    app = get_app(ctx)
    paper = store_papers.get_paper(app.store, key)
    seen = store_papers.paper_source_rows(app.store, paper.id)
    found = store_facts.load_facts(app.store, paper.id)
    version = store_facts.extractor_version(app.store, paper.id)
    extras = [x for x in (hook(app, paper) for hook in SHOW_HOOKS) if x is not None]
    if as_json:
        data = paper_json(paper)
        data["seen_in"] = [{**r, "first_seen": clock.iso(r["first_seen"]),
                            "last_seen": clock.iso(r["last_seen"])} for r in seen]
        data.update(paper_facts.show_json(paper, found, version))
        for title, extra in extras:
            data[title] = extra
        echo_json(data)
        return
    out = Console(highlight=False)
    out.print(f"[bold]{escape(paper.title)}[/bold]")
    ids = ", ".join(f"{k.upper()} {v}" for k, v in
                    (("id", paper.id), ("doi", paper.doi), ("pmid", paper.pmid),
                     ("pmcid", paper.pmcid)) if v)
    out.print(ids, markup=False)
    if paper.journal:
        out.print(f"{paper.journal} {paper.pub_date or ''}".strip(), markup=False)
    if paper.authors:
        names = ", ".join(a.name for a in paper.authors[:8])
        out.print(names + (" et al." if len(paper.authors) > 8 else ""), markup=False)
    flags = [f for f, on in (("RETRACTED", paper.retracted), ("corrected", paper.corrected),
                             ("preprint", paper.is_preprint)) if on]
    if flags:
        out.print("[red]" + ", ".join(flags) + "[/red]")
    if paper.publication_types:
        out.print("Types: " + ", ".join(paper.publication_types), markup=False)
    out.print()
    for s in paper.abstract_sections:
        out.print((f"[bold]{escape(s.label)}:[/bold] " if s.label else "") + escape(s.text))
    out.print()
    out.print("Seen in:")
    for r in seen:
        out.print(f"  {r['source']} ({r['entry_id']}), first {clock.iso(r['first_seen'])}, "
                  f"last {clock.iso(r['last_seen'])}", markup=False)
    paper_facts.print_sections(out, paper, found, version)
    for title, extra in extras:
        out.print(f"\n[bold]{escape(title)}[/bold]")
        out.print(extra, markup=False)
