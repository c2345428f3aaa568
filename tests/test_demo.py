from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from newsflow.app import App
from newsflow.cli import cli
from newsflow.demo import DEMO_DATA, FEEDS
from newsflow.store import papers as sp


def test_demo_runs_offline_and_merges_feed_with_pubmed(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    report = out["report"]
    assert (report["sources"], report["failed"]) == (4, 0)
    assert report["papers_new"] >= 45 and report["processing"]["failed"] == 0
    assert any("papers list" in line for line in out["next_steps"])
    app = App.from_config(out["config"])
    paper = sp.get_paper(app.store, "10.1038/s41390-024-03336-8")
    assert set(paper.sources) == {"Pediatric Research (eTOC)", "PubMed: skin disease (demo)"}
    assert paper.abstract_sections[0].label == "BACKGROUND"
    app.close()
    again = json.loads(runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo"),
                                           "--json"]).output)["report"]
    statuses = {r["name"]: r["status"] for r in again["source_results"]}
    assert all(statuses[name] == "not_modified" for name in FEEDS)
    assert again["papers_new"] == 0


def test_demo_data_has_provenance_for_every_file() -> None:
    provenance = (DEMO_DATA / "PROVENANCE.md").read_text()
    for f in DEMO_DATA.iterdir():
        if f.name != "PROVENANCE.md":
            assert f"`{f.name}`" in provenance
