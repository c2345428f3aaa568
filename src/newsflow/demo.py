"""``newsflow demo``: the whole pipeline offline, on bundled recorded samples.

The samples in ``data/demo`` are served over real HTTP from a server thread on
127.0.0.1, so the demo exercises the same fetch, parse and merge code as a real
run.  It writes its own config and SQLite database in a demo data directory and
never touches the user's configuration.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from newsflow.app import App
from newsflow.pipeline import RunReport, run_sources
from newsflow.publish.demo import demo_step as publish_demo_step

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"
DEFAULT_DIR = Path("data") / "demo"
FEEDS = {"American Journal of Public Health (eTOC)": "etoc_ajph_rss1.xml",
         "Pediatric Research (eTOC)": "etoc_pediatric_research.xml"}
_LAST_MODIFIED = email.utils.formatdate(1_700_000_000, usegmt=True)

# What to tell the user at the end, e.g. where to open the review UI.  The web UI adds
# a hook here; each gets the app and the demo directory and returns lines to print.
UI_HOOKS: list[Callable[[App, Path], list[str]]] = []


@dataclass
class DemoResult:
    config_path: Path
    report: RunReport
    next_steps: list[str] = field(default_factory=list)


def _pmids() -> list[str]:
    return sorted(p.stem.split("_", 1)[1] for p in DEMO_DATA.glob("pubmed_*.xml"))


def _efetch(ids: list[str]) -> bytes:
    blocks = []
    for pmid in ids:
        path = DEMO_DATA / f"pubmed_{pmid}.xml"
        if pmid.isdigit() and path.is_file():
            m = re.search(rb"<PubmedArticle>.*</PubmedArticle>", path.read_bytes(), re.DOTALL)
            if m:
                blocks.append(m.group(0))
    return b'<?xml version="1.0" ?>\n<PubmedArticleSet>' + b"".join(blocks) + \
        b"</PubmedArticleSet>"


def _esearch() -> bytes:
    ids = _pmids()
    return (f'<?xml version="1.0" ?>\n<eSearchResult><Count>{len(ids)}</Count><RetMax>'
            f"{len(ids)}</RetMax><RetStart>0</RetStart><IdList>"
            + "".join(f"<Id>{i}</Id>" for i in ids) + "</IdList></eSearchResult>").encode()


_EMPTY_EPMC = b'{"version": "6.9", "hitCount": 0, "resultList": {"result": []}}'


def _respond(path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
    if path.startswith("/feeds/"):
        file = DEMO_DATA / path.removeprefix("/feeds/")
        if file.name in FEEDS.values() and file.is_file():
            return 200, "application/xml", file.read_bytes()
    if path == "/eutils/esearch.fcgi":
        return 200, "text/xml", _esearch()
    if path == "/eutils/efetch.fcgi":
        return 200, "text/xml", _efetch(query.get("id", "").split(","))
    if path == "/europepmc/search":
        body = (DEMO_DATA / "europepmc_search_core.json").read_bytes() \
            if query.get("cursorMark") == "*" else _EMPTY_EPMC
        return 200, "application/json", body
    return 404, "text/plain", b"not found"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        status, ctype, body = _respond(parts.path, query)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if status in (200, 304):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", _LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve() -> Iterator[str]:
    """The demo samples on a local HTTP server; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_config(directory: Path, base: str) -> Path:
    """The demo's settings and sources, pointing every source at ``base``."""
    directory.mkdir(parents=True, exist_ok=True)
    d = directory.resolve()
    sources = [f'[[source]]\nname = "{name}"\nkind = "feed"\nurl = "{base}/feeds/{file}"\n'
               'every = "1h"\n' for name, file in FEEDS.items()]
    sources.append('[[source]]\nname = "PubMed: skin disease (demo)"\nkind = "pubmed"\n'
                   'query = "skin diseases[MeSH Terms]"\n'
                   f'base_url = "{base}/eutils"\nevery = "6h"\n')
    sources.append('[[source]]\nname = "Europe PMC (demo)"\nkind = "europepmc"\n'
                   f'query = "cancer"\nbase_url = "{base}/europepmc"\nevery = "6h"\n')
    (d / "sources.toml").write_text("# Written by `newsflow demo`; the server's port changes "
                                    "every run.\n\n" + "\n".join(sources))
    cfg = d / "newsflow.toml"
    cfg.write_text(f'# Written by `newsflow demo`.\ndata_dir = "{d}"\n'
                   'sources_file = "sources.toml"\n\n[http]\nretries = 1\n\n'
                   '# Enrichment looks papers up at PubMed, Europe PMC, Crossref and the\n'
                   '# publisher by DOI; the demo stays offline, so it is off here.\n'
                   '[enrich]\nenabled = false\n')
    return cfg


def run_demo(directory: Path = DEFAULT_DIR) -> DemoResult:
    """Serve the samples, write the demo config, create the database and run once."""
    with serve() as base:
        cfg = write_config(directory, base)
        app = App.from_config(cfg)
        try:
            app.open_store_for_init().migrate()
            report = run_sources(app, all=True)
            # Approve one clean draft and publish it into <dir>/site; says where the files are.
            published = publish_demo_step(app, directory)
            # After publishing, so the review UI's "drafts waiting" count is current.
            steps = [line for hook in UI_HOOKS for line in hook(app, directory)]
        finally:
            app.close()
    steps += [f"Browse the papers: newsflow --config {cfg} papers list",
              f"Source health:     newsflow --config {cfg} sources"]
    steps += published
    return DemoResult(config_path=cfg, report=report, next_steps=steps)
