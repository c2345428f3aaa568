"""``/metrics`` (Prometheus text format 0.0.4) and ``/healthz``.

Every number is read from the database at scrape time, so any process (the web app,
or a daemon's own monitoring port) reports the whole installation.  ``routes(app)``
gives the two Starlette routes for the web app to mount; ``monitoring_app(app)`` is a
standalone ASGI app the daemon serves on ``daemon.metrics_port``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from newsflow.app import App
from newsflow.clock import utcnow
from newsflow.errors import StoreError
from newsflow.store import monitoring

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_: str,
               samples: Iterable[tuple[dict[str, str], float]],
               suffixes: Iterable[str] | None = None) -> None:
        """``suffixes`` names each sample's series (``_sum``, ``_count``) for summaries."""
        self.lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        names = iter(suffixes) if suffixes is not None else None
        for labels, value in samples:
            series = name + (next(names) if names is not None else "")
            lab = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{series}{{{lab}}} {_num(value)}" if lab
                              else f"{series} {_num(value)}")


def _ts(t: dt.datetime | None) -> float:
    return t.replace(tzinfo=dt.UTC).timestamp() if t else 0.0


def render(s: monitoring.Snapshot) -> str:
    o = _Out()
    o.metric("newsflow_fetches_total", "counter", "Source fetches by outcome.",
             [({"status": k}, v) for k, v in sorted(s.fetches_by_status.items())])
    o.metric("newsflow_papers", "gauge", "Papers stored.", [({}, s.papers)])
    o.metric("newsflow_papers_pending", "gauge",
             "Papers whose latest content the later stages have not processed yet.",
             [({}, s.papers_pending)])
    o.metric("newsflow_papers_pending_oldest_age_seconds", "gauge",
             "Age of the oldest unprocessed paper change.", [({}, s.pending_oldest_age)])
    o.metric("newsflow_drafts", "gauge", "Drafts by review state.",
             [({"state": k}, v) for k, v in sorted(s.drafts_by_state.items())])
    o.metric("newsflow_review_queue_oldest_age_seconds", "gauge",
             "Age of the oldest draft still waiting for an editor.", [({}, s.queue_oldest_age)])
    o.metric("newsflow_source_consecutive_failures", "gauge",
             "Failed polls in a row, per source (0 = healthy).",
             [({"source": k}, v) for k, v in sorted(s.source_failures.items())])
    o.metric("newsflow_sources_failing", "gauge", "Sources whose last poll failed.",
             [({}, sum(1 for v in s.source_failures.values() if v))])
    o.metric("newsflow_source_last_success_timestamp_seconds", "gauge",
             "Unix time of each source's last successful poll (0 = never).",
             [({"source": k}, _ts(v)) for k, v in sorted(s.source_last_success.items())])
    o.metric("newsflow_leases", "gauge", "Work claims, live or expired (expired = free).",
             [({"state": "live"}, s.leases_live), ({"state": "expired"}, s.leases_expired)])
    o.metric("newsflow_job_duration_seconds", "summary",
             "Daemon job run time, all daemons, over the kept job history.",
             [x for k, j in sorted(s.jobs.items())
              for x in (({"job": k}, j.seconds_total), ({"job": k}, j.runs))],
             suffixes=["_sum", "_count"] * len(s.jobs))
    o.metric("newsflow_job_failures_total", "counter", "Daemon job runs that failed.",
             [({"job": k}, j.failures) for k, j in sorted(s.jobs.items())])
    o.metric("newsflow_job_last_duration_seconds", "gauge", "Duration of each job's last run.",
             [({"job": k}, j.last_seconds) for k, j in sorted(s.jobs.items())])
    o.metric("newsflow_job_last_run_timestamp_seconds", "gauge",
             "Unix time each job last started.",
             [({"job": k}, _ts(j.last_started)) for k, j in sorted(s.jobs.items())])
    return "\n".join(o.lines) + "\n"


def health(app: App) -> tuple[bool, dict[str, str]]:
    """(healthy, details): the database answers and its schema is current."""
    try:
        store = app.store  # opening it checks the schema revision
        monitoring.ping(store)
        store.check_schema()
    except StoreError as e:
        return False, {"status": "fail", "database": "reachable", "schema": str(e)}
    except Exception as e:  # any driver error means "unreachable"
        return False, {"status": "fail", "database": f"unreachable: {type(e).__name__}"}
    return True, {"status": "ok", "database": "reachable",
                  "schema": store.current_revision() or ""}


def routes(app: App) -> list[Route]:
    async def metrics_view(_request: Request) -> Response:
        try:
            snap = await run_in_threadpool(monitoring.snapshot, app.store, now=utcnow())
        except Exception as e:  # scrape failures must not 500 with a trace
            return PlainTextResponse(f"# metrics unavailable: {type(e).__name__}\n"
                                     "newsflow_up 0\n", status_code=503,
                                     media_type=CONTENT_TYPE)
        return PlainTextResponse(render(snap) + "# HELP newsflow_up 1 if the database "
                                 "answered.\n# TYPE newsflow_up gauge\nnewsflow_up 1\n",
                                 media_type=CONTENT_TYPE)

    async def healthz_view(_request: Request) -> Response:
        ok, details = await run_in_threadpool(health, app)
        return JSONResponse(details, status_code=200 if ok else 503)

    return [Route("/metrics", metrics_view, methods=["GET"]),
            Route("/healthz", healthz_view, methods=["GET"])]


def monitoring_app(app: App) -> Starlette:
    return Starlette(routes=routes(app))
