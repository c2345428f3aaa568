"""Published files checked field by field: Markdown front matter, HTML, JSON, Atom."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup

from helpers.publishing import (
    BODY,
    T0,
    add_draft,
    add_paper,
    draft_state,
    make_app,
    set_draft,
    split_front_matter,
)
from newsflow.errors import ConfigError
from newsflow.publish import publish_due
from newsflow.publish.run import rebuild
from newsflow.store import Store

NAME = "2026-11-20-upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck"
URL = f"https://news.example.org/skin/{NAME}.html"


def test_markdown_front_matter_field_by_field(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path / "site")
    did = add_draft(store, add_paper(store))
    r = publish_due(app, now=T0, deliver=False)
    assert [a.draft_id for a in r.published] == [did] and r.errors == []
    assert draft_state(store, did) == "published"
    text = (tmp_path / "site" / f"{NAME}.md").read_text()
    head, body = split_front_matter(text)
    fm = yaml.safe_load(head)
    assert fm["title"] == "Upadacitinib may ease stubborn eczema on the face and neck"
    assert fm["date"].replace(tzinfo=None) == T0 and fm["lastmod"].replace(tzinfo=None) == T0
    assert fm["slug"] == "upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck"
    assert fm["tags"] == ["atopic dermatitis", "upadacitinib"]
    assert fm["summary"] == ("Struggling with eczema on the face and neck? A small study "
                             "suggests upadacitinib may help.")
    assert fm["doi"] == "10.1080/09546634.2023.2242540"
    assert fm["pmid"] == "37548209"
    assert fm["source_journal"] == "Journal of Dermatological Treatment"
    assert fm["evidence_level"] == "4"
    assert fm["reviewed_by"] == "erin"
    assert fm["status"] == "live" and fm["notice"] is None
    assert fm["url_canonical"] == URL
    assert fm["id"] == "tag:news.example.org,2026-11-20:" + fm["slug"]
    assert body.strip() == BODY.strip()
    # Dates are bare RFC 3339 timestamps, as Hugo, Jekyll and Eleventy all expect.
    assert "\ndate: 2026-11-20T09:30:00Z\n" in text


def test_front_matter_quotes_hostile_text(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    title = 'Yes: "no" #not-a-comment\n--- \u2028 & {x} [y] @z \x07'
    add_draft(store, add_paper(store, journal="J: Derm\n---"), title=title)
    a = publish_due(app, now=T0, deliver=False).published[0]
    head, _ = split_front_matter((tmp_path / f"2026-11-20-{a.slug}.md").read_text())
    fm = yaml.safe_load(head)
    assert fm["title"] == 'Yes: "no" #not-a-comment --- & {x} [y] @z'
    assert fm["source_journal"] == "J: Derm ---"
    assert a.slug == "yes-no-not-a-comment-x-y-z"


def test_html_page_is_escaped_and_sanitised(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    body = (BODY + "\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) "
            "<img src=x onerror=alert(3)> [ok](https://example.org/a)\n")
    add_draft(store, add_paper(store), title="Itch <b>relief</b> & more", body=body)
    a = publish_due(app, now=T0, deliver=False).published[0]
    html = (tmp_path / f"2026-11-20-{a.slug}.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.h1.get_text() == "Itch <b>relief</b> & more"
    assert soup.title.get_text() == "Itch <b>relief</b> & more | Skin research news"
    assert soup.find("link", rel="canonical")["href"] == a.url
    assert soup.find("meta", attrs={"name": "description"})["content"].startswith("Struggling")
    assert soup.find_all("script") == [] and soup.find_all("img") == []
    # Unsafe markup survives only as visible text, never as a link or an attribute.
    assert all(not a["href"].startswith("javascript") for a in soup.find_all("a"))
    assert not soup.find_all(attrs={"onerror": True})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert soup.find("a", string="ok")["href"] == "https://example.org/a"
    assert [h.get_text() for h in soup.find_all("h3")] == ["What did the study find?",
                                                            "How strong is the evidence?"]
    assert soup.find("strong", string="15 mg") is not None
    doi = soup.find("a", string="10.1080/09546634.2023.2242540")
    assert doi["href"] == "https://doi.org/10.1080/09546634.2023.2242540"
    assert soup.find("cite").get_text() == "Journal of Dermatological Treatment"
    assert soup.find(class_="evidence").get_text() == "4"
    assert [li.get_text() for li in soup.select(".tags li")] == ["atopic dermatitis",
                                                                 "upadacitinib"]
    assert soup.find("time")["datetime"] == "2026-11-20T09:30:00Z"
    assert "reviewed by erin" in soup.find(class_="meta").get_text()


def test_json_output_fields(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store, doi=None, evidence_level=None, drug=None))
    publish_due(app, now=T0, deliver=False)
    data = json.loads((tmp_path / f"{NAME}.json").read_text())
    assert data["draft_id"] == did and data["version"] == 2  # review's publish step bumps it
    assert data["title"] == "Upadacitinib may ease stubborn eczema on the face and neck"
    assert data["published"] == data["updated"] == "2026-11-20T09:30:00Z"
    assert data["doi"] is None and data["pmid"] == "37548209"
    assert data["evidence_level"] is None
    assert data["tags"] == ["atopic dermatitis"]
    assert data["status"] == "live" and data["notice"] is None
    assert data["url"] == URL and data["body_markdown"] == BODY
    assert data["body_html"].startswith("<p>Struggling with eczema")
    assert data["reviewed_by"] == "erin" and data["source_url"] is None


def test_atom_feed_parses_cleanly_with_stable_ids(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    d1 = add_draft(store, add_paper(store))
    d2 = add_draft(store, add_paper(store, doi="10.1/b", pmid="2", condition="psoriasis",
                                    drug="secukinumab"), title="Psoriasis & a <new> biologic")
    publish_due(app, now=T0, deliver=False)
    set_draft(store, d2, state="approved")  # not yet: first publish only d1 at T0
    feed1 = (tmp_path / "feed.xml").read_bytes()
    later = T0 + dt.timedelta(hours=2)
    publish_due(app, now=later, deliver=False)
    f = feedparser.parse(io.BytesIO((tmp_path / "feed.xml").read_bytes()))
    assert f.bozo == 0, f.get("bozo_exception")
    assert f.feed.title == "Skin research news"
    assert f.feed.id == "https://news.example.org/skin/feed.xml"
    assert len(f.entries) == 2
    by_title = {e.title: e for e in f.entries}
    e2 = by_title["Psoriasis & a <new> biologic"]
    assert e2.id.startswith("tag:news.example.org,2026-11-20:psoriasis-a-new-biologic")
    assert [t.term for t in e2.tags] == ["psoriasis", "secukinumab"]
    assert "<p>Struggling" in e2.content[0].value
    ids_before = sorted(e.id for e in f.entries)
    # feedparser turns updated into a UTC struct_time
    assert dt.datetime(*f.feed.updated_parsed[:6]) == T0
    assert dt.datetime(*e2.updated_parsed[:6]) == T0
    assert feed1  # the first run wrote a feed too

    # A correction: the editor changes the text and approves again.
    set_draft(store, d1, state="approved", version=2,
              body_markdown=BODY.replace("Six people", "Six adults"))
    r = publish_due(app, now=later, deliver=False)
    assert [a.draft_id for a in r.updated] == [d1] and r.published == []
    f2 = feedparser.parse(io.BytesIO((tmp_path / "feed.xml").read_bytes()))
    assert f2.bozo == 0
    assert sorted(e.id for e in f2.entries) == ids_before
    e1 = f2.entries[0]
    assert e1.title.startswith("Upadacitinib") and "Six adults" in e1.content[0].value
    assert dt.datetime(*e1.updated_parsed[:6]) == later
    assert dt.datetime(*e1.published_parsed[:6]) == T0
    assert dt.datetime(*f2.feed.updated_parsed[:6]) == later
    md = (tmp_path / f"{NAME}.md").read_text()
    assert "Six adults" in md and "lastmod: 2026-11-20T11:30:00Z" in md


def test_publishing_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    tmp_path = tmp_path / "site"
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store))
    publish_due(app, now=T0, deliver=False)
    snap = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert set(snap) == {f"{NAME}.md", f"{NAME}.html", f"{NAME}.json", "feed.xml"}
    r = publish_due(app, now=T0 + dt.timedelta(days=1), deliver=False)
    assert (r.published, r.updated, r.unchanged, r.feed_written) == ([], [], 0, False)
    # The same content approved again: same files, same feed, no new webhook event.
    set_draft(store, did, state="approved")
    r = publish_due(app, now=T0 + dt.timedelta(days=2), deliver=False)
    assert r.unchanged == 1 and r.updated == [] and draft_state(store, did) == "published"
    assert rebuild(app)[0] == 0
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == snap
    import sqlalchemy as sa

    from newsflow.store.schema import webhook_events
    with store.read() as c:
        events = c.execute(sa.select(webhook_events.c.event)).scalars().all()
    assert events == ["published"]


def test_filename_pattern_subdirectories_and_no_temp_files(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path, **{"publish.filename": "{date}/{id}-{slug}"})
    did = add_draft(store, add_paper(store))
    a = publish_due(app, now=T0, deliver=False).published[0]
    folder = tmp_path / "2026-11-20"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{did}-{a.slug}.html", f"{did}-{a.slug}.json", f"{did}-{a.slug}.md"]
    assert a.url == f"https://news.example.org/skin/2026-11-20/{did}-{a.slug}.html"
    assert not [p for p in tmp_path.rglob("*.tmp")]
    # Changing the pattern and rebuilding moves the files.
    app2 = make_app(store, tmp_path, **{"publish.filename": "{slug}"})
    assert rebuild(app2)[0] == 1
    assert (tmp_path / f"{a.slug}.md").exists() and list(folder.iterdir()) == []


@pytest.mark.parametrize("pattern", ["../{slug}", "/abs/{slug}", "{nope}"])
def test_bad_filename_pattern_is_a_config_error(store: Store, tmp_path: Path,
                                                pattern: str) -> None:
    app = make_app(store, tmp_path / "out", **{"publish.filename": pattern})
    did = add_draft(store, add_paper(store))
    with pytest.raises(ConfigError, match="publish.filename"):
        publish_due(app, now=T0, deliver=False)
    assert draft_state(store, did) == "approved"  # nothing lost; fixed config publishes it


def test_slug_clash_gets_the_draft_id(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    add_draft(store, add_paper(store))
    d2 = add_draft(store, add_paper(store, doi="10.1/x", pmid="9"))
    r = publish_due(app, now=T0, deliver=False)
    slugs = sorted(a.slug for a in r.published)
    assert slugs == ["upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck",
                     f"upadacitinib-may-ease-stubborn-eczema-on-the-face-and-neck-{d2}"]


def test_open_editor_note_is_never_published(store: Store, tmp_path: Path) -> None:
    app = make_app(store, tmp_path)
    did = add_draft(store, add_paper(store),
                    body=BODY + "\n[EDITOR (what_is): explain what upadacitinib is]\n")
    r = publish_due(app, now=T0, deliver=False)
    assert r.published == [] and "open editor note" in r.errors[0]
    assert draft_state(store, did) == "approved" and not list(tmp_path.glob("*.md"))
