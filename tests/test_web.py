from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.review_data import (
    PASSING,
    add_source,
    cheap_argon2,  # noqa: F401
    seed_draft,
)
from helpers.webapp import make_app, serve
from newsflow import accounts
from newsflow.store import Store
from newsflow.store import review as qdb
from newsflow.web import create_app
from newsflow.web.security import SECRET_FILE

PASSWORD = "editor-pass-1"


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[httpx.Client]:
    accounts.add_user(store, "erin", PASSWORD, "editor")
    accounts.add_user(store, "vic", PASSWORD, "viewer")
    app = make_app(store, tmp_path / "data", **{"web.login_attempts": 3})
    with serve(app) as base, httpx.Client(base_url=base) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(c: httpx.Client, user: str = "erin", pw: str = PASSWORD) -> str:
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": user, "password": pw, "csrf_token": token,
                               "next": "/queue"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(c.get("/queue").text)


def test_pages_need_login_except_login_and_healthz(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    for path in ("/queue", "/drafts/1", "/sources", "/"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = client.get("/queue?state=new", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Fqueue%3Fstate%3Dnew"


def test_security_headers_and_cookie_flags(client: httpx.Client) -> None:
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    token = csrf_of(r.text)
    r = client.post("/login", data={"username": "erin", "password": PASSWORD,
                                    "csrf_token": token}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_secure_cookie_when_https_and_secret_file_is_private(store: Store,
                                                             tmp_path: Path) -> None:
    accounts.add_user(store, "erin", PASSWORD, "editor")
    app = make_app(store, tmp_path / "d2", **{"web.https": True})
    with serve(app) as base, httpx.Client(base_url=base) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"username": "erin", "password": PASSWORD,
                                   "csrf_token": token}, follow_redirects=False)
        assert "secure" in r.headers["set-cookie"].lower()
    secret = tmp_path / "d2" / SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text()) > 40
    # The same key is reused, so sessions survive a restart.
    before = secret.read_text()
    create_app(make_app(store, tmp_path / "d2"))
    assert secret.read_text() == before


def test_post_without_csrf_is_refused(client: httpx.Client, store: Store) -> None:
    d = seed_draft(store, checks=PASSING).draft_id
    good = login(client)
    r = client.post(f"/drafts/{d}/action", data={"action": "approve", "version": "1"},
                    follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(f"/drafts/{d}/action", data={"action": "approve", "version": "1",
                                                 "csrf_token": good + "x"})
    assert r.status_code == 403
    assert qdb.get_draft(store, d).state == "in_review"  # type: ignore[union-attr]
    r = client.post(f"/drafts/{d}/action", data={"action": "approve", "version": "1"},
                    headers={"X-CSRF-Token": good}, follow_redirects=False)
    assert r.status_code == 303
    assert qdb.get_draft(store, d).state == "approved"  # type: ignore[union-attr]
    # Login itself needs the token too.
    client.cookies.clear()
    r = client.post("/login", data={"username": "erin", "password": PASSWORD})
    assert r.status_code == 403


def test_failed_logins_are_throttled(client: httpx.Client) -> None:
    for _ in range(3):
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "erin", "password": "wrong-one",
                                        "csrf_token": token})
        assert r.status_code == 401 and "wrong username or password" in r.text
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "erin", "password": PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 429 and "too many failed logins" in r.text


def test_viewer_sees_but_cannot_act(client: httpx.Client, store: Store) -> None:
    d = seed_draft(store, checks=PASSING).draft_id
    token = login(client, "vic")
    page = client.get(f"/drafts/{d}").text
    assert 'action="/drafts/' not in page.split('id="history"')[0].split("Source")[0] or \
        "Approve</button>" not in page
    r = client.post(f"/drafts/{d}/action", data={"action": "approve", "version": "1",
                                                 "csrf_token": token})
    assert r.status_code == 409 and "viewer" in r.text
    assert qdb.get_draft(store, d).state == "in_review"  # type: ignore[union-attr]


def test_disabled_user_is_logged_out(client: httpx.Client, store: Store) -> None:
    login(client)
    assert client.get("/queue", follow_redirects=False).status_code == 200
    accounts.set_disabled(store, "erin")
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_queue_and_draft_pages_render_escaped(client: httpx.Client, store: Store) -> None:
    add_source(store, "jdt-feed", last_status="failed", consecutive_failures=2,
               last_error="HTTP 503 <b>busy</b>")
    s = seed_draft(store, draft_title="<script>alert(1)</script> Eczema pill")
    login(client)
    q = client.get("/queue").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Eczema pill" in q and "<script>alert" not in q
    page = client.get(f"/drafts/{s.draft_id}").text
    assert "<script>alert" not in page
    assert 'href="https://doi.org/10.1080/09546634.2023.2242540"' in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/37558231/"' in page
    m = re.search(r'<button type="button" class="num"[^>]*data-sentence="([^"]*)"[^>]*>15</button>',
                  page)
    assert m and "upadacitinib 15 mg once daily" in m.group(1)
    assert "blocking" in page and "[EDITOR: cost and availability]" in page
    src = client.get("/sources").text
    assert "HTTP 503 &lt;b&gt;busy&lt;/b&gt;" in src


def test_logout_ends_the_session(client: httpx.Client) -> None:
    token = login(client)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/queue", follow_redirects=False).status_code == 303
