"""The fetch layer: one shared httpx client with politeness, caps and retries.

This is the only module that imports httpx (ecosystem.md §5 plans a switch to
the httpx2 fork; keeping the import here makes that a one-line change).

``Fetcher.get`` never raises for network or HTTP trouble: every outcome is a
``FetchResult`` with status "ok", "not_modified" or "failed" and, on failure, a
readable reason.  What it guards against, in order of a request's life:

- concurrency: a global slot, a per-host slot and (for keys such as Crossref)
  a per-key slot, all released while a retry waits;
- rate: a strict sliding-window limiter per rate key (NCBI 3/s, 10/s with a
  key), taken right before the request goes out so queueing cannot bunch
  requests up;
- time: connect/read timeouts per exchange and a total deadline per fetch;
- size: the body is decompressed here, in bounded steps, and abandoned as
  soon as it passes ``max_bytes`` — a gzip bomb costs at most ``max_bytes``;
- redirects: followed by hand so loops are named as loops;
- retries: capped exponential backoff on network errors, 429 and 5xx, with
  Retry-After honoured on 429/503 or reported when it is too long to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import math
import re
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from newsflow.logs import FIELDS
from newsflow.models import FetchResult
from newsflow.settings import Settings

log = logging.getLogger("newsflow.http")

try:
    import sniffio  # noqa: F401
except ImportError:
    # httpcore runs `import sniffio` on every request; when it is not installed each
    # miss searches sys.path again (~1 ms of stat calls on the event loop, measured
    # in benchmarks/ingest_feeds.py).  A None entry makes the miss immediate.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

# httpx logs every request URL at INFO, query string (and so api_key) included;
# our own line below is the redacted replacement.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CODES = frozenset({429, 503})
# Error bodies are kept for diagnosis only; no need to hold megabytes of them.
ERROR_BODY_CAP = 65_536


@dataclass(frozen=True)
class RatePolicy:
    """Politeness for one rate key: requests per second and/or requests in flight."""

    per_second: float | None = None
    concurrency: int | None = None


# Public API hosts and the rate key their requests fall under even when the
# caller passes none.  Callers that talk to a mirror pass ``rate_key=``.
HOST_RATE_KEYS: dict[str, str] = {
    "eutils.ncbi.nlm.nih.gov": "ncbi",
    "www.ebi.ac.uk": "europepmc",
    "api.crossref.org": "crossref",
}


@dataclass(frozen=True)
class FetchOptions:
    user_agent: str = "newsflow"
    concurrency: int = 20
    per_host_concurrency: int = 4
    timeout: float = 20.0
    connect_timeout: float = 5.0
    total_timeout: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    policies: Mapping[str, RatePolicy] = field(default_factory=dict)
    host_rate_keys: Mapping[str, str] = field(default_factory=lambda: dict(HOST_RATE_KEYS))
    # Query parameters added to every request under a rate key (NCBI wants
    # tool/email/api_key on each call; adding them here keeps the 10/s limit
    # tied to actually sending the key).
    key_params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchOptions:
        api_key = str(settings["ncbi.api_key"] or "")
        ncbi_params = {"tool": settings["ncbi.tool"], "email": settings["ncbi.email"]}
        if api_key:
            ncbi_params["api_key"] = api_key
        return cls(
            user_agent=settings["http.user_agent"],
            concurrency=settings["http.concurrency"],
            per_host_concurrency=settings["http.per_host_concurrency"],
            timeout=settings["http.timeout"],
            connect_timeout=settings["http.connect_timeout"],
            total_timeout=settings["http.total_timeout"],
            max_bytes=settings["http.max_bytes"],
            max_redirects=settings["http.max_redirects"],
            retries=settings["http.retries"],
            backoff_base=settings["http.backoff_base"],
            backoff_max=settings["http.backoff_max"],
            policies={
                "ncbi": RatePolicy(per_second=10 if api_key else 3),
                "europepmc": RatePolicy(per_second=5),
                "crossref": RatePolicy(concurrency=5),
            },
            key_params={"ncbi": ncbi_params},
        )


class RateLimiter:
    """At most ``rate`` requests in any window of ``period`` seconds, strictly.

    A sliding log, not a token or leaky bucket: aiolimiter's bucket let 5
    requests through in one second at a 3/s setting (ecosystem.md §5).  A
    request counts from the moment it is released until ``period`` after its
    response headers arrive: the server sees it somewhere in between, and not
    equally late for every request (a new connection takes longer), so
    counting from the release alone lets a window at the server hold more.

    Fetchers share one limiter per rate key and rate (``shared_limiter``), from any
    thread or event loop: each enrichment, and each daemon worker, has its own
    Fetcher, and NCBI's limit is per client, not per Fetcher.  So the log is guarded
    by a thread lock and waiters poll, rather than wait on one loop's condition.
    """

    POLL = 0.02  # seconds between looks while every counted request is still in flight

    def __init__(self, rate: int, period: float = 1.0) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.period = period
        self._ends: list[list[float]] = []  # per recent request: when it stops counting
        self._lock = threading.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        while True:
            with self._lock:
                now = time.monotonic()
                self._ends = [e for e in self._ends if e[0] > now]
                if len(self._ends) < self.rate:
                    cell = [math.inf]
                    self._ends.append(cell)
                    break
                soonest = min(e[0] for e in self._ends)
            await asyncio.sleep(self.POLL if soonest == math.inf else max(0.0, soonest - now))
        try:
            yield
        finally:
            with self._lock:
                cell[0] = time.monotonic() + self.period


_SHARED_LIMITERS: dict[tuple[str, int], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(key: str, rate: int) -> RateLimiter:
    """The process's one limiter for ``key`` at ``rate`` requests a second."""
    with _SHARED_LOCK:
        limiter = _SHARED_LIMITERS.get((key, rate))
        if limiter is None:
            limiter = _SHARED_LIMITERS[(key, rate)] = RateLimiter(rate)
        return limiter


def redact_url(url: str) -> str:
    """The URL with secret query values and any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}" if ":" in userinfo else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs],
                              safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Failure(Exception):
    """A reason to stop this fetch; ``retryable`` ones go round the retry loop."""

    def __init__(self, reason: str, *, retryable: bool = False,
                 http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.http_status = http_status


class _BoundedDecoder:
    """Content-Encoding decoding that never produces more than ``limit`` bytes.

    httpx's own decoder inflates each network chunk completely, so one 64 KB
    chunk of a gzip bomb becomes ~64 MB before anyone can look at it.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        enc = encoding.strip().lower()
        self.limit = limit
        self.size = 0
        self.tail = b""  # the part of the chunk that passed the cap that still fits
        # Some servers send raw DEFLATE under "deflate"; try zlib-wrapped first.
        self._deflate = enc == "deflate"
        if enc in ("", "identity"):
            self._z: Any = None
        elif enc in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif enc == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise _Failure(f"unsupported Content-Encoding {encoding!r}")

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            self.tail = data[: len(data) - (self.size - self.limit)]
            raise _Failure(f"response larger than {self.limit} bytes")
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            return self._count(chunk)
        if self._z.eof:  # trailing garbage after the gzip member
            return b""
        try:
            # One byte over the room left is enough to know the cap is passed.
            out = self._z.decompress(chunk, self.limit - self.size + 1)
        except zlib.error as e:
            if not (self._deflate and self.size == 0):
                raise _Failure(f"could not decompress the response: {e}") from None
            self._deflate = False
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(chunk)
        self._deflate = False
        return self._count(out)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._count(self._z.flush())
        except zlib.error as e:
            raise _Failure(f"could not decompress the response: {e}") from None


@dataclass
class _Reply:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Call:
    """Per-fetch state shared by its attempts and redirect hops."""

    timeout: asyncio.Timeout
    rate_key: str | None
    secrets: tuple[str, ...]
    started: bool = False

    def scrub(self, text: str) -> str:
        return _scrub(text, self.secrets)


class _PoolPerHost(httpx.AsyncBaseTransport):
    """The one client's transport: a small connection pool per origin.

    httpcore checks every pooled connection (a poll and a getpeername system call
    each) whenever a request starts or ends, so one pool over 25 hosts made that
    check the largest CPU cost of a run that only gets 304s.
    """

    def __init__(self, max_keepalive: int) -> None:
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=max_keepalive)
        self._ssl = httpx.create_ssl_context()  # built once: loading CA roots is slow
        self._pools: dict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(verify=self._ssl,
                                                               limits=self._limits)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


class Fetcher:
    """One shared AsyncClient with politeness, caps, retries and conditional GET.

    Use it as ``async with Fetcher.from_settings(settings) as f: r = await f.get(url)``.
    """

    def __init__(self, options: FetchOptions | None = None) -> None:
        self.options = options or FetchOptions()
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._key_slots: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        return cls(FetchOptions.from_settings(settings))

    async def __aenter__(self) -> Fetcher:
        o = self.options
        # Our semaphores bound the requests in flight, so the pools only keep idle
        # connections (one pool capped at ``concurrency`` closed one host's to open
        # another's).  httpx ignores HTTP(S)_PROXY when given a transport, so behind a
        # proxy the client keeps its own proxy-aware one.
        behind_proxy = bool(urllib.request.getproxies())
        self._client = httpx.AsyncClient(
            headers={"User-Agent": o.user_agent, "Accept-Encoding": "gzip"},
            timeout=httpx.Timeout(o.timeout, connect=o.connect_timeout),
            transport=None if behind_proxy else _PoolPerHost(max(o.per_host_concurrency, 2)),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
            follow_redirects=False,
        )
        self._global = asyncio.Semaphore(o.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- public ---------------------------------------------------------------

    async def get(self, url: str, *, params: Mapping[str, Any] | None = None,
                  headers: Mapping[str, str] | None = None, etag: str | None = None,
                  last_modified: str | None = None, rate_key: str | None = None,
                  max_bytes: int | None = None) -> FetchResult:
        """Fetch ``url``; never raises for network or HTTP failures.

        ``etag``/``last_modified`` make it a conditional GET (a 304 gives
        status "not_modified").  ``rate_key`` puts the request under a named
        politeness policy (e.g. "ncbi"); without it the host decides.
        ``FetchResult.url`` is the final URL after redirects, secrets redacted.
        """
        if self._client is None:
            raise RuntimeError("use Fetcher as 'async with Fetcher(...) as f'")
        o = self.options
        t0 = time.monotonic()
        key = rate_key or o.host_rate_keys.get(_host(url))
        all_params = {**o.key_params.get(key or "", {}), **(params or {})}
        secrets = tuple(str(v) for k, v in all_params.items()
                        if k.lower() in SECRET_PARAMS and str(v))
        req_headers = dict(headers or {})
        if etag:
            req_headers["If-None-Match"] = etag
        if last_modified:
            req_headers["If-Modified-Since"] = last_modified
        shown = redact_url(_with_params(url, all_params))
        result: FetchResult
        try:
            async with asyncio.timeout(None) as tmo:
                call = _Call(tmo, key, secrets)
                result = await self._with_retries(call, url, all_params, req_headers,
                                                  max_bytes or o.max_bytes)
        except TimeoutError:
            result = FetchResult(url=shown, status="failed",
                                 error=f"timed out after {o.total_timeout:g}s")
        if result.status == "not_modified":
            result.etag = result.etag or etag
            result.last_modified = result.last_modified or last_modified
        result.elapsed_ms = (time.monotonic() - t0) * 1000
        if result.error:
            result.error = _scrub(result.error, secrets)
        log.info("GET %s -> %s %s bytes %.0f ms%s", result.url,
                 result.http_status if result.http_status is not None else result.status,
                 len(result.body), result.elapsed_ms,
                 f" ({result.error})" if result.error else "",
                 extra={FIELDS: {"event": "fetch", "url": result.url, "status": result.status,
                                 "http_status": result.http_status, "bytes": len(result.body),
                                 "ms": round(result.elapsed_ms, 1), "error": result.error}})
        return result

    # -- internals ------------------------------------------------------------

    async def _with_retries(self, call: _Call, url: str, params: Mapping[str, Any],
                            headers: dict[str, str], max_bytes: int) -> FetchResult:
        o = self.options
        shown = redact_url(_with_params(url, params))
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                reply = await self._follow(call, url, params, headers, max_bytes)
            except _Failure as f:
                failure = f
            else:
                if reply.status == 304:
                    return _result(reply, "not_modified", body=b"")
                if 200 <= reply.status < 300:
                    return _result(reply, "ok")
                reason = f"HTTP {reply.status}"
                if reply.status != 429 and reply.status < 500:
                    return _result(reply, "failed", error=reason)
                if reply.status in RETRY_AFTER_CODES:
                    retry_after = parse_retry_after(reply.headers.get("retry-after"))
                if retry_after is not None and retry_after > o.backoff_max:
                    r = _result(reply, "failed",
                                error=f"{reason}; server asked to retry after {retry_after:g}s")
                    r.retry_after_s = retry_after
                    return r
                failure = _Failure(reason, retryable=True, http_status=reply.status)
                shown = reply.url
            if not failure.retryable or attempt >= o.retries:
                suffix = f" after {_retries(attempt)}" if attempt else ""
                return FetchResult(url=shown, status="failed", http_status=failure.http_status,
                                   error=failure.reason + suffix)
            delay = min(o.backoff_max, o.backoff_base * 2 ** attempt)
            if retry_after is not None:
                delay = max(delay, retry_after)
            deadline = call.timeout.when()
            if deadline is not None and asyncio.get_running_loop().time() + delay >= deadline:
                return FetchResult(
                    url=shown, status="failed", http_status=failure.http_status,
                    error=f"{failure.reason} after {_retries(attempt)} "
                          f"(no time left for another within {o.total_timeout:g}s)")
            log.debug("retrying %s in %.2fs: %s", shown, delay, failure.reason)
            await asyncio.sleep(delay)
            attempt += 1

    async def _follow(self, call: _Call, url: str, params: Mapping[str, Any],
                      headers: dict[str, str], max_bytes: int) -> _Reply:
        seen: list[str] = []
        hop_url, hop_params = url, params
        for _ in range(self.options.max_redirects + 1):
            reply = await self._exchange(call, hop_url, hop_params, headers, max_bytes)
            location = reply.headers.get("location")
            if reply.status not in REDIRECT_CODES:
                return reply
            if not location:
                raise _Failure(f"HTTP {reply.status} without a Location header",
                               http_status=reply.status)
            seen.append(reply.url)
            nxt = urljoin(reply.url, location)
            if redact_url(nxt) in seen:
                chain = " -> ".join([*seen, redact_url(nxt)])
                raise _Failure(f"redirect loop: {chain}", http_status=reply.status)
            hop_url, hop_params = nxt, {}
        raise _Failure(f"more than {self.options.max_redirects} redirects "
                       f"(last: {seen[-1]})", http_status=reply.status)

    @asynccontextmanager
    async def _slots(self, call: _Call, host: str) -> AsyncIterator[None]:
        o = self.options
        async with AsyncExitStack() as stack:
            policy = o.policies.get(call.rate_key or "")
            if policy and policy.concurrency and call.rate_key:
                sem = self._key_slots.setdefault(call.rate_key,
                                                 asyncio.Semaphore(policy.concurrency))
                await stack.enter_async_context(sem)
            host_sem = self._hosts.setdefault(host, asyncio.Semaphore(o.per_host_concurrency))
            await stack.enter_async_context(host_sem)
            assert self._global is not None
            await stack.enter_async_context(self._global)
            if not call.started:
                # The deadline covers the fetch, not the wait for a free slot.
                call.started = True
                call.timeout.reschedule(asyncio.get_running_loop().time() + o.total_timeout)
            yield

    def _limiter(self, rate_key: str | None) -> RateLimiter | None:
        policy = self.options.policies.get(rate_key or "")
        if not (rate_key and policy and policy.per_second):
            return None
        return shared_limiter(rate_key, max(1, round(policy.per_second)))

    async def _exchange(self, call: _Call, url: str, params: Mapping[str, Any],
                        headers: dict[str, str], max_bytes: int) -> _Reply:
        assert self._client is not None
        o = self.options
        try:
            request = self._client.build_request("GET", url, params=params or None,
                                                 headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as e:
            raise _Failure(f"invalid URL: {call.scrub(str(e))}") from None
        async with self._slots(call, _host(str(request.url))):
            shown = redact_url(str(request.url))
            limiter = self._limiter(call.rate_key)
            try:
                # Taken last, right before sending, so waiting for other slots
                # cannot bunch rate-limited requests together.
                async with limiter.slot() if limiter else contextlib.nullcontext():
                    response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as e:
                raise _Failure(_timeout_reason(e, o), retryable=True) from None
            except httpx.UnsupportedProtocol as e:
                raise _Failure(f"unsupported URL scheme: {call.scrub(str(e))}") from None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as e:
                raise _Failure(_network_reason(e, call), retryable=True) from None
            except httpx.HTTPError as e:
                raise _Failure(f"request failed: {call.scrub(str(e)) or type(e).__name__}") \
                    from None
            try:
                hdrs = {k.lower(): v for k, v in response.headers.items()}
                status = response.status_code
                if status in REDIRECT_CODES or status == 304:
                    # Read the (empty or tiny) body anyway: a response closed unread
                    # takes its connection with it, and every 304 of a warm run
                    # then paid for a new one.
                    await self._read_body(response, hdrs, ERROR_BODY_CAP, call, o,
                                          truncate=True)
                    return _Reply(status, shown, hdrs, b"")
                ok = 200 <= status < 300
                limit = max_bytes if ok else min(max_bytes, ERROR_BODY_CAP)
                body = await self._read_body(response, hdrs, limit, call, o, truncate=not ok)
                hdrs.pop("content-encoding", None)
                hdrs.pop("content-length", None)  # described the encoded body
                return _Reply(status, shown, hdrs, body)
            finally:
                await response.aclose()

    @staticmethod
    async def _read_body(response: httpx.Response, hdrs: dict[str, str], limit: int,
                         call: _Call, o: FetchOptions, *, truncate: bool) -> bytes:
        encoding = hdrs.get("content-encoding", "")
        declared = hdrs.get("content-length", "")
        if not truncate and not encoding and declared.isdigit() and int(declared) > limit:
            raise _Failure(f"response larger than {limit} bytes "
                           f"(Content-Length {declared})", http_status=response.status_code)
        decoder = _BoundedDecoder(encoding, limit)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += decoder.feed(chunk)
            body += decoder.flush()
        except _Failure as f:
            if truncate and f.reason.startswith("response larger"):
                return bytes(body + decoder.tail)
            f.http_status = response.status_code
            raise
        except httpx.TimeoutException as e:
            raise _Failure(_timeout_reason(e, o), retryable=True) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as e:
            raise _Failure(_network_reason(e, call), retryable=True) from None
        return bytes(body)


def fetch_sync(url: str, settings: Settings | None = None, *,
               options: FetchOptions | None = None, **kwargs: Any) -> FetchResult:
    """One fetch from synchronous code (CLI helpers, scripts)."""
    opts = options or (FetchOptions.from_settings(settings) if settings else FetchOptions())

    async def run() -> FetchResult:
        async with Fetcher(opts) as f:
            return await f.get(url, **kwargs)

    return asyncio.run(run())


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


def _with_params(url: str, params: Mapping[str, Any]) -> str:
    if not params:
        return url
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode({k: str(v) for k, v in params.items()})


def _result(reply: _Reply, status: Any, *, body: bytes | None = None,
            error: str | None = None) -> FetchResult:
    return FetchResult(url=reply.url, status=status, http_status=reply.status,
                       body=reply.body if body is None else body, headers=reply.headers,
                       etag=reply.headers.get("etag"),
                       last_modified=reply.headers.get("last-modified"), error=error)


def _retries(n: int) -> str:
    return f"{n} retry" if n == 1 else f"{n} retries"


def _timeout_reason(e: httpx.TimeoutException, o: FetchOptions) -> str:
    if isinstance(e, httpx.ConnectTimeout):
        return f"connect timed out after {o.connect_timeout:g}s"
    if isinstance(e, httpx.ReadTimeout):
        return f"read timed out after {o.timeout:g}s"
    return f"timed out after {o.timeout:g}s"


def _network_reason(e: Exception, call: _Call) -> str:
    text = call.scrub(str(e)) or type(e).__name__
    if isinstance(e, httpx.ConnectError):
        return f"connection failed: {text}"
    if isinstance(e, httpx.RemoteProtocolError):
        return f"server broke the HTTP exchange: {text}"
    return f"network error: {text}"


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text


__all__ = ["FetchOptions", "FetchResult", "Fetcher", "RateLimiter", "RatePolicy", "fetch_sync",
           "parse_retry_after", "redact_url"]
