"""``newsflow daemon`` and ``newsflow leases``."""

from __future__ import annotations

import click

from newsflow.app import App
from newsflow.cli.common import echo_json, get_app
from newsflow.clock import iso, utcnow
from newsflow.settings import load_settings
from newsflow.store import leases as store_leases


@click.command("daemon")
@click.option("--metrics-port", type=int, default=None, metavar="PORT",
              help="Serve /metrics and /healthz on this port (setting daemon.metrics_port).")
@click.pass_context
def daemon_cmd(ctx: click.Context, metrics_port: int | None) -> None:
    """Run the scheduler: poll each source on its interval, process, publish.

    Stops gracefully on SIGTERM or SIGINT; SIGHUP re-reads the config. Several daemons
    may share one PostgreSQL database: they split the work through leases.

    Example: newsflow --config /etc/newsflow/newsflow.toml daemon --metrics-port 9108
    """
    from newsflow import daemon

    app = get_app(ctx)
    if metrics_port is not None:
        s = app.settings
        overrides = {k: s.values[k] for k, o in s.origins.items() if o == "override"}
        overrides["daemon.metrics_port"] = metrics_port
        app = App(load_settings(s.config_path, overrides=overrides))
    ctx.exit(daemon.run(app))


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
