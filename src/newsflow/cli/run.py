"""``newsflow run``: one ingest pass, then processing of changed papers."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from newsflow.cli.common import echo_json, get_app
from newsflow.ingest import SourceResult
from newsflow.pipeline import RunReport, run_sources


@click.command("run")
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Run only this source (repeatable), due or not.")
@click.option("--all", "all_", is_flag=True, help="Run every enabled source, due or not.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.pass_context
def run_cmd(ctx: click.Context, names: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Fetch the sources that are due, store new papers, and process changed ones.

    A source that fails is recorded (see `newsflow sources`) and the run goes on.

    Examples: newsflow run --all --json    newsflow run --source "JAMA Dermatology"
    """
    app = get_app(ctx)
    if as_json:
        report = run_sources(app, names or None, all=all_)
        echo_json(report.to_json())
        return
    console = Console()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("sources", total=None)

        def progress(r: SourceResult, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=r.name[:40])

        report = run_sources(app, names or None, all=all_, progress=progress)
    print_report(console, report)


def print_report(console: Console, report: RunReport) -> None:
    data = report.to_json()
    if not data["sources"]:
        console.print("No source is due. Use --all to run every source now.")
    else:
        table = Table(title="Sources")
        for col in ("source", "status", "HTTP", "entries", "new", "updated", "error / problems"):
            table.add_column(col, overflow="fold")
        for r in report.source_results:
            note = r.error or "; ".join(r.problems)
            style = "red" if r.status == "failed" else None
            table.add_row(r.name, r.status, str(r.http_status or ""), str(r.entries), str(r.new),
                          str(r.updated), Text((note or "")[:200]), style=style)
        console.print(table)
    console.print(
        f"{data['sources']} sources: {data['fetched']} fetched, {data['not_modified']} not "
        f"modified, {data['failed']} failed; {data['entries_seen']} entries, "
        f"{data['papers_new']} new papers, {data['papers_updated']} updated; "
        f"{data['processing']['processed']} processed, {data['processing']['failed']} "
        "processing failures.", highlight=False)
