from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from newsflow.app import App
from newsflow.cli import cli
from newsflow.demo import DEMO_DATA, FEEDS
from newsflow.store import papers as sp
from newsflow.store.facts import load_facts


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
    merged = sp.get_paper(app.store, "10.1007/s13730-024-00883-1")
    assert set(merged.sources) == {"Pediatric Research (eTOC)", "PubMed: skin disease (demo)"}
    # The other eTOC item is a title-only teaser that the demo's PubMed search does not
    # return: enrichment found its record by DOI, and the later stages used it.
    enriched = sp.get_paper(app.store, "10.1038/s41390-024-03336-8")
    assert set(enriched.sources) == {"Pediatric Research (eTOC)", "enrich:pubmed"}
    assert enriched.pmid == "38909159" and enriched.abstract_sections[0].label == "BACKGROUND"
    assert enriched.field_sources["abstract"] == "enrich:pubmed"
    facts = load_facts(app.store, enriched.id)
    assert facts["design"].normalized == "systematic_review"
    assert facts["condition"].value == "dermatomyositis"
    lines = out["enrichment"]
    assert lines[0].startswith(f"Paper {enriched.id} (Cardiac evaluation") and "by pubmed" in lines[0]
    assert "design = Systematic Review" in lines[1]
    # every lookup stayed on the demo's own server, and none went to a publisher's page
    settings = app.settings
    local = out["config"] and settings["ncbi.base_url"].split("/eutils")[0]
    assert local.startswith("http://127.0.0.1:")
    assert all(settings[k].startswith(local) for k in
               ("ncbi.base_url", "europepmc.base_url", "crossref.base_url"))
    assert "landing" not in settings["enrich.steps"].split(",")
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
