"""``newsflow publish``: publish approved drafts, embargoes, withdrawals, webhooks, digests."""

from __future__ import annotations

import datetime as dt

import click

from newsflow.cli.common import NewsflowGroup, echo_json, get_app
from newsflow.clock import iso, utcnow
from newsflow.publish import deliver_due, publish_due, send_digest, withdraw
from newsflow.publish.run import PublishReport, output_dir, rebuild
from newsflow.store import publish as db
from newsflow.store import webhooks as wdb
from newsflow.store.digests import history


def parse_when(text: str) -> dt.datetime:
    """ISO 8601 date or date-time; an offset is converted, no offset means UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date or time, "
                                 "e.g. 2026-12-01T09:00Z") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _print_report(app_out: str, r: PublishReport) -> None:
    for label, items in (("published", r.published), ("updated", r.updated),
                         ("withdrawn", r.withdrawn)):
        for a in items:
            click.echo(f"{label}: draft {a.draft_id} → {a.slug}")
    for draft_id, until in r.embargoed:
        click.echo(f"embargoed: draft {draft_id} until {iso(until)}")
    for e in r.errors:
        click.echo(f"error: {e}", err=True)
    n = len(r.published) + len(r.updated) + len(r.withdrawn)
    click.echo(f"{n} article(s) changed, {r.unchanged} unchanged; files in {app_out}; "
               f"feed {r.feed_path}")
    if r.webhooks:
        w = r.webhooks
        click.echo(f"webhooks: {w.delivered} delivered, {w.retrying} to retry, {w.failed} failed")


@click.group("publish", cls=NewsflowGroup, invoke_without_command=True)
@click.option("--no-webhooks", is_flag=True, help="Queue webhooks but do not send them now.")
@click.pass_context
def publish_group(ctx: click.Context, no_webhooks: bool) -> None:
    """Publish approved drafts whose embargo has passed (same as `publish run`).

    Writes Markdown (with front matter), HTML and JSON per article to publish.output_dir
    and rewrites the Atom feed; withdraws articles whose paper was retracted.

    Example: newsflow publish
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, no_webhooks=no_webhooks)


@publish_group.command()
@click.option("--no-webhooks", is_flag=True, help="Queue webhooks but do not send them now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def run(ctx: click.Context, no_webhooks: bool, as_json: bool = False) -> None:
    """Publish approved drafts once (the daemon does this on a schedule).

    Example: newsflow publish run
    """
    app = get_app(ctx)
    r = publish_due(app, deliver=not no_webhooks)
    if as_json:
        echo_json({"output_dir": str(output_dir(app)), "feed": str(r.feed_path),
                   "published": [a.slug for a in r.published],
                   "updated": [a.slug for a in r.updated],
                   "withdrawn": [a.slug for a in r.withdrawn], "unchanged": r.unchanged,
                   "embargoed": [{"draft_id": i, "until": iso(u)} for i, u in r.embargoed],
                   "errors": r.errors})
    else:
        _print_report(str(output_dir(app)), r)
    if r.errors:
        ctx.exit(1)


@publish_group.command()
@click.argument("draft_id", type=int)
@click.option("--until", "until", metavar="ISO", help="Publish no earlier than this (UTC unless "
              "an offset is given).")
@click.option("--clear", is_flag=True, help="Remove the embargo.")
@click.pass_context
def embargo(ctx: click.Context, draft_id: int, until: str | None, clear: bool) -> None:
    """Hold a draft until a date and time; it is published at the first run after it.

    The embargo is stored on the draft, so it holds across daemon restarts.

    Example: newsflow publish embargo 42 --until 2026-12-01T09:00Z
    """
    if clear == (until is not None):
        raise click.UsageError("give either --until ISO or --clear")
    when = parse_when(until) if until else None
    db.set_embargo(get_app(ctx).store, draft_id, when)
    click.echo(f"draft {draft_id}: " + (f"embargoed until {iso(when)}" if when
                                        else "embargo cleared"))


@publish_group.command("withdraw")
@click.argument("ref")
@click.option("--reason", required=True, help="Shown to readers in the withdrawal notice.")
@click.pass_context
def withdraw_cmd(ctx: click.Context, ref: str, reason: str) -> None:
    """Withdraw a published article: its files and feed entry show a notice instead.

    REF is a draft id or the article's slug.

    Example: newsflow publish withdraw 42 --reason "the dose was misreported"
    """
    app = get_app(ctx)
    a = withdraw(app, db.draft_id_for(app.store, ref), reason)
    click.echo(f"withdrawn: {a.slug} ({a.notice})")


@publish_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List published articles and their files.

    Example: newsflow publish list --json
    """
    app = get_app(ctx)
    rows = db.list_articles(app.store)
    if as_json:
        echo_json(rows)
        return
    out = output_dir(app)
    for r in rows:
        click.echo(f"{r['draft_id']:>6}  {r['status']:<9} {iso(r['updated_at'])}  {r['slug']}")
        for p in r["paths"]:
            click.echo(f"        {out / p}")
    click.echo(f"{len(rows)} article(s)")


@publish_group.command("rebuild")
@click.pass_context
def rebuild_cmd(ctx: click.Context) -> None:
    """Rewrite every article file and the feed from what was published.

    Use after changing templates/site/ or publish.filename; otherwise nothing changes.

    Example: newsflow publish rebuild
    """
    changed, feed_path = rebuild(get_app(ctx))
    click.echo(f"{changed} article(s) rewritten; feed {feed_path}")


@publish_group.command("webhooks")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]),
              help="Only deliveries in this state.")
@click.option("--send", is_flag=True, help="Send the deliveries that are due now.")
@click.option("--retry-failed", is_flag=True, help="Queue failed deliveries again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def webhooks_cmd(ctx: click.Context, status: str | None, send: bool, retry_failed: bool,
                 as_json: bool) -> None:
    """Show the webhook delivery log (status, attempts, last error); optionally send or retry.

    Example: newsflow publish webhooks --status failed --retry-failed --send
    """
    app = get_app(ctx)
    if retry_failed:
        click.echo(f"{wdb.retry_failed(app.store, utcnow())} failed delivery(ies) queued again")
    if send:
        r = deliver_due(app)
        click.echo(f"sent: {r.delivered} delivered, {r.retrying} to retry, {r.failed} failed")
    rows = wdb.list_deliveries(app.store, status=status)
    if as_json:
        echo_json(rows)
        return
    for d in rows:
        click.echo(f"{d['id']:>6}  {d['event']:<10} draft {d['draft_id']}  {d['status']:<9} "
                   f"attempts {d['attempts']}  {d['url']}"
                   + (f"  last error: {d['last_error']}" if d["last_error"] else ""))


@publish_group.command("digest")
@click.option("--history", "show_history", is_flag=True, help="List digests already sent.")
@click.pass_context
def digest_cmd(ctx: click.Context, show_history: bool) -> None:
    """Send this period's editor digest to everyone who has not had it yet.

    Example: newsflow publish digest
    """
    app = get_app(ctx)
    if show_history:
        for h in history(app.store):
            click.echo(f"{iso(h['sent_at'])}  {h['status']:<8} {h['period_key']}  "
                       f"{h['recipient']}  {h['items'] or 0} item(s)"
                       + (f"  error: {h['error']}" if h["error"] else ""))
        return
    r = send_digest(app)
    if r.disabled:
        click.echo("e-mail is disabled: set smtp.host")
        return
    click.echo(f"period {r.period_key}: sent {len(r.sent)}, already sent "
               f"{len(r.already_sent)}, nothing to report {len(r.empty)}, "
               f"failed {len(r.failed)}")
    if r.failed:
        ctx.exit(1)
