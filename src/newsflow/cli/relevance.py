"""``newsflow papers promote`` / ``demote``: an editor overrules the relevance classifier."""

from __future__ import annotations

import getpass

import click

from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.errors import NewsflowError
from newsflow.store.enrichment import get_relevance, set_relevance_override
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


def register(cli: click.Group) -> None:
    """Add promote/demote to the ``papers`` group, creating the group if it is not there yet."""
    group = cli.commands.get("papers")
    if not isinstance(group, click.Group):
        group = NewsflowGroup("papers", help="Look at and correct papers.")
        cli.add_command(group)
    group.add_command(promote)
    group.add_command(demote)
