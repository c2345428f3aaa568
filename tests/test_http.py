"""The fetch layer against a real local server: caps, retries, politeness, 304s."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import logging
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from helpers.server import CorpusServer, Request, gzip_bomb
from newsflow.http import (
    Fetcher,
    RateLimiter,
    fetch_sync,
    parse_retry_after,
    redact_url,
)
from newsflow.models import FetchResult
from newsflow.settings import load_settings

T = TypeVar("T")
FAST = {"http.backoff_base": 0.05, "http.retries": 3}


def make_fetcher(env: dict[str, str] | None = None, **overrides: Any) -> Fetcher:
    opts = {**FAST, **{f"http.{k}": v for k, v in overrides.items()}}
    return Fetcher.from_settings(load_settings(overrides=opts, environ=env or {},
                                               load_sources=False))


def run(coro_fn: Callable[[Fetcher], Awaitable[T]], fetcher: Fetcher | None = None) -> T:
    async def main() -> T:
        async with fetcher or make_fetcher() as f:
            return await coro_fn(f)
    return asyncio.run(main())


def get(url: str, fetcher: Fetcher | None = None, **kw: Any) -> FetchResult:
    return run(lambda f: f.get(url, **kw), fetcher)


def times(server: CorpusServer, path: str) -> list[float]:
    return [r.at for r in server.requests if r.path == path]


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps[i:] if t < s + window) for i, s in enumerate(stamps))


class InFlight:
    """Counts requests a handler is serving at once, across servers."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay)
        with self._lock:
            self.now -= 1
        return 200, {"Content-Type": "text/plain"}, b"ok"


def sequence(*replies: tuple[int, dict[str, str], bytes]) -> Callable[[Request], Any]:
    """A handler giving each reply in turn, then repeating the last."""
    state = {"n": 0}

    def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
        i = min(state["n"], len(replies) - 1)
        state["n"] += 1
        return replies[i]
    return handler


# -- success, decoding, conditional GET --------------------------------------------------


def test_plain_fetch_decodes_gzip_and_sends_user_agent(server: CorpusServer) -> None:
    body = b"<rss>" + b"x" * 5000 + b"</rss>"
    url = server.add("/feed", body, content_type="application/rss+xml")
    r = get(url)
    assert r.status == "ok" and r.http_status == 200
    assert r.body == body
    assert "content-encoding" not in r.headers and r.headers["content-type"] == "application/rss+xml"
    req = server.requests[-1]
    assert "gzip" in req.headers["accept-encoding"]
    assert req.headers["user-agent"].startswith("newsflow/") and "mailto:" in req.headers["user-agent"]
    # the server really compressed it, so decoding was exercised
    assert gzip.decompress(gzip.compress(body, mtime=0)) == r.body


def test_conditional_get_gives_not_modified_and_keeps_validators(server: CorpusServer) -> None:
    url = server.add("/feed", b"<rss>" + b"y" * 2000 + b"</rss>")
    first = get(url)
    assert first.status == "ok" and first.etag and first.last_modified
    second = get(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == "not_modified" and second.http_status == 304
    assert second.body == b"" and second.etag == first.etag
    assert second.last_modified == first.last_modified  # carried over: the 304 had none
    req = server.requests[-1]
    assert req.headers["if-none-match"] == first.etag
    assert req.headers["if-modified-since"] == first.last_modified


def test_304s_and_redirects_keep_the_connection(server: CorpusServer) -> None:
    # A response closed unread closes its connection; these carry no body worth
    # keeping, but must still be read so the next request can reuse the socket.
    url = server.add("/feed", b"<rss>" + b"z" * 2000 + b"</rss>")
    server.add("/moved", status=301, headers={"Location": "/feed"}, conditional=False)

    async def fetch_all(f: Fetcher) -> list[FetchResult]:
        first = await f.get(url)
        out = [first]
        for _ in range(3):
            out.append(await f.get(url, etag=first.etag))
            out.append(await f.get(server.url("/moved"), etag=first.etag))
        return out
    results = run(fetch_all)
    assert [r.status for r in results[1:]] == ["not_modified"] * 6
    assert len({r.peer for r in server.requests}) == 1


def test_if_modified_since_alone(server: CorpusServer) -> None:
    stamp = email.utils.formatdate(1_700_000_000, usegmt=True)

    def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("if-modified-since") == stamp:
            return 304, {}, b""
        return 200, {"Last-Modified": stamp}, b"fresh"
    url = server.add_handler("/lm", handler)
    assert get(url).last_modified == stamp
    r = get(url, last_modified=stamp)
    assert r.status == "not_modified" and r.last_modified == stamp


# -- size caps ------------------------------------------------------------------


def test_body_over_cap_fails_with_reason(server: CorpusServer) -> None:
    url = server.add("/big", b"a" * 3_000_000, conditional=False)
    r = get(url, make_fetcher(max_bytes=1_000_000))
    assert r.status == "failed" and r.http_status == 200
    assert r.error is not None and r.error.startswith("response larger than 1000000 bytes")
    assert r.body == b""


def test_streamed_body_over_cap_stops_early(server: CorpusServer) -> None:
    # No Content-Length: the cap must be enforced while reading.
    sent = {"chunks": 0}

    def endless(req: Request) -> tuple[int, dict[str, str], Any]:
        def chunks() -> Iterator[bytes]:
            for _ in range(10_000):  # 640 MB if nobody stops reading
                sent["chunks"] += 1
                yield b"z" * 65536
        return 200, {"Content-Type": "text/plain"}, chunks()
    url = server.add_handler("/endless", endless)
    r = get(url, make_fetcher(max_bytes=1_000_000))
    assert r.status == "failed" and r.error == "response larger than 1000000 bytes"
    assert sent["chunks"] < 200


def test_gzip_bomb_stops_in_bounded_time_and_memory(server: CorpusServer) -> None:
    def bomb(req: Request) -> tuple[int, dict[str, str], Any]:
        length, chunks = gzip_bomb(1 << 30)  # 1 GB of zeros, about 1 MB compressed
        return 200, {"Content-Encoding": "gzip", "Content-Length": str(length),
                     "Content-Type": "application/xml"}, chunks
    url = server.add_handler("/bomb", bomb)
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        r = get(url, make_fetcher(max_bytes=10_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status == "failed" and r.error == "response larger than 10000000 bytes"
    assert time.monotonic() - t0 < 10
    assert peak < 60_000_000, f"peak Python allocation {peak / 1e6:.0f} MB"


def test_error_body_is_truncated_not_failed(server: CorpusServer) -> None:
    url = server.add("/gone", b"e" * 200_000, status=404, conditional=False)
    r = get(url)
    assert r.status == "failed" and r.http_status == 404 and r.error == "HTTP 404"
    assert len(r.body) == 65_536


# -- redirects --------------------------------------------------------------------


def test_redirect_is_followed_and_final_url_reported(server: CorpusServer) -> None:
    server.add("/old", status=301, headers={"Location": "/new"}, conditional=False)
    server.add("/new", b"moved here")
    r = get(server.url("/old"))
    assert r.status == "ok" and r.body == b"moved here" and r.url == server.url("/new")


def test_redirect_loop_is_named(server: CorpusServer) -> None:
    server.add("/a", status=302, headers={"Location": "/b"}, conditional=False)
    server.add("/b", status=302, headers={"Location": server.url("/a")}, conditional=False)
    r = get(server.url("/a"), make_fetcher(max_redirects=10))
    assert r.status == "failed" and r.error is not None
    assert r.error.startswith("redirect loop: ") and "/a -> " in r.error
    assert server.hits("/a") == 1 and server.hits("/b") == 1


def test_too_many_redirects(server: CorpusServer) -> None:
    for i in range(8):
        server.add(f"/r{i}", status=307, headers={"Location": f"/r{i + 1}"}, conditional=False)
    r = get(server.url("/r0"), make_fetcher(max_redirects=3))
    assert r.status == "failed" and r.error is not None
    assert r.error.startswith("more than 3 redirects")
    assert server.hits("/r4") == 0 and server.hits("/r3") == 1


# -- timeouts ----------------------------------------------------------------------


def test_read_timeout_on_slow_server(server: CorpusServer) -> None:
    url = server.add("/slow", b"late", delay=10.0)
    t0 = time.monotonic()
    r = get(url, make_fetcher(timeout=0.3, retries=0))
    assert r.status == "failed" and r.error == "read timed out after 0.3s"
    assert time.monotonic() - t0 < 5.0  # generous: the shared test box is often busy


def test_total_deadline_stops_a_slow_drip(server: CorpusServer) -> None:
    # Each byte arrives well within the read timeout; only the deadline ends it.
    def drip(req: Request) -> tuple[int, dict[str, str], Any]:
        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                time.sleep(0.1)
                yield b"."
        return 200, {}, chunks()
    url = server.add_handler("/drip", drip)
    t0 = time.monotonic()
    r = get(url, make_fetcher(timeout=1.0, total_timeout=1.0, retries=0))
    took = time.monotonic() - t0
    assert r.status == "failed" and r.error == "timed out after 1s"
    assert 0.9 < took < 5.0  # the drip alone would take 10 s


def test_connection_refused_is_retried_then_reported() -> None:
    with CorpusServer() as s:
        url = s.url("/x")
    r = get(url, make_fetcher(retries=2))  # the server is gone now
    assert r.status == "failed" and r.error is not None
    assert r.error.startswith("connection failed") and r.error.endswith("after 2 retries")
    assert r.elapsed_ms >= (0.05 + 0.1) * 1000


# -- retries and Retry-After ---------------------------------------------------------------


def test_5xx_retried_with_backoff_then_success(server: CorpusServer) -> None:
    url = server.add_handler("/flaky", sequence((503, {}, b"busy"), (502, {}, b"bad"),
                                                (200, {}, b"finally")))
    r = get(url)
    assert r.status == "ok" and r.body == b"finally"
    t = times(server, "/flaky")
    assert len(t) == 3
    assert t[1] - t[0] >= 0.05 and t[2] - t[1] >= 0.1  # doubling backoff


def test_5xx_gives_up_after_retries(server: CorpusServer) -> None:
    url = server.add("/down", b"no", status=500, conditional=False)
    r = get(url, make_fetcher(retries=2))
    assert r.status == "failed" and r.http_status == 500
    assert r.error == "HTTP 500 after 2 retries"
    assert server.hits("/down") == 3


def test_404_is_not_retried(server: CorpusServer) -> None:
    url = server.add("/missing", b"", status=404, conditional=False)
    r = get(url)
    assert r.error == "HTTP 404" and server.hits("/missing") == 1


def test_429_retry_after_seconds_is_honoured(server: CorpusServer) -> None:
    url = server.add_handler("/limited", sequence((429, {"Retry-After": "1"}, b""),
                                                  (200, {}, b"ok")))
    r = get(url)
    assert r.status == "ok"
    t = times(server, "/limited")
    assert 1.0 <= t[1] - t[0] < 2.0


def test_503_retry_after_http_date_is_honoured(server: CorpusServer) -> None:
    def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
        if server.hits("/maint") == 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return 503, {"Retry-After": when}, b""
        return 200, {}, b"back"
    url = server.add_handler("/maint", handler)
    r = get(url)
    assert r.status == "ok"
    t = times(server, "/maint")
    assert t[1] - t[0] >= 1.0  # the date has one-second resolution


def test_overlong_retry_after_is_reported_not_waited(server: CorpusServer) -> None:
    url = server.add("/later", b"", status=429, headers={"Retry-After": "3600"},
                     conditional=False)
    t0 = time.monotonic()
    r = get(url, make_fetcher(backoff_max=30))
    assert time.monotonic() - t0 < 10.0  # not the hour asked for, nor a backoff
    assert r.status == "failed" and r.http_status == 429 and r.retry_after_s == 3600
    assert r.error == "HTTP 429; server asked to retry after 3600s"
    assert server.hits("/later") == 1


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120") == 120
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- concurrency and rate limits ---------------------------------------------------------


def test_per_host_concurrency_is_bounded(server: CorpusServer) -> None:
    counter = InFlight(0.2)
    url = server.add_handler("/slow", counter)
    f = make_fetcher(per_host_concurrency=3, concurrency=20)
    results = run(lambda f: asyncio.gather(*(f.get(url) for _ in range(15))), f)
    assert all(r.status == "ok" for r in results)
    assert counter.peak == 3


def test_global_concurrency_is_bounded_across_hosts() -> None:
    counter = InFlight(0.2)
    with CorpusServer() as a, CorpusServer() as b, CorpusServer() as c:
        urls = [s.add_handler("/slow", counter) for s in (a, b, c)] * 8
        f = make_fetcher(per_host_concurrency=4, concurrency=5)
        results = run(lambda f: asyncio.gather(*(f.get(u) for u in urls)), f)
    assert all(r.status == "ok" for r in results)
    assert counter.peak == 5


def test_ncbi_rate_without_key_is_three_per_second(server: CorpusServer) -> None:
    url = server.add("/esearch.fcgi", b"<eSearchResult/>")
    results = run(lambda f: asyncio.gather(*(f.get(url, rate_key="ncbi") for _ in range(10))))
    assert all(r.status == "ok" for r in results)
    stamps = times(server, "/esearch.fcgi")
    assert len(stamps) == 10 and max_in_window(stamps) == 3
    assert all("api_key" not in r.query and "tool=newsflow" in r.query
               for r in server.requests)


def test_ncbi_rate_with_key_is_ten_per_second(server: CorpusServer) -> None:
    url = server.add("/esearch.fcgi", b"<eSearchResult/>")
    f = make_fetcher(env={"NEWSFLOW_NCBI__API_KEY": "s3cr3tkey"})
    results = run(lambda f: asyncio.gather(*(f.get(url, rate_key="ncbi") for _ in range(25))),
                  f)
    assert all(r.status == "ok" for r in results)
    stamps = times(server, "/esearch.fcgi")
    assert 8 <= max_in_window(stamps) <= 10
    assert all("api_key=s3cr3tkey" in r.query for r in server.requests)
    assert all("s3cr3tkey" not in r.url and "api_key=%2A%2A%2A" in r.url
               or "api_key=***" in r.url for r in results)


def test_ncbi_rate_holds_across_fetchers_threads_and_event_loops(server: CorpusServer) -> None:
    # Each enrichment, and each daemon worker thread, makes its own Fetcher on its own
    # event loop; NCBI counts them all as one client.
    url = server.add("/efetch.fcgi", b"<PubmedArticleSet/>")

    def worker() -> None:
        for _ in range(3):  # one Fetcher per "paper", one after another
            run(lambda f: asyncio.gather(*(f.get(url, rate_key="ncbi") for _ in range(2))))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = times(server, "/efetch.fcgi")
    assert len(stamps) == 12 and max_in_window(stamps) == 3


def test_rate_limiter_is_strict_over_many_windows() -> None:
    async def main() -> list[float]:
        lim = RateLimiter(3, 1.0)
        stamps: list[float] = []

        async def one() -> None:
            async with lim.slot():
                stamps.append(time.monotonic())
                await asyncio.sleep(0.05)  # the exchange itself
        await asyncio.gather(*(one() for _ in range(9)))
        return stamps
    stamps = asyncio.run(main())
    assert max_in_window(stamps) == 3
    assert stamps[-1] - stamps[0] >= 2 * 1.05


# -- secrets ---------------------------------------------------------------------


def test_secrets_never_reach_logs_or_errors(server: CorpusServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = server.add("/efetch.fcgi", b"err", status=500, conditional=False)
    r = get(url, make_fetcher(retries=1), params={"id": "1", "token": "tok-123"})
    f = make_fetcher(env={"NEWSFLOW_NCBI__API_KEY": "s3cr3tkey"}, retries=1)
    r2 = get(url, f, rate_key="ncbi")
    assert r.error == "HTTP 500 after 1 retry" and r2.status == "failed"
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "tok-123" not in text and "s3cr3tkey" not in text
    assert "tok-123" not in r.url and "s3cr3tkey" not in r2.url
    lines = [rec for rec in caplog.records if rec.name == "newsflow.http"
             and rec.levelno == logging.INFO]
    assert len(lines) == 2 and "token=***" in lines[0].getMessage()
    assert "-> 500" in lines[0].getMessage()


def test_redact_url() -> None:
    assert redact_url("https://u:pw@h/p?db=pubmed&api_key=abc&Key=x") == \
        "https://u:***@h/p?db=pubmed&api_key=***&Key=***"
    assert redact_url("https://h/p?q=skin") == "https://h/p?q=skin"


# -- odd inputs ----------------------------------------------------------------------


def test_invalid_url_is_a_failure_not_an_exception() -> None:
    r = get("ftp://example.invalid/feed")
    assert r.status == "failed" and r.error is not None and "scheme" in r.error.lower()


def test_fetch_sync(server: CorpusServer) -> None:
    url = server.add("/s", b"sync body")
    r = fetch_sync(url)
    assert r.status == "ok" and r.body == b"sync body"


def test_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # The server plays a forward proxy: it gets the absolute URL and serves the path.
    with CorpusServer() as proxy:
        proxy.add("/proxied.xml", b"<rss/>")
        for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        r = get("http://feeds.example.invalid/proxied.xml")
    assert r.status == "ok" and r.body == b"<rss/>"
    assert [q.path for q in proxy.requests] == ["/proxied.xml"]
