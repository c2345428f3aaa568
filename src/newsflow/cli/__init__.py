"""The ``newsflow`` command: a thin layer over the library.

Each command group lives in its own module and is registered at the bottom.
"""

from __future__ import annotations

import click

from newsflow import __version__
from newsflow.app import skip_final_gc
from newsflow.cli.common import LazyApp, NewsflowGroup, echo_json, get_app


@click.group(cls=NewsflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="NEWSFLOW_CONFIG", metavar="PATH",
              type=click.Path(dir_okay=False),
              help="Settings file (default: config/newsflow.toml; env NEWSFLOW_CONFIG).")
@click.version_option(__version__, prog_name="newsflow")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Turn new dermatology research into plain-language news drafts."""
    lazy = LazyApp(config_path)
    ctx.obj = lazy
    ctx.call_on_close(lazy.close)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database, or migrate it to the latest schema.

    Example: newsflow init
    """
    app = get_app(ctx)
    before, after = app.open_store_for_init().migrate()
    if before == after:
        click.echo(f"Database is up to date (revision {after}).")
    elif before is None:
        click.echo(f"Created database at revision {after}.")
    else:
        click.echo(f"Migrated database from revision {before} to {after}.")


@cli.group("config", cls=NewsflowGroup)
def config_group() -> None:
    """Inspect settings."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print the effective settings and where each came from.

    Secrets are never printed, only whether they are set.
    """
    app = get_app(ctx)
    s = app.settings
    values = s.public()
    if as_json:
        echo_json({"config_file": str(s.config_path) if s.config_path else None,
                   "settings": values,
                   "sources": [src.name for src in s.sources]})
        return
    click.echo(f"# config file: {s.config_path or '(built-in defaults)'}")
    for name, value in values.items():
        origin = s.origins.get(name, "derived")
        click.echo(f"{name} = {value!r}    # {origin}")
    click.echo(f"# {len(s.sources)} sources from {s.sources_path}")


def main() -> None:
    skip_final_gc()
    cli(prog_name="newsflow")


# Command modules register themselves here, one line each.
from newsflow.cli.run import run_cmd  # noqa: E402

cli.add_command(run_cmd)
from newsflow.cli.sources import sources_cmd  # noqa: E402

cli.add_command(sources_cmd)
from newsflow.cli.papers import papers_group  # noqa: E402

cli.add_command(papers_group)
from newsflow.cli.demo import demo_cmd  # noqa: E402

cli.add_command(demo_cmd)
from newsflow.cli.publish import publish_group  # noqa: E402

cli.add_command(publish_group)
from newsflow.cli.users import users_group  # noqa: E402

cli.add_command(users_group)
from newsflow.cli.queue import queue_group  # noqa: E402

cli.add_command(queue_group)
from newsflow.cli.serve import serve  # noqa: E402

cli.add_command(serve)
from newsflow.cli import relevance as _relevance  # noqa: E402

_relevance.register(cli)  # after any "papers" group, so promote/demote join it
from newsflow.cli.daemon import daemon_cmd, leases_cmd  # noqa: E402

cli.add_command(daemon_cmd)
cli.add_command(leases_cmd)
from newsflow.cli.drafts import drafts_group  # noqa: E402

cli.add_command(drafts_group)
