"""``publish_due``: the publish job the CLI and the daemon run.

Each draft is published in its own write transaction: claim (approved → published),
write its files, record the snapshot, queue the webhook.  If a write fails the
transaction rolls back and the draft stays approved for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newsflow import review
from newsflow.clock import utcnow
from newsflow.errors import NewsflowError, PublishError
from newsflow.models import Article
from newsflow.publish import article as art
from newsflow.publish import feed, files, render
from newsflow.publish.transition import mark_published
from newsflow.publish.webhooks import DeliveryReport, deliver_due, enqueue_event
from newsflow.store import publish as db

if TYPE_CHECKING:
    import sqlalchemy as sa

    from newsflow.app import App

log = logging.getLogger(__name__)


@dataclass
class PublishReport:
    published: list[Article] = field(default_factory=list)
    updated: list[Article] = field(default_factory=list)
    withdrawn: list[Article] = field(default_factory=list)
    unchanged: int = 0
    embargoed: list[tuple[int, dt.datetime]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    feed_path: Path | None = None
    feed_written: bool = False
    webhooks: DeliveryReport | None = None


def output_dir(app: App) -> Path:
    return Path(app.settings["publish.output_dir"]).resolve()


def publish_due(app: App, now: dt.datetime | None = None, *, deliver: bool = True) -> PublishReport:
    """Publish every approved draft whose embargo has passed; withdraw what must go."""
    now = now or utcnow()
    files.check_pattern(str(app.settings["publish.filename"]))
    report = PublishReport(embargoed=db.embargoed(app.store, now))
    for draft_id in db.due_draft_ids(app.store, now):
        try:
            _publish_one(app, draft_id, now, report)
        except NewsflowError as e:
            # One broken draft never stops the others; it stays approved and is retried.
            report.errors.append(f"draft {draft_id}: {e}")
            log.error("publishing draft %s failed: %s", draft_id, e)
    for draft_id, state, retracted, corrected in db.live_articles(app.store):
        try:
            if retracted:
                withdraw(app, draft_id, "retracted", now=now, report=report)
            elif state not in ("published", "approved"):
                withdraw(app, draft_id, "unpublished", now=now, report=report)
            elif corrected:
                _note_correction(app, draft_id, now, report)
        except NewsflowError as e:
            report.errors.append(f"draft {draft_id}: {e}")
            log.error("withdrawing draft %s failed: %s", draft_id, e)
    # The daemon runs this every tick: rebuild the feed only when an article changed (or the
    # feed is missing); `newsflow publish rebuild` applies template or setting changes.
    feed_path = output_dir(app) / "feed.xml"
    if report.published or report.updated or report.withdrawn or not feed_path.exists():
        write_feed(app, report)
    else:
        report.feed_path = feed_path
    if deliver:
        report.webhooks = deliver_due(app, now)
    return report


def _paths(app: App, a: Article) -> list[str]:
    name = files.base_name(str(app.settings["publish.filename"]), a)
    return [f"{name}.md", f"{name}.html", f"{name}.json"]


def _write_files(app: App, a: Article, old_paths: list[str]) -> list[str]:
    out = output_dir(app)
    paths = _paths(app, a)
    md, html, js = paths
    files.write_atomic(out / md, render.to_markdown(a).encode())
    files.write_atomic(out / html, render.to_html(
        a, app.settings["templates_dir"], app.settings["publish.feed_title"]).encode())
    files.write_atomic(out / js, render.to_json(a).encode())
    files.remove_stale(out, old_paths, paths)
    return paths


def _publish_one(app: App, draft_id: int, now: dt.datetime, report: PublishReport) -> None:
    base_url = str(app.settings["publish.base_url"])
    pattern = str(app.settings["publish.filename"])
    with app.store.read() as conn:
        inp = db.load_input(conn, draft_id)
    if inp is None:
        return
    if inp.state == "approved":
        if inp.retracted:
            report.errors.append(f"draft {draft_id}: its paper is retracted; not published")
            return
        # An override can approve a draft with open editor notes; readers must never see them.
        slot = review.EDITOR_SLOT.search(inp.title + "\n" + inp.body_markdown)
        if slot:
            report.errors.append(f"draft {draft_id}: has an open editor note {slot.group()!r}; "
                                 "fill it and approve again")
            return
        # The state change commits first; if the files below fail, the draft is published
        # without files and the next run (due_draft_ids) writes them.
        if not mark_published(app.store, draft_id, inp.version):
            return
    with app.store.write() as conn:
        db.lock_draft(conn, draft_id)
        inp = db.load_input(conn, draft_id)
        if inp is None or inp.state != "published":
            return
        prev = db.get_article(conn, draft_id)
        if prev is not None and (prev.draft_version or 0) >= inp.version:
            return  # another process wrote it meanwhile
        previous = prev.article if prev else None
        old_paths = prev.paths if prev else []
        a = art.build(inp, previous, now, base_url,
                      lambda x: files.base_name(pattern, x),
                      lambda slug: not db.slug_taken(conn, slug, draft_id))
        paths = _write_files(app, a, old_paths)
        if a is previous and paths == old_paths:
            db.mark_rendered(conn, draft_id, inp.version)
            report.unchanged += 1
            return
        db.save_article(conn, a, art.content_hash(a), paths)
        db.mark_rendered(conn, draft_id, inp.version)
        _event(conn, "published", a, now, correction=previous is not None)
    (report.updated if previous is not None else report.published).append(a)
    log.info("published draft %s as %s", draft_id, a.slug)


def _note_correction(app: App, draft_id: int, now: dt.datetime, report: PublishReport) -> None:
    with app.store.write() as conn:
        prev = db.get_article(conn, draft_id)
        if prev is None or prev.article.notice == art.CORRECTED_NOTICE:
            return
        a, old_paths = prev.article, prev.paths
        a.notice = art.CORRECTED_NOTICE
        a.updated = max(now.replace(microsecond=0), a.updated)
        paths = _write_files(app, a, old_paths)
        db.save_article(conn, a, art.content_hash(a), paths)
        _event(conn, "published", a, now, correction=True)
    report.updated.append(a)


def withdraw(app: App, draft_id: int, reason: str, *, now: dt.datetime | None = None,
             report: PublishReport | None = None) -> Article:
    """Mark a published article withdrawn: files and feed entry show the notice, not the text.

    ``reason`` is "retracted", "unpublished" or an editor's own words.
    """
    now = now or utcnow()
    with app.store.write() as conn:
        prev = db.get_article(conn, draft_id)
        if prev is None:
            raise PublishError(f"draft {draft_id} has no published article")
        old, old_paths = prev.article, prev.paths
        if old.status == "withdrawn":
            return old
        a = art.withdrawn(old, reason, now)
        paths = _write_files(app, a, old_paths)
        db.save_article(conn, a, art.content_hash(a), paths, withdrawn_reason=reason)
        _event(conn, "retracted", a, now, reason=reason)
    if report is not None:
        report.withdrawn.append(a)
    else:
        write_feed(app, None)
    log.info("withdrew draft %s (%s)", draft_id, reason)
    return a


def _event(conn: sa.Connection, event: str, a: Article, now: dt.datetime,
           **extra: object) -> None:
    payload = {"slug": a.slug, "title": a.title, "url": a.url, "id": a.feed_id,
               "status": a.status, "doi": a.doi, "pmid": a.pmid, "version": a.version,
               "updated": a.updated.isoformat() + "Z", **extra}
    enqueue_event(conn, event, a.draft_id, payload, now=now)


def rebuild(app: App) -> tuple[int, Path]:
    """Rewrite every article's files and the feed from the stored snapshots.

    For a template or publish.filename change; with neither, nothing on disk changes.
    Returns the number of articles whose files moved or changed.
    """
    changed = 0
    out = output_dir(app)
    with app.store.write() as conn:
        for st in db.snapshots(conn):
            a, old_paths = st.article, st.paths
            before = [(out / p).read_bytes() if (out / p).exists() else None for p in old_paths]
            paths = _write_files(app, a, old_paths)
            after = [(out / p).read_bytes() for p in paths]
            if paths != old_paths:
                db.set_paths(conn, a.draft_id, paths)
            if paths != old_paths or before != after:
                changed += 1
    return changed, write_feed(app, None)


def write_feed(app: App, report: PublishReport | None) -> Path:
    s = app.settings
    articles = db.feed_articles(app.store, int(s["publish.feed_entries"]))
    path = output_dir(app) / "feed.xml"
    data = feed.atom_feed(articles, title=s["publish.feed_title"], base_url=s["publish.base_url"],
                          author=s["publish.feed_author"])
    written = files.write_atomic(path, data)
    if report is not None:
        report.feed_path, report.feed_written = path, written
    return path
