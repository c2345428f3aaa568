"""The review web app: Starlette + Jinja2, rendered on the server.

``create_app(app)`` builds it around the same ``App`` (settings + store) the CLI uses, so
views call the same library functions (``newsflow.review``, ``newsflow.accounts``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from newsflow.app import App
from newsflow.web import views
from newsflow.web.security import SecurityHeaders, session_secret

HERE = Path(__file__).resolve().parent


def create_app(app: App) -> Starlette:
    s = app.settings
    routes = [
        Route("/", views.home),
        Route("/healthz", views.healthz),
        Route("/login", views.login_page, methods=["GET"]),
        Route("/login", views.login_submit, methods=["POST"]),
        Route("/logout", views.logout, methods=["POST"]),
        Route("/queue", views.queue_page, methods=["GET"]),
        Route("/queue/bulk", views.queue_bulk, methods=["POST"]),
        Route("/drafts/{draft_id:int}", views.draft_page, methods=["GET"]),
        Route("/drafts/{draft_id:int}/edit", views.draft_edit, methods=["POST"]),
        Route("/drafts/{draft_id:int}/action", views.draft_action, methods=["POST"]),
        Route("/drafts/{draft_id:int}/comment", views.draft_comment, methods=["POST"]),
        Route("/drafts/{draft_id:int}/assign", views.draft_assign, methods=["POST"]),
        Route("/drafts/{draft_id:int}/priority", views.draft_priority, methods=["POST"]),
        Route("/sources", views.sources_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=session_secret(s), session_cookie="nf_session",
                   same_site="lax", https_only=bool(s["web.https"]), max_age=12 * 3600),
    ]
    web = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: views.not_found, 405: views.not_allowed})
    web.state.app = app
    return web
