"""`newsflow drafts …`: look at generated drafts (the review area adds the queue commands)."""

from __future__ import annotations

import click

from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.draft.stage import draft_stage
from newsflow.errors import NewsflowError
from newsflow.store import drafts as store_drafts


@click.group("drafts", cls=NewsflowGroup)
def drafts_group() -> None:
    """Show and (re)generate article drafts."""


@drafts_group.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def drafts_show(ctx: click.Context, ident: str, as_json: bool) -> None:
    """Show a draft by draft id, paper id, DOI or PMID.

    A bare number is tried as draft id, then paper id, then PMID; prefix it to be
    explicit (draft:, paper:, pmid:, doi:).

    Example: newsflow drafts show 10.1080/09546634.2023.2242540 --json
    """
    app = get_app(ctx)
    draft_id = store_drafts.resolve_draft_id(app.store, ident)
    data = store_drafts.get_draft(app.store, draft_id) if draft_id is not None else None
    if data is None:
        raise NewsflowError(f"no draft found for {ident!r}")
    if as_json:
        echo_json({k: data[k] for k in ("id", "paper", "state", "version", "template_version",
                                        "title", "body_markdown", "checks", "readability")})
        return
    click.echo(f"Draft {data['id']} (paper {data['paper']['id']}), state {data['state']}, "
               f"version {data['version']}, template {data['template_version']}")
    for c in data["checks"]:
        mark = "ok  " if c["passed"] else ("FAIL" if c["blocking"] else "warn")
        click.echo(f"  [{mark}] {c['name']}: {c['detail']}")
    click.echo("")
    click.echo(f"# {data['title']}\n")
    click.echo(data["body_markdown"])


@drafts_group.command("make")
@click.argument("paper_id", type=int)
@click.pass_context
def drafts_make(ctx: click.Context, paper_id: int) -> None:
    """Draft one paper now (normally `newsflow run` does this).

    Example: newsflow drafts make 12
    """
    app = get_app(ctx)
    result = draft_stage(app, paper_id)
    click.echo(", ".join(f"{k}={v}" for k, v in result.items()))
