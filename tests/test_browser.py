"""The review UI in a real Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.review_data import (
    PASSING,
    YAN_BODY,
    add_source,
    cheap_argon2,  # noqa: F401
    ingest_feed_for_review,
    seed_draft,
    seed_generated,
)
from helpers.server import CorpusServer
from helpers.webapp import make_app, serve
from newsflow import accounts
from newsflow.app import App
from newsflow.store import Store
from newsflow.store import review as qdb

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PW = "editor-pass-1"
# Records anything a payload might do: dialogs, and CSP violations (an attempt blocked by
# the policy still means our escaping failed).
HOOK = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...a) => { window.__fired.push(name + ":" + a.join(" ")); window.pwned(name); };
}
window.executeMe = () => { window.__fired.push("executeMe"); window.pwned("executeMe"); };
document.addEventListener("securitypolicyviolation",
  e => { window.__fired.push("csp:" + e.violatedDirective); window.pwned("csp"); });
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'web.db'}")
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture
def app(sqlite_store: Store, tmp_path: Path) -> App:
    return make_app(sqlite_store, tmp_path / "data")


@pytest.fixture
def site(sqlite_store: Store, app: App) -> Iterator[str]:
    accounts.add_user(sqlite_store, "erin", PW, "editor")
    accounts.add_user(sqlite_store, "ada", PW, "admin")
    with serve(app) as base:
        yield base


def new_page(browser: Any, base: str, user: str = "erin") -> Any:
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=base)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/queue"))
    return page


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def seed_queue(store: Store, app: App) -> dict[str, int]:
    add_source(store, "jdt-feed", last_status="ok", last_http_status=200)
    add_source(store, "pubmed-derm", kind="pubmed", last_status="ok")
    base = dt.datetime(2026, 11, 20, 9)
    ids = {}
    ids["yan"] = seed_generated(store, app, created_at=base).draft_id  # written by the real drafting stage
    ids["rct"] = seed_draft(store, title="Topical ruxolitinib cream in vitiligo: a randomised "
                            "trial", draft_title="Cream restored skin colour in some people "
                            "with vitiligo", doi="10.1056/nejmoa2118828", pmid="36103371",
                            design="rct", source="pubmed-derm", checks=PASSING, priority=2,
                            created_at=base + dt.timedelta(hours=1)).draft_id
    ids["acne"] = seed_draft(store, title="Spironolactone for adult female acne",
                             draft_title="Blood pressure pill cut acne in women",
                             doi="10.1136/bmj-2022-074349", pmid="37192767", design="rct",
                             source="pubmed-derm", checks=PASSING, priority=1,
                             created_at=base + dt.timedelta(hours=2)).draft_id
    ids["new"] = seed_draft(store, title="Melanoma screening in primary care",
                            draft_title="Skin checks by family doctors", doi="10.1001/x.1",
                            pmid="1", design="cohort", state="new", checks=PASSING,
                            created_at=base + dt.timedelta(hours=3)).draft_id
    return ids


def test_login_filter_open_and_see_a_numbers_source(browser: Any, site: str, app: App,
                                                    sqlite_store: Store) -> None:
    ids = seed_queue(sqlite_store, app)
    page = new_page(browser, site)
    assert page.locator("tr.qrow").count() == 4
    assert page.locator(".state-tab[data-state=in_review] .count").inner_text() == "3"
    shot(page, "queue")
    page.select_option("select[name=design]", "rct")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"design=rct"))
    titles = page.locator("tr.qrow td.title a").all_inner_texts()
    assert titles == ["Blood pressure pill cut acne in women",
                      "Cream restored skin colour in some people with vitiligo"]
    page.fill("input[name=q]", "36103371")
    page.click("form.filters button[type=submit]")
    assert page.locator("tr.qrow td.title a").all_inner_texts() == [
        "Cream restored skin colour in some people with vitiligo"]
    page.goto("/queue")
    page.click(f"tr.qrow[data-id='{ids['yan']}'] td.title a")
    page.wait_for_url(re.compile(rf"/drafts/{ids['yan']}$"))
    assert page.locator("#source-panel").is_hidden()
    page.locator("#draft-body button.num", has_text=re.compile(r"^15$")).click()
    panel = page.locator("#source-panel")
    assert panel.is_visible()
    assert "upadacitinib 15 mg once daily for 12 weeks" in panel.inner_text()
    hl = page.locator("#abstract .sent.hl")
    assert hl.count() == 1 and "We report six patients aged 12 to 35" in hl.inner_text()
    assert page.locator("#draft-body button.num.unsupported").count() == 0
    # A fact in the abstract shows its sentence too.
    page.locator("mark.fact[data-fact=results]").click()
    assert "3/6 (50%) achieved EASI-90" in panel.inner_text()
    page.locator("#draft-body button.num", has_text=re.compile(r"^15$")).click()
    assert page.locator("#doi-link").get_attribute("href") == \
        "https://doi.org/10.1080/09546634.2023.2242540"
    assert page.locator("#pubmed-link").get_attribute("href") == \
        "https://pubmed.ncbi.nlm.nih.gov/37558231/"
    page.set_viewport_size({"width": 1200, "height": 820})
    shot(page, "draft", full=False)
    shot(page, "draft-full")
    page.locator("#checks").screenshot(path=str(SHOTS / "checks.png"))
    page.context.close()


def test_edit_see_diff_approve_and_leave_queue(browser: Any, site: str, app: App,
                                               sqlite_store: Store) -> None:
    ids = seed_queue(sqlite_store, app)
    page = new_page(browser, site, "ada")  # an admin: may override checks the drafting
    page.goto(f"/drafts/{ids['yan']}")       # stage still fails on its own text
    assert "editor slots" in page.locator(".blocked-why").inner_text()
    body = page.locator("#body-editor").input_value()
    new_body = re.sub(r"\[EDITOR \((\w+)\):[^\]]*\]",
                      lambda m: f"Editor's note on {m.group(1)}: Upadacitinib is a prescription "
                                "medicine; ask your dermatologist.", body)
    page.fill("#body-editor", new_body)
    page.click("button[name=op][value=preview]")
    assert "prescription medicine" in page.locator("#preview").inner_text()
    page.click("#save")
    page.wait_for_url(re.compile(rf"/drafts/{ids['yan']}#history"))
    assert page.locator("#version").inner_text() == "3"
    diff = page.locator("#diff")
    deleted = " ".join(diff.locator("del").all_inner_texts())
    inserted = " ".join(diff.locator("ins").all_inner_texts())
    assert "[EDITOR (cost):" in deleted and "[EDITOR (conflicts):" in deleted
    assert "prescription medicine" in inserted and "[EDITOR" not in inserted
    shot(page, "diff", full=False)
    page.locator("#history").screenshot(path=str(SHOTS / "history.png"))
    assert page.locator("li.check.pass", has_text="editor slots").count() == 1
    why = page.locator(".blocked-why")
    if why.count():  # only checks the editor did not touch may still block
        assert "editor slots" not in why.inner_text()
        page.fill("input[name=override_reason]", "checked against the full paper")
    page.click(".action-approve button")
    page.wait_for_url(re.compile(rf"/drafts/{ids['yan']}$"))
    assert page.locator("#state").inner_text() == "Approved"
    page.goto("/queue")
    assert page.locator(f"tr.qrow[data-id='{ids['yan']}']").count() == 0
    assert page.locator(".state-tab[data-state=approved] .count").inner_text() == "1"
    audit = [e.action for e in qdb.list_audit(sqlite_store, ids["yan"])]
    assert audit == ["created", "start_review", "edited", "approve"]
    page.context.close()


def test_two_editors_second_save_is_refused_and_nothing_lost(browser: Any, site: str, app: App,
                                                             sqlite_store: Store) -> None:
    ids = seed_queue(sqlite_store, app)
    a = new_page(browser, site, "erin")
    b = new_page(browser, site, "ada")
    for p in (a, b):
        p.goto(f"/drafts/{ids['acne']}#edit")
    a.fill("#body-editor", "Erin's version of the story.\n\n" + YAN_BODY)
    a.click("#save")
    a.wait_for_url(re.compile(r"#history"))
    ada_text = "Ada's careful rewrite.\n\n" + YAN_BODY
    b.fill("#body-editor", ada_text)
    b.click("#save")
    err = b.locator("#error")
    assert "changed since you loaded version 1" in err.inner_text()
    assert "erin edited" in err.inner_text()
    assert b.locator("#body-editor").input_value().replace("\r\n", "\n") == ada_text
    stale = b.locator("#stale-diff")
    assert "Erin's" in " ".join(stale.locator("del").all_inner_texts())
    assert "Ada's" in " ".join(stale.locator("ins").all_inner_texts())
    shot(b, "stale-save-page", full=False)
    b.locator("#edit .stale").screenshot(path=str(SHOTS / "stale-save.png"))
    rec = qdb.get_draft(sqlite_store, ids["acne"])
    assert rec is not None and rec.version == 2 and rec.body_markdown.startswith("Erin's")
    # Saving again is a deliberate second step, against the version now on screen.
    b.click("#save")
    b.wait_for_url(re.compile(r"#history"))
    versions = qdb.list_versions(sqlite_store, ids["acne"])
    assert [(v.version, v.author) for v in versions] == [(1, "newsflow"), (2, "erin"),
                                                         (3, "ada")]
    assert versions[1].body_markdown.startswith("Erin's")
    assert versions[2].body_markdown.startswith("Ada's")
    a.context.close()
    b.context.close()


def test_feed_xss_payloads_are_shown_and_run_nothing(browser: Any, site: str, app: App,
                                                     sqlite_store: Store, corpus: Path) -> None:
    files = sorted((corpus / "feeds-malformed").glob("*sanitize*"))
    assert len(files) == 11
    drafts = []
    with CorpusServer() as srv:
        for f in files:
            drafts += ingest_feed_for_review(app, srv.url(f"/corpus/feeds-malformed/"
                                                          f"{f.name}"), f.stem)
    assert len(drafts) == 6  # the other five put their payload in feed-level fields
    page = new_page(browser, site)
    fired: list[str] = []
    dialogs: list[str] = []
    page.expose_function("pwned", lambda what: fired.append(what))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(HOOK)
    page.goto("/queue")
    assert page.locator("tr.qrow").count() == 6
    texts = " ".join(page.locator("tr.qrow td.title").all_inner_texts())
    assert "Crazy HTML -- Can Your Regex Parse This?" in texts  # shown as text
    for d in drafts:
        page.goto(f"/drafts/{d}")
        body = page.locator("#draft-body").inner_text()
        assert "Did The Javascript Execute?" in body or "<title>" in body
        page.hover("#draft-body")
        page.hover(".source-col")
        page.click("button[name=op][value=preview]")
        page.hover("#preview")
        assert page.evaluate("window.__fired") == []
    page.goto("/sources")
    assert page.evaluate("window.__fired") == []
    assert fired == [] and dialogs == []
    assert page.evaluate("typeof window.pwned") == "function"  # the hook was live
    page.context.close()


def test_post_without_csrf_token_is_refused(browser: Any, site: str, app: App,
                                            sqlite_store: Store) -> None:
    ids = seed_queue(sqlite_store, app)
    page = new_page(browser, site)
    url = f"/drafts/{ids['rct']}/action"
    r = page.request.post(url, form={"action": "approve", "version": "1"})
    assert r.status == 403
    token = page.locator("input[name=csrf_token]").first.input_value()
    r = page.request.post(url, form={"action": "approve", "version": "1", "csrf_token": "bad"})
    assert r.status == 403
    assert qdb.get_draft(sqlite_store, ids["rct"]).state == "in_review"  # type: ignore[union-attr]
    r = page.request.post(url, form={"action": "approve", "version": "1"},
                          headers={"X-CSRF-Token": token})
    assert r.ok
    assert qdb.get_draft(sqlite_store, ids["rct"]).state == "approved"  # type: ignore[union-attr]
    page.context.close()


def test_keyboard_shortcuts(browser: Any, site: str, app: App, sqlite_store: Store) -> None:
    ids = seed_queue(sqlite_store, app)
    page = new_page(browser, site)
    order = [int(x) for x in page.locator("tr.qrow").evaluate_all(
        "rows => rows.map(r => r.dataset.id)")]
    assert order == [ids["new"], ids["acne"], ids["rct"], ids["yan"]]
    current = "tr.qrow.current"
    page.keyboard.press("j")
    assert page.locator(current).get_attribute("data-id") == str(ids["new"])
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator(current).get_attribute("data-id") == str(ids["acne"])
    with page.expect_navigation():
        page.keyboard.press("a")  # approve "acne"
    assert "now Approved" in page.locator(".flash.ok").inner_text()
    assert qdb.get_draft(sqlite_store, ids["acne"]).state == "approved"  # type: ignore[union-attr]
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("a")  # "new" cannot be approved: refused with the reason
    assert "it is new" in page.locator(".flash.error").inner_text()
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator(current).get_attribute("data-id") == str(ids["rct"])
    page.keyboard.press("r")
    assert page.locator("#reject-panel").is_visible()
    page.keyboard.type("duplicate of an earlier story")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rec = qdb.get_draft(sqlite_store, ids["rct"])
    assert rec is not None and (rec.state, rec.reject_reason) == (
        "rejected", "duplicate of an earlier story")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(rf"/drafts/{ids['new']}$"))
    page.go_back()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.wait_for_url(re.compile(rf"/drafts/{ids['yan']}#edit$"))
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'body-editor'", timeout=5000)
    page.context.close()
