"""``newsflow queue``: the review queue from the command line (same functions as the web UI)."""

from __future__ import annotations

import os
from typing import Any

import click

from newsflow import accounts, review
from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.errors import NewsflowError
from newsflow.models import DraftRecord, User
from newsflow.store import review as queue_store


def _actor(ctx: click.Context, username: str | None) -> User:
    name = username or os.environ.get("NEWSFLOW_USER")
    if not name:
        raise click.UsageError("say who is acting: --as USER (or set NEWSFLOW_USER)")
    return accounts.require_user(get_app(ctx).store, name)


def draft_json(d: DraftRecord) -> dict[str, Any]:
    return {"id": d.id, "state": d.state, "version": d.version, "title": d.title,
            "doi": d.doi, "pmid": d.pmid, "paper_id": d.paper_id, "design": d.design,
            "assignee": d.assignee, "priority": d.priority, "banner": d.banner,
            "reject_reason": d.reject_reason, "approved_by": d.approved_by,
            "human_edited": d.human_edited, "body_markdown": d.body_markdown,
            "checks": [c.to_json() for c in d.checks],
            "blocking_failures": d.blocking_failures, "sources": d.sources}


@click.group("queue", cls=NewsflowGroup)
def queue_group() -> None:
    """List, inspect and act on drafts awaiting review.

    Example: newsflow queue list --state in_review --json
    """


@queue_group.command("list")
@click.option("--state", default="open", show_default=True,
              help="open (new, in_review, changes_requested), all, or one state.")
@click.option("--source", help="Only drafts whose paper came from this source.")
@click.option("--design", help="Only this study design, e.g. rct.")
@click.option("--relevance", type=click.Choice(["relevant", "not_relevant"]))
@click.option("--failing", is_flag=True, help="Only drafts with a failing blocking check.")
@click.option("--assigned-to", "assignee", help="Only drafts assigned to this user.")
@click.option("--search", "q", help="Title words, a DOI or a PMID.")
@click.option("--sort", type=click.Choice(queue_store.SORTS), default="newest",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--after", help="Cursor printed at the end of the previous page.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of drafts.")
@click.pass_context
def queue_list(ctx: click.Context, state: str, source: str | None, design: str | None,
               relevance: str | None, failing: bool, assignee: str | None, q: str | None,
               sort: str, limit: int, after: str | None, as_json: bool) -> None:
    """List drafts in the queue.

    Example: newsflow queue list --failing --sort priority
    """
    f = queue_store.QueueFilter(state=state, source=source, design=design,
                                relevance=relevance, failing=failing, assignee=assignee, q=q,
                                sort=sort)
    items, nxt = queue_store.queue_page(get_app(ctx).store, f, after=after, limit=limit)
    if as_json:
        echo_json([it.to_json() for it in items])
        return
    for it in items:
        flag = f" BLOCKED({it.blocking_failures})" if it.blocking_failures else ""
        ids = " ".join(x for x in (f"doi:{it.doi}" if it.doi else "",
                                   f"pmid:{it.pmid}" if it.pmid else "") if x)
        click.echo(f"#{it.id:<6} v{it.version:<3} {it.state:18} {it.title[:70]}{flag}  {ids}")
    if nxt:
        click.echo(f"-- more: --after '{nxt}'")


@queue_group.command("show")
@click.argument("draft_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def queue_show(ctx: click.Context, draft_id: int, as_json: bool) -> None:
    """Show one draft: state, version, checks and body.

    Example: newsflow queue show 12
    """
    d = review.load(get_app(ctx).store, draft_id)
    if as_json:
        echo_json(draft_json(d))
        return
    click.echo(f"#{d.id} {d.title}\nstate {d.state}, version {d.version}"
               f"{', assigned to ' + d.assignee if d.assignee else ''}")
    click.echo(f"paper: doi {d.doi or '-'}, pmid {d.pmid or '-'}")
    if d.banner:
        click.echo(f"!! {d.banner}")
    for c in d.checks:
        mark = "ok  " if c.passed else ("FAIL" if c.blocking else "warn")
        click.echo(f"  [{mark}] {c.name}{' (blocking)' if c.blocking else ''}: {c.detail}")
    click.echo("")
    click.echo(d.body_markdown)


def _act(ctx: click.Context, draft_id: int, action: str, version: int | None,
         username: str | None, as_json: bool, **kw: Any) -> None:
    app = get_app(ctx)
    actor = _actor(ctx, username)
    try:
        d = review.transition(app.store, draft_id, action, version=version, actor=actor, **kw)
    except NewsflowError as e:
        if as_json:
            echo_json({"id": draft_id, "ok": False, "error": str(e)})
            ctx.exit(e.exit_code)
        raise
    if as_json:
        echo_json({"id": d.id, "ok": True, "state": d.state, "version": d.version})
    else:
        click.echo(f"Draft {d.id} is now {d.state} (version {d.version}).")


_version = click.option("--version", "version", type=int, required=True,
                        help="The version you reviewed; refused if the draft changed since.")
_as = click.option("--as", "username", metavar="USER",
                   help="The account acting (default: $NEWSFLOW_USER).")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@queue_group.command("approve")
@click.argument("draft_id", type=int)
@_version
@_as
@click.option("--override", "override_reason", metavar="REASON",
              help="Admins only: approve despite failing blocking checks, for this reason.")
@_json
@click.pass_context
def queue_approve(ctx: click.Context, draft_id: int, version: int, username: str | None,
                  override_reason: str | None, as_json: bool) -> None:
    """Approve a draft in review.

    Example: newsflow queue approve 12 --version 3 --as erin
    """
    _act(ctx, draft_id, "approve", version, username, as_json, override_reason=override_reason)


@queue_group.command("reject")
@click.argument("draft_id", type=int)
@_version
@_as
@click.option("--reason", required=True, help="Why; shown to other editors.")
@_json
@click.pass_context
def queue_reject(ctx: click.Context, draft_id: int, version: int, username: str | None,
                 reason: str, as_json: bool) -> None:
    """Reject a draft (a reason is required).

    Example: newsflow queue reject 12 --version 3 --reason "not dermatology" --as erin
    """
    _act(ctx, draft_id, "reject", version, username, as_json, reason=reason)


@queue_group.command("reopen")
@click.argument("draft_id", type=int)
@_version
@_as
@_json
@click.pass_context
def queue_reopen(ctx: click.Context, draft_id: int, version: int, username: str | None,
                 as_json: bool) -> None:
    """Put a rejected or approved draft back in review.

    Example: newsflow queue reopen 12 --version 4 --as erin
    """
    _act(ctx, draft_id, "reopen", version, username, as_json)


@queue_group.command("start")
@click.argument("draft_id", type=int)
@_version
@_as
@_json
@click.pass_context
def queue_start(ctx: click.Context, draft_id: int, version: int, username: str | None,
                as_json: bool) -> None:
    """Move a new draft into review.

    Example: newsflow queue start 12 --version 1 --as erin
    """
    _act(ctx, draft_id, "start_review", version, username, as_json)
