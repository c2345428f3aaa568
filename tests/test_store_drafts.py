"""Generated drafts in the database (SQLite and PostgreSQL): idempotent, re-rendered when
templates change, never overwriting an editor's edit; `drafts show --json`."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from golden_regen import GOLDEN
from newsflow.app import App
from newsflow.cli import cli
from newsflow.clock import utcnow
from newsflow.draft import Drafter
from newsflow.draft.records import paper_from_json
from newsflow.draft.stage import draft_stage, has_enough_facts
from newsflow.models import Paper
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import drafts as sd
from newsflow.store.schema import draft_versions, drafts, facts, papers

DATA = Path(__file__).resolve().parent / "data"


def yan() -> Paper:
    return paper_from_json(json.loads((DATA / "yan2023_case_series.json").read_text()))


def insert_paper(store: Store, paper: Paper, *, relevant: bool = True) -> int:
    now = utcnow()
    with store.write() as conn:
        pid = conn.execute(papers.insert().values(
            title=paper.title, doi=paper.doi, pmid=paper.pmid,
            abstract_sections=[{"label": s.label, "text": s.text}
                               for s in paper.abstract_sections],
            authors=[{"name": a.name} for a in paper.authors], journal=paper.journal,
            volume=paper.volume, issue=paper.issue, pub_date=paper.pub_date,
            publication_types=paper.publication_types, mesh_terms=[], keywords=[], grants=[],
            updates=[], field_sources={}, relevant=relevant,
            relevance={"relevant": relevant, "score": 1.0, "reasons": [],
                       "population": "human"},
            created_at=now, updated_at=now).returning(papers.c.id)).scalar_one()
        for f in paper.facts.values():
            conn.execute(facts.insert().values(
                paper_id=pid, name=f.name, value=f.value, normalized=f.normalized,
                confidence=f.confidence, span_start=f.span[0], span_end=f.span[1],
                sentence=f.sentence))
    return pid


def drafter(tmp_path: Path | None = None, extra: str = "") -> Drafter:
    if tmp_path is None:
        return Drafter(config_files={"drugs.toml": GOLDEN / "drugs.toml"})
    site = tmp_path / "tpl" / "articles"
    site.mkdir(parents=True, exist_ok=True)
    base = (Path(__file__).resolve().parents[1] / "templates" / "articles" / "base.md.j2")
    (site / "base.md.j2").write_text(base.read_text() + extra)
    cfg = tmp_path / "newsflow.toml"
    cfg.write_text(f'templates_dir = "{site.parent}"\n')
    (tmp_path / "sources.toml").write_text("")
    return Drafter(load_settings(cfg), config_files={"drugs.toml": GOLDEN / "drugs.toml"})


def test_create_then_same_input_is_a_no_op(store: Store) -> None:
    paper = yan()
    pid = insert_paper(store, paper)
    loaded = sd.load_paper(store, pid)
    assert loaded is not None and loaded.facts.keys() == paper.facts.keys()
    content = drafter().draft(loaded)
    first = sd.save_generated(store, pid, content)
    assert first.action == "created" and first.version == 1
    again = sd.save_generated(store, pid, drafter().draft(sd.load_paper(store, pid)))  # type: ignore[arg-type]
    assert again == sd.SaveResult(first.draft_id, 1, "unchanged")
    shown = sd.get_draft(store, first.draft_id)
    assert shown is not None
    assert shown["state"] == "new" and shown["version"] == 1
    assert shown["template_version"] == content.template_version
    assert shown["body_markdown"] == content.body_markdown
    assert [c["name"] for c in shown["checks"]][0] == "number_provenance"
    assert shown["readability"]["fkgl"] == content.readability["fkgl"]
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(draft_versions)).scalar() == 1
        blocking = conn.execute(sa.select(drafts.c.blocking_failures)).scalar()
    assert blocking == sum(1 for c in content.checks if c.blocking and not c.passed)


def test_template_change_rerenders_unedited_drafts_only(store: Store, tmp_path: Path) -> None:
    p1, p2 = yan(), yan()
    p2.doi, p2.title = "10.1/other", "Another paper"
    id1, id2 = insert_paper(store, p1), insert_paper(store, p2)
    old = drafter()
    r1 = sd.save_generated(store, id1, old.draft(sd.load_paper(store, id1)))  # type: ignore[arg-type]
    r2 = sd.save_generated(store, id2, old.draft(sd.load_paper(store, id2)))  # type: ignore[arg-type]
    with store.write() as conn:  # what the review area does when an editor saves
        conn.execute(drafts.update().where(drafts.c.id == r2.draft_id)
                     .values(human_edited=True, body_markdown="Edited by a person."))
    new = drafter(tmp_path, extra="\nA new closing line from the site.\n")
    assert new.template_version != old.template_version
    n1 = sd.save_generated(store, id1, new.draft(sd.load_paper(store, id1)))  # type: ignore[arg-type]
    n2 = sd.save_generated(store, id2, new.draft(sd.load_paper(store, id2)))  # type: ignore[arg-type]
    assert n1 == sd.SaveResult(r1.draft_id, 2, "rerendered")
    assert n2 == sd.SaveResult(r2.draft_id, 1, "kept_human_edit")
    d1, d2 = sd.get_draft(store, r1.draft_id), sd.get_draft(store, r2.draft_id)
    assert d1 and d1["template_version"] == new.template_version
    assert "A new closing line from the site." in d1["body_markdown"]
    assert d2 and d2["body_markdown"] == "Edited by a person."
    assert [v["kind"] for v in sd.list_versions(store, r1.draft_id)] == ["auto", "rerender"]


def test_resolve_by_draft_id_paper_id_doi_and_pmid(store: Store) -> None:
    paper = yan()
    paper.pmid = "37555432"
    pid = insert_paper(store, paper)
    did = sd.save_generated(store, pid, drafter().draft(paper)).draft_id
    assert sd.resolve_draft_id(store, str(did)) == did
    assert sd.resolve_draft_id(store, f"paper:{pid}") == did
    assert sd.resolve_draft_id(store, "10.1080/09546634.2023.2242540") == did
    assert sd.resolve_draft_id(store, "https://doi.org/10.1080/09546634.2023.2242540") == did
    assert sd.resolve_draft_id(store, "37555432") == did
    assert sd.resolve_draft_id(store, "pmid:37555432") == did
    assert sd.resolve_draft_id(store, "draft:999") is None
    assert sd.resolve_draft_id(store, "nonsense") is None


def test_stage_skips_irrelevant_and_thin_papers(store: Store, tmp_path: Path) -> None:
    app = App(load_settings(None, load_sources=False), store=store)
    good = insert_paper(store, yan())
    off = yan()
    off.doi = "10.1/irrelevant"
    irrelevant = insert_paper(store, off, relevant=False)
    thin = yan()
    thin.doi = "10.1/thin"
    thin.facts = {k: v for k, v in thin.facts.items() if k in ("design", "sample_size")}
    assert not has_enough_facts(thin.facts)
    thin_id = insert_paper(store, thin)
    assert draft_stage(app, good)["action"] == "created"
    assert draft_stage(app, good)["action"] == "unchanged"
    assert draft_stage(app, irrelevant) == {"paper_id": irrelevant, "action": "skipped",
                                            "reason": "not relevant"}
    assert draft_stage(app, thin_id)["reason"] == "not enough facts"


def test_cli_drafts_show_json(store: Store, tmp_path: Path, db_url: str) -> None:
    pid = insert_paper(store, yan())
    did = sd.save_generated(store, pid, drafter().draft(yan())).draft_id
    cfg = tmp_path / "newsflow.toml"
    cfg.write_text(f'database_url = "{db_url}"\n')
    (tmp_path / "sources.toml").write_text("")
    res = CliRunner().invoke(cli, ["--config", str(cfg), "drafts", "show",
                                   "10.1080/09546634.2023.2242540", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert list(data) == ["id", "paper", "state", "version", "template_version", "title",
                          "body_markdown", "checks", "readability"]
    assert data["id"] == did and data["paper"]["id"] == pid and data["state"] == "new"
    assert set(data["checks"][0]) == {"name", "passed", "blocking", "detail"}
    assert data["readability"]["fkgl"] < 8
    missing = CliRunner().invoke(cli, ["--config", str(cfg), "drafts", "show", "draft:999"])
    assert missing.exit_code == 1 and "no draft found" in missing.output


def test_newsflow_run_pipeline_drafts_pending_relevant_papers(store: Store) -> None:
    from newsflow import pipeline

    assert [name for name, _ in pipeline.STAGES][-1] == "draft"
    app = App(load_settings(None, load_sources=False), store=store)
    pid = insert_paper(store, yan())
    with store.write() as conn:
        conn.execute(papers.update().where(papers.c.id == pid).values(content_hash="h1"))
    draft_only = [s for s in pipeline.STAGES if s[0] == "draft"]
    report = pipeline.process_pending(app, draft_only)
    assert (report.processed, report.failed) == (1, 0)
    did = sd.resolve_draft_id(store, f"paper:{pid}")
    assert did is not None
    shown = sd.get_draft(store, did)
    assert shown and shown["state"] == "new" and "6 people" in shown["title"]
    assert pipeline.process_pending(app, draft_only).processed == 0  # nothing changed
