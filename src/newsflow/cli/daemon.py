"""``newsflow leases`` (and, once the pipeline lands, ``newsflow daemon``)."""

from __future__ import annotations

import click

from newsflow.cli.common import echo_json, get_app
from newsflow.clock import iso, utcnow
from newsflow.store import leases as store_leases


@click.command("leases")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def leases_cmd(ctx: click.Context, as_json: bool) -> None:
    """List work claims: which daemon holds which source poll or paper, until when.

    An expired claim is free for any daemon to take.

    Example: newsflow leases --json
    """
    app = get_app(ctx)
    now = utcnow()
    rows = [{"key": x.key, "owner": x.owner, "acquired_at": iso(x.acquired_at),
             "expires_at": iso(x.expires_at), "expired": x.expires_at <= now}
            for x in store_leases.list_leases(app.store)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No leases.")
        return
    for r in rows:
        state = "expired" if r["expired"] else f"until {r['expires_at']}"
        click.echo(f"{r['key']}  {r['owner']}  {state}")
