from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsflow import clock
from newsflow.cli import cli
from newsflow.errors import StoreError
from newsflow.models import Relevance
from newsflow.store import Store
from newsflow.store.enrichment import (
    get_relevance,
    save_relevance,
    set_relevance_override,
)
from newsflow.store.schema import audit_events, papers


def add_paper(store: Store, **values: object) -> int:
    now = clock.utcnow()
    row: dict[str, object] = {
        "title": "A paper", "abstract_sections": [], "authors": [], "publication_types": [],
        "mesh_terms": [], "keywords": [], "grants": [], "updates": [], "field_sources": {},
        "created_at": now, "updated_at": now}
    row.update(values)
    with store.write() as c:
        return int(c.execute(sa.insert(papers).values(**row)).inserted_primary_key[0])


def test_relevance_round_trip_and_override(store: Store) -> None:
    pid = add_paper(store, doi="10.1080/09546634.2023.2242540", pmid="37555000")
    rel = Relevance(False, 0.25, ["term: 'skin' in abstract"], "human")
    save_relevance(store, pid, rel)
    assert get_relevance(store, pid) == (rel, None)
    with store.read() as c:
        assert c.execute(sa.select(papers.c.relevant)).scalar_one() is False

    set_relevance_override(store, pid, True, actor="ed", reason="eczema case series")
    save_relevance(store, pid, Relevance(False, 0.3, ["x"], "human"))  # re-classified later
    got, override = get_relevance(store, pid)
    assert override is True and got is not None and got.score == 0.3
    set_relevance_override(store, pid, None, actor="ed")
    assert get_relevance(store, pid)[1] is None
    with store.read() as c:
        events = c.execute(sa.select(audit_events.c.actor, audit_events.c.action,
                                     audit_events.c.detail).order_by(audit_events.c.id)).all()
    assert [(e.actor, e.action) for e in events] == [("ed", "paper_promoted"),
                                                     ("ed", "paper_override_cleared")]
    assert events[0].detail == {"paper_id": pid, "from": None, "to": True,
                                "reason": "eczema case series"}


def test_missing_paper_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="paper 99 does not exist"):
        save_relevance(store, 99, Relevance(True, 1.0, []))
    with pytest.raises(StoreError, match="paper 99 does not exist"):
        set_relevance_override(store, 99, True)


def test_cli_promote_and_demote(store: Store, db_url: str, tmp_path: Path) -> None:
    pid = add_paper(store, doi="10.1000/abc", pmid="111")
    save_relevance(store, pid, Relevance(False, 0.2, ["term: 'skin' in abstract"], "human"))
    cfg = tmp_path / "n.toml"
    cfg.write_text(f'database_url = "{db_url}"\n')
    run = CliRunner().invoke
    res = run(cli, ["--config", str(cfg), "papers", "promote", "10.1000/abc", "--by", "ann",
                    "--reason", "acne"])
    assert res.exit_code == 0, res.output
    assert f"Paper {pid} promoted to relevant (now relevant)." in res.output
    assert get_relevance(store, pid)[1] is True
    res = run(cli, ["--config", str(cfg), "papers", "demote", "111", "--json"])
    assert res.exit_code == 0, res.output
    assert '"relevant": false' in res.output and '"relevance_override": false' in res.output
    res = run(cli, ["--config", str(cfg), "papers", "demote", "111", "--undo"])
    assert "back to the classifier's decision (now not relevant)" in res.output
    res = run(cli, ["--config", str(cfg), "papers", "promote", "10.5/none"])
    assert res.exit_code == 1 and "no paper matches '10.5/none'" in res.output


def test_cli_help_has_examples() -> None:
    for cmd in ("promote", "demote"):
        res = CliRunner().invoke(cli, ["papers", cmd, "--help"])
        assert res.exit_code == 0 and "Example: newsflow papers " + cmd in res.output
