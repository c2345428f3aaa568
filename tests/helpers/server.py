"""A real local HTTP server for tests and benchmarks.

Serves the shared corpus under /corpus/<path> with ETag and Last-Modified (and
304s), and anything registered with ``add``/``add_handler``.  Every request is
logged so tests can assert what was fetched and how often.
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import mimetypes
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


@functools.cache
def corpus_dir() -> Path:
    """The shared corpus: $NEWSFLOW_CORPUS, else ``shared/corpus`` beside the checkout,
    else beside the local checkout this one was cloned from (``git clone . /tmp/x``)."""
    import os
    import subprocess
    env = os.environ.get("NEWSFLOW_CORPUS")
    if env:
        candidates = [Path(env)]
    else:
        candidates = [REPO.parent / "shared" / "corpus"]
        origin = subprocess.run(["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True).stdout.strip()
        if origin and Path(origin).is_dir():
            candidates.append(Path(origin).resolve().parent / "shared" / "corpus")
    for path in candidates:
        if path.is_dir():
            return path
    raise RuntimeError(f"shared corpus not found at {' or '.join(map(str, candidates))}; "
                       "set NEWSFLOW_CORPUS")


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float
    peer: str = ""  # client host:port, so tests can tell connections apart


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    conditional: bool = True  # add ETag/Last-Modified and answer 304s


# A handler's body may be an iterable of byte chunks: each is written and
# flushed as it is produced (chunked unless the handler sets Content-Length),
# so tests can serve slow drips and huge bodies without holding them.
Body = bytes | Iterable[bytes]
Handler = Callable[[Request], tuple[int, dict[str, str], Body]]
LAST_MODIFIED = email.utils.formatdate(1_700_000_000, usegmt=True)


class _QuietServer(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when 20 fetches start at once on a busy
    # machine, which shows up as spurious connect timeouts.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # A client dropping a kept-alive connection is normal; anything else is shown.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class CorpusServer:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or corpus_dir()
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[Request] = []
        self.default_delay = 0.0
        self._lock = threading.Lock()
        self._gzip_cache: dict[bytes, bytes] = {}
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            do_HEAD = do_GET

        self.httpd = _QuietServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def corpus_url(self, relpath: str) -> str:
        return self.url("/corpus/" + relpath)

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200,
            headers: dict[str, str] | None = None, content_type: str | None = None,
            delay: float = 0.0, conditional: bool = True) -> str:
        if isinstance(body, str):
            body = body.encode()
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        self.routes[path] = Route(status, body, h, delay, conditional)
        return self.url(path)

    def add_handler(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        req = Request(h.command, parts.path, parts.query,
                      {k.lower(): v for k, v in h.headers.items()}, time.time(),
                      f"{h.client_address[0]}:{h.client_address[1]}")
        length = int(h.headers.get("Content-Length") or 0)
        req.headers["x-body"] = h.rfile.read(length).decode("utf-8", "replace") if length else ""
        with self._lock:
            self.requests.append(req)
        route = self.routes.get(parts.path)
        if route is None and parts.path.startswith("/corpus/"):
            file = (self.root / parts.path[len("/corpus/"):]).resolve()
            if self.root.resolve() in file.parents and file.is_file():
                ctype = mimetypes.guess_type(file.name)[0] or "application/xml"
                if file.suffix in (".xml", ".rdf", ".atom", ".rss"):
                    ctype = "application/xml"
                route = Route(200, file.read_bytes(), {"Content-Type": ctype})
        if route is None:
            self._send(h, 404, {"Content-Type": "text/plain"}, b"not found")
            return
        if callable(route):
            status, headers, body = route(req)
            self._send(h, status, headers, body)
            return
        delay = route.delay or self.default_delay
        if delay:
            time.sleep(delay)
        headers = dict(route.headers)
        if route.conditional and route.status == 200:
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            headers.setdefault("ETag", etag)
            headers.setdefault("Last-Modified", LAST_MODIFIED)
            if req.headers.get("if-none-match") == etag:
                self._send(h, 304, {"ETag": etag}, b"")
                return
        body = route.body
        if "gzip" in req.headers.get("accept-encoding", "") and \
                headers.get("Content-Encoding") is None and len(body) > 512:
            body = self._gzipped(body)
            headers["Content-Encoding"] = "gzip"
        self._send(h, route.status, headers, body)

    def _gzipped(self, body: bytes) -> bytes:
        # Compressed once per body, as a static server does (gzip_static): compressing
        # on every request made the benchmark server compete with the client for CPU.
        key = hashlib.sha1(body).digest()
        with self._lock:
            cached = self._gzip_cache.get(key)
        if cached is None:
            cached = gzip.compress(body, mtime=0)
            with self._lock:
                self._gzip_cache[key] = cached
        return cached

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str],
              body: Body) -> None:
        has_length = any(k.lower() == "content-length" for k in headers)
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            if isinstance(body, bytes | bytearray):
                if not has_length:
                    h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                if h.command != "HEAD":
                    h.wfile.write(body)
                return
            chunked = not has_length
            if chunked:
                h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            if h.command == "HEAD":
                return
            for piece in body:
                if not piece:
                    continue
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                h.wfile.flush()
            if chunked:
                h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True


def gzip_bomb(size: int = 1 << 30, block: int = 1 << 20) -> tuple[int, Iterable[bytes]]:
    """A valid gzip stream of ``size`` zero bytes, produced lazily: (length, chunks).

    Each ``block`` of zeros is compressed once with a full flush, which resets
    the compressor, so the same compressed segment can be repeated; 1 GB costs
    about 1 MB on the wire and almost nothing to build.
    """
    if size % block:
        raise ValueError("size must be a multiple of block")
    zeros = bytes(block)
    segment = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    seg = segment.compress(zeros) + segment.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    count = size // block
    length = len(header) + count * len(seg) + len(final) + 8

    def chunks() -> Iterable[bytes]:
        yield header
        crc = 0
        for _ in range(count):
            # The CRC is only needed if a client reads to the very end.
            crc = zlib.crc32(zeros, crc)
            yield seg
        yield final + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")

    return length, chunks()
