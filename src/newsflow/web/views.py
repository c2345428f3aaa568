"""Request handlers.  Thin: parse the request, call the library, render a template.

Handlers are async only to read forms; the work runs in a thread (``run_in_threadpool``)
so a slow database or an argon2 check never stalls other requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from newsflow import accounts, review
from newsflow.app import App
from newsflow.errors import AuthError, NewsflowError, ReviewError, StaleVersionError
from newsflow.models import AbstractSection, User, abstract_text
from newsflow.store import review as qdb
from newsflow.store import sources as source_store
from newsflow.store import users as user_store
from newsflow.web import render
from newsflow.web.security import csrf_ok, csrf_token

HERE = Path(__file__).resolve().parent
STATE_TABS = [("open", "Open"), ("new", "New"), ("in_review", "In review"),
              ("changes_requested", "Changes requested"), ("approved", "Approved"),
              ("published", "Published"), ("rejected", "Rejected"), ("all", "All")]
STATE_LABELS = dict(STATE_TABS)
PRIORITY_LABELS = {0: "normal", 1: "high", 2: "urgent"}
DESIGN_LABELS = {"rct": "randomised trial", "case_series": "case series",
                 "case_report": "case report", "meta_analysis": "meta-analysis",
                 "systematic_review": "systematic review", "cohort": "cohort study",
                 "animal": "animal study", "in_vitro": "lab study"}


def _when(ts: dt.datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else "—"


def _authors(items: list[dict[str, Any]]) -> str:
    names = [str(a.get("name", "")) for a in items if a.get("name")]
    return ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")


env = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(default=True, default_for_string=True))
env.filters.update(
    when=_when, authors=_authors,
    statelabel=lambda s: STATE_LABELS.get(s, s),
    priolabel=lambda p: PRIORITY_LABELS.get(p, str(p)),
    design=lambda d: DESIGN_LABELS.get(d, (d or "unknown").replace("_", " ")),
)


def _app(request: Request) -> App:
    app: App = request.app.state.app
    return app


def render_page(request: Request, name: str, ctx: dict[str, Any], status: int = 200,
                user: User | None = None) -> HTMLResponse:
    flashes = request.session.pop("flash", []) if "flash" in request.session else []
    html = env.get_template(name).render(request=request, user=user, csrf=csrf_token(request),
                                         flashes=flashes, **ctx)
    return HTMLResponse(html, status_code=status)


def flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), (kind, text)]


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _current_user(request: Request) -> User | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    user = user_store.get_user_by_id(_app(request).store, uid)
    if user is None or user.disabled:
        request.session.clear()
        return None
    return user


Handler = Callable[..., Awaitable[Response]]


def login_required(fn: Handler) -> Handler:
    """Every page but /login and /healthz: a logged-in, enabled user; POSTs also need the
    session's CSRF token."""

    @wraps(fn)
    async def wrapper(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        if request.method == "POST" and not csrf_ok(request, form):
            return render_page(request, "error.html", {
                "status": 403, "heading": "Refused",
                "message": "This form has expired or did not come from newsflow (missing "
                           "CSRF token). Reload the page and try again."}, status=403)
        user = await run_in_threadpool(_current_user, request)
        if user is None:
            if request.method == "POST":
                return render_page(request, "error.html", {
                    "status": 401, "heading": "Logged out",
                    "message": "Your session ended; log in again."}, status=401)
            nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": nxt}), status_code=303)
        return await fn(request, user, form)

    return wrapper


# --- public --------------------------------------------------------------------------------

async def healthz(request: Request) -> Response:
    ok = await run_in_threadpool(qdb.ping, _app(request).store)
    return JSONResponse({"status": "ok" if ok else "database unavailable"},
                        status_code=200 if ok else 503)


@login_required
async def home(request: Request, user: User, form: FormData | None) -> Response:
    return RedirectResponse("/queue", status_code=303)


async def login_page(request: Request) -> Response:
    return render_page(request, "login.html", {"next": _safe_next(
        request.query_params.get("next"), "/queue"), "error": None, "username": ""})


async def login_submit(request: Request) -> Response:
    form = await request.form()
    nxt = _safe_next(str(form.get("next") or ""), "/queue")
    username = str(form.get("username") or "")
    if not csrf_ok(request, form):
        return render_page(request, "login.html", {
            "next": nxt, "username": username,
            "error": "The login form expired; please try again."}, status=403)
    s = _app(request).settings
    address = request.client.host if request.client else "unknown"
    try:
        user = await run_in_threadpool(
            accounts.authenticate, _app(request).store, username,
            str(form.get("password") or ""), address,
            max_attempts=s["web.login_attempts"], window_s=s["web.login_window"])
    except AuthError as e:
        status = 429 if "too many" in str(e) else 401
        return render_page(request, "login.html", {"next": nxt, "username": username,
                                                   "error": str(e)}, status=status)
    # A fresh session on login: nothing from before (a planted token) carries over.
    request.session.clear()
    request.session["uid"] = user.id
    csrf_token(request)
    return RedirectResponse(nxt, status_code=303)


@login_required
async def logout(request: Request, user: User, form: FormData | None) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# --- queue ---------------------------------------------------------------------------------

def queue_filter(params: Any, user: User) -> tuple[qdb.QueueFilter, bool]:
    mine = params.get("mine") == "1"
    state = params.get("state") or "open"
    sort = params.get("sort") or "newest"
    f = qdb.QueueFilter(
        state=state if state in STATE_LABELS else "open",
        source=params.get("source") or None, design=params.get("design") or None,
        relevance=params.get("relevance") or None, failing=params.get("failing") == "1",
        assignee=user.username if mine else None, q=params.get("q") or None,
        sort=sort if sort in qdb.SORTS else "newest")
    return f, mine


def _queue(request: Request, user: User) -> HTMLResponse:
    app = _app(request)
    f, mine = queue_filter(request.query_params, user)
    after = request.query_params.get("after") or None
    try:
        items, nxt = qdb.queue_page(app.store, f, after=after,
                                    limit=int(app.settings["web.page_size"]))
    except ReviewError as e:
        flash(request, "error", str(e))
        items, nxt, after = [], None, None
    params = dict(request.query_params)

    def url_with(**changes: Any) -> str:
        p = {**params, **changes}
        return "/queue?" + urlencode({k: v for k, v in p.items() if v not in (None, "")})

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    filtered = any([f.source, f.design, f.relevance, f.failing, mine, f.q])
    return render_page(request, "queue.html", {
        "nav": "queue", "f": f, "mine": mine, "items": items, "next_cursor": nxt,
        "after": after, "counts": queue_counts(app), "options": qdb.filter_options(app.store),
        "state_tabs": STATE_TABS, "url_with": url_with, "here": here, "filtered": filtered,
    }, user=user)


def queue_counts(app: App) -> dict[str, int]:
    counts = qdb.queue_counts(app.store)
    counts["open"] = sum(counts[s] for s in qdb.OPEN_STATES)
    counts["all"] = sum(counts[s] for s in qdb.STATES)
    return counts


@login_required
async def queue_page(request: Request, user: User, form: FormData | None) -> Response:
    return await run_in_threadpool(_queue, request, user)


def _parse_items(values: list[str]) -> list[tuple[int, int | None]]:
    out: list[tuple[int, int | None]] = []
    for v in values:
        did, _, ver = v.partition(":")
        if did.isdigit():
            out.append((int(did), int(ver) if ver.isdigit() else None))
    return out


@login_required
async def queue_bulk(request: Request, user: User, form: FormData | None) -> Response:
    assert form is not None
    action = str(form.get("action") or "")
    items = _parse_items([str(v) for v in form.getlist("item")])
    nxt = _safe_next(str(form.get("next") or ""), "/queue")
    if action not in ("approve", "reject"):
        flash(request, "error", "Bulk actions are approve and reject.")
    elif not items:
        flash(request, "error", "Select at least one draft.")
    else:
        results = await run_in_threadpool(review.bulk, _app(request).store, items, action,
                                          actor=user, reason=str(form.get("reason") or ""))
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        verb = "Approved" if action == "approve" else "Rejected"
        if done:
            flash(request, "ok", f"{verb} {len(done)}: " + ", ".join(f"#{r.draft_id}"
                                                                     for r in done))
        for r in failed:
            flash(request, "error", f"#{r.draft_id} not changed: {r.message}")
    return RedirectResponse(nxt, status_code=303)


# --- draft page ----------------------------------------------------------------------------

def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def draft_context(app: App, user: User, draft_id: int, params: Any,
                  **extra: Any) -> dict[str, Any]:
    d = review.load(app.store, draft_id)
    paper = qdb.paper_view(app.store, d.paper_id)
    abstract = abstract_text([AbstractSection(s.get("label"), s.get("text", ""))
                              for s in paper.abstract_sections]) if paper else ""
    facts = paper.facts if paper else []
    body_html, unsupported = render.draft_html(d.body_markdown, d.provenance, facts, abstract,
                                               paper.record() if paper else [])
    versions = qdb.list_versions(app.store, draft_id)
    nums = [v.version for v in versions]
    diff_a = _int(params.get("a")) or (nums[0] if nums else None)
    diff_b = _int(params.get("b")) or (nums[-1] if nums else None)
    diff_html = diff_title = None
    if len(nums) > 1 and diff_a in nums and diff_b in nums and diff_a != diff_b:
        va = next(v for v in versions if v.version == diff_a)
        vb = next(v for v in versions if v.version == diff_b)
        diff_html = render.word_diff(va.body_markdown, vb.body_markdown)
        if va.title != vb.title:
            diff_title = render.word_diff(va.title, vb.title)
    ctx = {
        "nav": "queue", "d": d, "paper": paper, "body_html": body_html,
        "unsupported": unsupported, "abstract_html": render.abstract_html(abstract, facts),
        "versions": versions, "diff_a": diff_a, "diff_b": diff_b, "diff_html": diff_html,
        "diff_title": diff_title, "comments": qdb.list_comments(app.store, draft_id),
        "audit": qdb.list_audit(app.store, draft_id),
        "people": [u for u in user_store.list_users(app.store)
                   if u.role != "viewer" and not u.disabled],
        "actions": review.allowed_actions(d.state), "labels": review.ACTION_LABELS,
        "blocked": bool(d.failing_blocking), "slots": render.editor_slots(d.body_markdown),
        "can_edit": user.can_edit, "editable": d.state in review.EDITABLE_STATES,
        "edit_title": d.title, "edit_body": d.body_markdown, "edit_version": d.version,
        "preview_html": None, "stale_diff": None, "error": None,
    }
    ctx.update(extra)
    return ctx


def _draft_response(request: Request, user: User, draft_id: int, status: int = 200,
                    **extra: Any) -> HTMLResponse:
    try:
        ctx = draft_context(_app(request), user, draft_id, request.query_params, **extra)
    except ReviewError:
        raise HTTPException(404) from None
    return render_page(request, "draft.html", ctx, status=status, user=user)


@login_required
async def draft_page(request: Request, user: User, form: FormData | None) -> Response:
    draft_id = int(request.path_params["draft_id"])
    return await run_in_threadpool(_draft_response, request, user, draft_id)


def _edit(request: Request, user: User, draft_id: int, form: FormData) -> Response:
    title = str(form.get("title") or "")
    body = str(form.get("body") or "").replace("\r\n", "\n")  # browsers send CRLF
    version = _int(form.get("version"))
    keep: dict[str, Any] = {"edit_title": title, "edit_body": body, "edit_version": version}
    if form.get("op") == "preview":
        return _draft_response(request, user, draft_id, preview_html=render.markdown_html(body),
                               **keep)
    try:
        review.edit(_app(request).store, draft_id, version=version, actor=user, title=title,
                    body_markdown=body, checker=review.draft_checker(_app(request)))
    except StaleVersionError as e:
        current = review.load(_app(request).store, draft_id)
        # The editor's text stays in the form, against the current version, with a diff of
        # what they would change: saving again is a deliberate choice, never silent.
        return _draft_response(request, user, draft_id, status=409, error=str(e),
                               stale_diff=render.word_diff(current.body_markdown, body),
                               edit_title=title, edit_body=body, edit_version=current.version)
    except NewsflowError as e:
        return _draft_response(request, user, draft_id, status=400, error=str(e), **keep)
    flash(request, "ok", "Saved.")
    return RedirectResponse(f"/drafts/{draft_id}#history", status_code=303)


@login_required
async def draft_edit(request: Request, user: User, form: FormData | None) -> Response:
    assert form is not None
    return await run_in_threadpool(_edit, request, user, int(request.path_params["draft_id"]),
                                   form)


def _action(request: Request, user: User, draft_id: int, form: FormData) -> Response:
    action = str(form.get("action") or "")
    nxt = form.get("next")
    try:
        d = review.transition(_app(request).store, draft_id, action,
                              version=_int(form.get("version")), actor=user,
                              reason=str(form.get("reason") or ""),
                              override_reason=str(form.get("override_reason") or ""))
    except NewsflowError as e:
        if nxt:
            flash(request, "error", f"#{draft_id}: {e}")
            return RedirectResponse(_safe_next(str(nxt), "/queue"), status_code=303)
        return _draft_response(request, user, draft_id, status=409, error=str(e))
    label = review.ACTION_LABELS.get(action, action)
    flash(request, "ok", f"#{d.id} {label.lower()}: now {STATE_LABELS.get(d.state, d.state)}.")
    return RedirectResponse(_safe_next(str(nxt or ""), f"/drafts/{draft_id}"), status_code=303)


@login_required
async def draft_action(request: Request, user: User, form: FormData | None) -> Response:
    assert form is not None
    return await run_in_threadpool(_action, request, user,
                                   int(request.path_params["draft_id"]), form)


def _meta(request: Request, user: User, draft_id: int, form: FormData, what: str) -> Response:
    store = _app(request).store
    try:
        if what == "comment":
            review.comment(store, draft_id, actor=user, body=str(form.get("body") or ""))
        elif what == "assign":
            review.assign(store, draft_id, actor=user, assignee=str(form.get("assignee") or ""))
        else:
            due_raw = str(form.get("due") or "")
            due = dt.datetime.fromisoformat(due_raw) if due_raw else None
            review.set_priority(store, draft_id, actor=user,
                                priority=_int(form.get("priority"), 0) or 0, due_at=due)
    except (NewsflowError, ValueError) as e:
        return _draft_response(request, user, draft_id, status=400, error=str(e))
    flash(request, "ok", {"comment": "Comment added.", "assign": "Assignment saved.",
                          "priority": "Priority saved."}[what])
    anchor = "comments" if what == "comment" else "assign"
    return RedirectResponse(f"/drafts/{draft_id}#{anchor}", status_code=303)


def _meta_view(what: str) -> Handler:
    @login_required
    async def view(request: Request, user: User, form: FormData | None) -> Response:
        assert form is not None
        return await run_in_threadpool(_meta, request, user,
                                       int(request.path_params["draft_id"]), form, what)
    return view


draft_comment = _meta_view("comment")
draft_assign = _meta_view("assign")
draft_priority = _meta_view("priority")


def source_health(store: Any) -> list[dict[str, Any]]:
    """Failing sources first, then by name."""
    rows = source_store.list_health(store)
    return sorted(rows, key=lambda r: (-(r.get("consecutive_failures") or 0), r["name"]))


@login_required
async def sources_page(request: Request, user: User, form: FormData | None) -> Response:
    rows = await run_in_threadpool(source_health, _app(request).store)
    return render_page(request, "sources.html", {"nav": "sources", "sources": rows}, user=user)


async def not_found(request: Request, exc: Exception) -> Response:
    return render_page(request, "error.html", {"status": 404, "heading": "Not found",
                                               "message": "There is nothing at this address."},
                       status=404)


async def not_allowed(request: Request, exc: Exception) -> Response:
    return render_page(request, "error.html", {"status": 405, "heading": "Not allowed",
                                               "message": "That method is not allowed here."},
                       status=405)
