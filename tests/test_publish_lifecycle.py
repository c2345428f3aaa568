"""Embargoes across restarts, retractions and withdrawals, and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import feedparser
import sqlalchemy as sa
import yaml
from bs4 import BeautifulSoup
from click.testing import CliRunner

from helpers.publishing import (
    BODY,
    T0,
    add_draft,
    add_paper,
    draft_state,
    make_app,
    set_draft,
    set_paper,
    split_front_matter,
)
from newsflow.cli import cli
from newsflow.publish import publish_due, withdraw
from newsflow.store import Store

NAME = "2026-11-20-upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck"


def test_embargo_holds_across_a_restart(store: Store, db_url: str, tmp_path: Path) -> None:
    until = T0 + dt.timedelta(hours=6)
    did = add_draft(store, add_paper(store), embargo_until=until)
    first = make_app(store, tmp_path)
    r = publish_due(first, now=T0, deliver=False)
    assert r.published == [] and r.embargoed == [(did, until)]
    assert not (tmp_path / f"{NAME}.md").exists()
    # A daemon restart: a fresh store and app on the same database.
    restarted = make_app(Store(db_url), tmp_path)
    try:
        assert publish_due(restarted, now=until - dt.timedelta(seconds=1),
                           deliver=False).published == []
        assert draft_state(restarted.store, did) == "approved"
        r = publish_due(restarted, now=until, deliver=False)
        assert [a.draft_id for a in r.published] == [did]
        assert r.published[0].published == until
    finally:
        restarted.store.dispose()
    head, _ = split_front_matter((tmp_path / f"{NAME}.md").read_text())
    assert yaml.safe_load(head)["date"].replace(tzinfo=None) == until


def test_retraction_updates_files_and_feed(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    pid = add_paper(store)
    did = add_draft(store, pid)
    publish_due(app, now=T0, deliver=False)
    entry_id = feedparser.parse(io.BytesIO((tmp_path / "feed.xml").read_bytes())).entries[0].id
    later = T0 + dt.timedelta(days=2)
    set_paper(store, pid, retracted=True)  # what enrichment records
    r = publish_due(app, now=later, deliver=False)
    assert [a.draft_id for a in r.withdrawn] == [did]

    head, body = split_front_matter((tmp_path / f"{NAME}.md").read_text())
    fm = yaml.safe_load(head)
    assert fm["status"] == "withdrawn"
    assert fm["title"].startswith("Withdrawn: Upadacitinib")
    assert "retracted" in fm["notice"] and fm["summary"] == fm["notice"]
    assert fm["lastmod"].replace(tzinfo=None) == later
    assert fm["date"].replace(tzinfo=None) == T0
    assert "Six people" not in body and "retracted" in body

    soup = BeautifulSoup((tmp_path / f"{NAME}.html").read_text(), "html.parser")
    assert "retracted" in soup.find(class_="notice").get_text()
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert "Six people" not in soup.get_text()

    data = json.loads((tmp_path / f"{NAME}.json").read_text())
    assert data["status"] == "withdrawn" and data["body_markdown"] == ""

    f = feedparser.parse(io.BytesIO((tmp_path / "feed.xml").read_bytes()))
    assert f.bozo == 0 and len(f.entries) == 1
    e = f.entries[0]
    assert e.id == entry_id and e.title.startswith("Withdrawn: ")
    assert dt.datetime(*e.updated_parsed[:6]) == later
    assert "retracted" in e.summary and "Six people" not in e.content[0].value
    # Running again changes nothing more.
    again = publish_due(app, now=later + dt.timedelta(days=1), deliver=False)
    assert again.withdrawn == [] and not again.feed_written


def test_unpublish_and_republish(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store))
    publish_due(app, now=T0, deliver=False)
    # Review sends a published draft back (e.g. a reader reported an error).
    set_draft(store, did, state="in_review")
    r = publish_due(app, now=T0 + dt.timedelta(hours=1), deliver=False)
    assert [a.status for a in r.withdrawn] == ["withdrawn"]
    assert "review" in (r.withdrawn[0].notice or "")
    # Approved again: live again with the same URL, id and first date.
    set_draft(store, did, state="approved")
    r = publish_due(app, now=T0 + dt.timedelta(hours=2), deliver=False)
    assert [a.status for a in r.updated] == ["live"] and r.updated[0].notice is None
    assert r.updated[0].published == T0
    fm = yaml.safe_load(split_front_matter((tmp_path / f"{NAME}.md").read_text())[0])
    assert fm["status"] == "live" and "Six people" in (tmp_path / f"{NAME}.md").read_text()


def test_paper_correction_adds_a_notice(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    pid = add_paper(store)
    add_draft(store, pid)
    publish_due(app, now=T0, deliver=False)
    set_paper(store, pid, corrected=True)
    r = publish_due(app, now=T0 + dt.timedelta(days=1), deliver=False)
    assert len(r.updated) == 1
    md = (tmp_path / f"{NAME}.md").read_text()
    assert "> **Note.** Correction: the journal has published a correction" in md
    assert "Six people" in md
    assert publish_due(app, now=T0 + dt.timedelta(days=2), deliver=False).updated == []


def test_editor_withdrawal_with_reason(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store))
    publish_due(app, now=T0, deliver=False)
    a = withdraw(app, did, "the dose was misreported", now=T0 + dt.timedelta(hours=3))
    assert a.notice == "This article has been withdrawn: the dose was misreported."
    f = feedparser.parse(io.BytesIO((tmp_path / "feed.xml").read_bytes()))
    assert f.entries[0].title.startswith("Withdrawn: ")


def _cfg(tmp_path: Path, store_url: str) -> Path:
    cfg = tmp_path / "newsflow.toml"
    cfg.write_text(f'database_url = "{store_url}"\nsources_file = "{tmp_path / "s.toml"}"\n'
                   f'[publish]\noutput_dir = "{tmp_path / "out"}"\n'
                   'base_url = "https://news.example.org/skin"\n')
    (tmp_path / "s.toml").write_text("")
    return cfg


def test_cli_embargo_publish_list(store: Store, db_url: str, tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, db_url)
    did = add_draft(store, add_paper(store))
    runner = CliRunner()
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "embargo", str(did),
                              "--until", "2999-01-01T09:00+02:00"])
    assert res.exit_code == 0, res.output
    assert "embargoed until 2999-01-01T07:00:00Z" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "publish"])
    assert res.exit_code == 0, res.output
    assert f"embargoed: draft {did} until 2999-01-01T07:00:00Z" in res.output
    assert "0 article(s) changed" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "embargo", str(did), "--clear"])
    assert res.exit_code == 0 and "embargo cleared" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "run", "--no-webhooks"])
    assert res.exit_code == 0, res.output
    assert f"published: draft {did} → upadacitinib-may" in res.output
    assert f"files in {tmp_path / 'out'}" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "list"])
    assert res.exit_code == 0
    md = [line.strip() for line in res.output.splitlines() if line.strip().endswith(".md")]
    assert len(md) == 1 and Path(md[0]).is_file()
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "embargo", str(did),
                              "--until", "tomorrow"])
    assert res.exit_code == 2 and "ISO 8601" in res.output
    res = runner.invoke(cli, ["--config", str(cfg), "publish", "embargo", str(did),
                              "--until", "2999-01-01"])
    assert res.exit_code == 1 and "is published" in res.output


def test_review_workflow_end_to_end(store: Store, tmp_path: Path) -> None:
    """Approve through review.py: the "approved" event is raised, the publish step goes
    through review's transition table (audited), and a retraction via review withdraws."""
    import sqlalchemy as sa

    from newsflow import review
    from newsflow.models import User
    from newsflow.store import review as qdb
    from newsflow.store.schema import webhook_events

    editor = User(id=1, username="erin", role="editor")
    app = make_app(store, tmp_path)
    pid = add_paper(store)
    did = add_draft(store, pid, state="in_review", approved_by=None)
    review.transition(store, did, "approve", version=1, actor=editor)
    r = publish_due(app, now=T0, deliver=False)
    assert [a.reviewed_by for a in r.published] == ["erin"]
    actions = [(e.actor, e.action) for e in qdb.list_audit(store, did)]
    assert ("erin", "approve") in actions and ("newsflow", "publish") in actions
    review.force_back_to_review(store, pid, "The journal retracted this study.")
    set_paper(store, pid, retracted=True)
    r = publish_due(app, now=T0 + dt.timedelta(days=1), deliver=False)
    assert [a.status for a in r.withdrawn] == ["withdrawn"]
    assert "retracted" in (r.withdrawn[0].notice or "")
    with store.read() as c:
        events = c.execute(sa.select(webhook_events.c.event).order_by(webhook_events.c.id))
        assert list(events.scalars()) == ["approved", "published", "retracted"]


def test_files_follow_a_manual_publish_but_not_before_the_embargo(store: Store,
                                                                   tmp_path: Path) -> None:
    """An editor may use review's own "publish" action; the files still wait for the embargo,
    and a run that stopped between the state change and the files is completed later."""
    until = T0 + dt.timedelta(hours=2)
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store), state="published", embargo_until=until)
    assert publish_due(app, now=T0, deliver=False).published == []
    assert not (tmp_path / f"{NAME}.md").exists()
    r = publish_due(app, now=until, deliver=False)
    assert [a.draft_id for a in r.published] == [did]
    assert (tmp_path / f"{NAME}.md").exists()
    assert publish_due(app, now=until + dt.timedelta(hours=1), deliver=False).published == []


def test_demo_step_publishes_a_clean_draft_or_plays_the_editor(store: Store,
                                                                tmp_path: Path) -> None:
    from newsflow.publish.demo import DEMO_NOTICE, demo_step
    from newsflow.store.schema import audit_events

    app = make_app(store, tmp_path / "ignored")
    assert "made no drafts" in demo_step(app, tmp_path)[0]
    blocked = add_draft(store, add_paper(store, doi="10.1/blocked", pmid="1"), state="new",
                        approved_by=None,
                        body=BODY + "\n[EDITOR (cost): Add what it costs.]\n")
    set_draft(store, blocked, blocking_failures=1)
    clean = add_draft(store, add_paper(store), state="new", approved_by=None)
    # A draft whose blocking checks all pass goes out as it is, ahead of the blocked one.
    lines = demo_step(app, tmp_path)
    assert lines[0].startswith(f"Published draft {clean}: Upadacitinib")
    files = [Path(line.strip()) for line in lines[1:4]]
    assert [p.suffix for p in files] == [".md", ".html", ".json"]
    assert all(p.is_file() and p.parent == (tmp_path / "site").resolve() for p in files)
    assert lines[4].endswith("feed.xml") and Path(lines[4].split(": ", 1)[1]).is_file()
    assert draft_state(store, blocked) == "new" and draft_state(store, clean) == "published"
    head, _ = split_front_matter(files[0].read_text())
    assert yaml.safe_load(head)["reviewed_by"] == "demo-editor"
    # With only a blocked draft left, the demo edits out the editor notes, says so in the
    # article, and approves through the admin override, which the audit log records.
    lines = demo_step(app, tmp_path)
    assert lines[0].startswith(f"Published draft {blocked}:")
    assert draft_state(store, blocked) == "published"
    md = Path(lines[1].strip()).read_text()
    assert "[EDITOR" not in md and DEMO_NOTICE in md
    with store.read() as c:
        actions = c.execute(sa.select(audit_events.c.action, audit_events.c.actor,
                                      audit_events.c.detail)
                            .where(audit_events.c.draft_id == blocked)
                            .order_by(audit_events.c.id)).all()
    assert [a.action for a in actions][:2] == ["start_review", "edited"]
    approve = next(a for a in actions if a.action == "approve")
    assert approve.actor == "demo-admin" and "newsflow demo" in approve.detail["override_reason"]


def test_review_and_publish_import_in_any_order() -> None:
    """review.py raises webhooks and publishing moves drafts through review.py: the two
    import each other, so each must work as the first import of a fresh interpreter."""
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parent.parent / "src")
    env = {**os.environ, "PYTHONPATH": src}
    for module in ("newsflow.review", "newsflow.publish", "newsflow.publish.webhooks",
                   "newsflow.publish.run", "newsflow.publish.transition"):
        res = subprocess.run([sys.executable, "-c", f"import {module}"], env=env,
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


def test_embargo_holds_across_a_restart_of_the_daemon_job(store: Store, db_url: str,
                                                          tmp_path: Path) -> None:
    """The daemon's own publish job, on real time: held before the embargo, by a first
    daemon and by a restarted one, and published by the first tick after it."""
    import time

    import pytest

    from newsflow.clock import utcnow

    daemon = pytest.importorskip("newsflow.daemon")
    until = utcnow().replace(microsecond=0) + dt.timedelta(seconds=6)
    did = add_draft(store, add_paper(store), embargo_until=until)

    def publish_job(app: object) -> object:
        job = next(j for j in daemon.periodic_jobs(make_app(store, tmp_path).settings)
                   if j.name == "publish")
        return job.fn(app)

    publish_job(make_app(store, tmp_path))
    assert draft_state(store, did) == "approved" and utcnow() < until
    restarted = make_app(Store(db_url), tmp_path)
    try:
        publish_job(restarted)
        assert draft_state(restarted.store, did) == "approved" and utcnow() < until
        assert not list(tmp_path.glob("*.md"))
        time.sleep(max(0.0, (until - utcnow()).total_seconds()) + 0.2)
        publish_job(restarted)
        assert draft_state(restarted.store, did) == "published"
        assert len(list(tmp_path.glob("*.md"))) == 1
    finally:
        restarted.store.dispose()


def test_two_daemons_publish_each_draft_once(store: Store, db_url: str, tmp_path: Path) -> None:
    import threading

    import sqlalchemy as sa

    from newsflow.store.schema import webhook_events

    ids = [add_draft(store, add_paper(store, doi=f"10.1/{i}", pmid=str(i)), title=f"Study {i}")
           for i in range(6)]
    stores = [Store(db_url), Store(db_url)]
    errors: list[str] = []

    def run(s: Store) -> None:
        r = publish_due(make_app(s, tmp_path), now=T0, deliver=False)
        errors.extend(r.errors)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert errors == []
    assert [draft_state(store, i) for i in ids] == ["published"] * 6
    with store.read() as c:
        events = c.execute(sa.select(webhook_events.c.draft_id)
                           .where(webhook_events.c.event == "published")).scalars().all()
    assert sorted(events) == ids
    assert len(list(tmp_path.glob("*.md"))) == 6
