"""``newsflow serve``: run the review web UI with uvicorn."""

from __future__ import annotations

import click

from newsflow.cli.common import get_app


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port (default: web.port).")
@click.option("--with-daemon", is_flag=True,
              help="Also run the scheduler in this process (small installs).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, with_daemon: bool) -> None:
    """Serve the review queue in a browser.

    Example: newsflow serve --host 127.0.0.1 --port 8080 --with-daemon
    """
    import uvicorn

    from newsflow.web import create_app

    app = get_app(ctx)
    app.store  # noqa: B018  (fail now, with the message, if the database is not initialised)
    h = host or app.settings["web.host"]
    p = port or app.settings["web.port"]
    click.echo(f"Review queue at http://{h}:{p}/ (Ctrl+C to stop)")
    asgi = create_app(app)
    if with_daemon:
        from newsflow.daemon import with_daemon as wrap
        from newsflow.logs import setup_logging

        setup_logging(app.settings)
        asgi = wrap(asgi, app)
    uvicorn.run(asgi, host=h, port=p, log_level="warning", access_log=False,
                server_header=False)


def _register_demo_hook() -> None:
    from newsflow.demo import UI_HOOKS
    from newsflow.web.demo import demo_steps

    if demo_steps not in UI_HOOKS:
        UI_HOOKS.append(demo_steps)


_register_demo_hook()
