"""``newsflow demo``: run the pipeline offline on bundled samples."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from newsflow.cli.common import echo_json
from newsflow.cli.run import print_report
from newsflow.demo import DEFAULT_DIR, run_demo


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_DIR, show_default=True,
              help="Where the demo writes its config and database.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def demo_cmd(directory: Path, as_json: bool) -> None:
    """Run newsflow offline on bundled sample feeds, PubMed and Europe PMC answers.

    The samples are served from a local HTTP server; the demo keeps its own config and
    SQLite database in --dir and ignores --config.  Run it again to see 304s.

    Example: newsflow demo --dir /tmp/newsflow-demo
    """
    result = run_demo(directory)
    if as_json:
        echo_json({"config": str(result.config_path), "report": result.report.to_json(),
                   "enrichment": result.enrichment, "next_steps": result.next_steps})
        return
    console = Console()
    print_report(console, result.report)
    if result.enrichment:
        console.print("\nEnrichment (PubMed, Europe PMC and Crossref by DOI, served locally):",
                      highlight=False)
        for line in result.enrichment:
            console.print(line, highlight=False, markup=False)
    console.print(f"\nDemo config and database: {result.config_path.parent}", highlight=False)
    for line in result.next_steps:
        console.print(line, highlight=False, markup=False)
