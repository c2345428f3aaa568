"""``newsflow demo``: the whole pipeline offline, on bundled recorded samples.

The samples in ``data/demo`` are served over real HTTP from a server thread on
127.0.0.1, so the demo exercises the same fetch, parse and merge code as a real
run.  It writes its own config and SQLite database in a demo data directory and
never touches the user's configuration.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
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
    enrichment: list[str] = field(default_factory=list)


def enrichment_lines(app: App) -> list[str]:
    """What enrichment found, paper by paper, with the facts then extracted."""
    from newsflow.extract import FACT_NAMES
    from newsflow.store import enrichment as store_enrichment
    from newsflow.store import facts as store_facts

    summary = store_enrichment.enrichment_summary(app.store)
    lines = []
    for pid, title, taken in summary.enriched:
        steps = sorted({s.removeprefix("enrich:") for s in taken.values()})
        lines.append(f"Paper {pid} ({title}): {', '.join(sorted(taken))} found by "
                     f"{', '.join(steps)}")
        facts = store_facts.load_facts(app.store, pid)
        shown = [f"{name} = {facts[name].value}" for name in FACT_NAMES if name in facts]
        lines.append("  facts: " + ("; ".join(shown[:6]) if shown else "none found"))
    waiting = summary.by_status.get("retry", 0)
    if waiting:
        lines.append(f"{waiting} papers still lack an abstract or key metadata and will be "
                     "looked up again later (reasons: newsflow papers show ID)")
    return lines


def _pmids() -> list[str]:
    """What the demo's PubMed search finds.  ``enrich_pubmed_*.xml`` records are only
    found by DOI, as enrichment looks them up."""
    return sorted(p.stem.split("_", 1)[1] for p in DEMO_DATA.glob("pubmed_*.xml"))


def _pubmed_file(pmid: str) -> Path | None:
    for name in (f"pubmed_{pmid}.xml", f"enrich_pubmed_{pmid}.xml"):
        if pmid.isdigit() and (DEMO_DATA / name).is_file():
            return DEMO_DATA / name
    return None


def _pmids_for_doi(doi: str) -> list[str]:
    found = []
    for path in sorted(DEMO_DATA.glob("*pubmed_*.xml")):
        m = re.search(rb'<ArticleId IdType="doi">([^<]+)</ArticleId>', path.read_bytes())
        if m and m.group(1).decode().strip().lower() == doi.lower():
            found.append(path.stem.rsplit("_", 1)[1])
    return found


def _efetch(ids: list[str]) -> bytes:
    blocks = []
    for pmid in ids:
        path = _pubmed_file(pmid)
        if path is not None:
            m = re.search(rb"<PubmedArticle>.*</PubmedArticle>", path.read_bytes(), re.DOTALL)
            if m:
                blocks.append(m.group(0))
    return b'<?xml version="1.0" ?>\n<PubmedArticleSet>' + b"".join(blocks) + \
        b"</PubmedArticleSet>"


def _esearch(term: str) -> bytes:
    by_doi = re.fullmatch(r'"(.+)"\[doi\]', term.strip())
    ids = _pmids_for_doi(by_doi.group(1)) if by_doi else _pmids()
    return (f'<?xml version="1.0" ?>\n<eSearchResult><Count>{len(ids)}</Count><RetMax>'
            f"{len(ids)}</RetMax><RetStart>0</RetStart><IdList>"
            + "".join(f"<Id>{i}</Id>" for i in ids) + "</IdList></eSearchResult>").encode()


_EMPTY_EPMC = b'{"version": "6.9", "hitCount": 0, "resultList": {"result": []}}'
_CROSSREF_404 = b"Resource not found."


def _europepmc(query: dict[str, str]) -> bytes:
    by_doi = re.fullmatch(r'DOI:"(.+)"', query.get("query", "").strip())
    page = (DEMO_DATA / "europepmc_search_core.json").read_bytes()
    if by_doi:  # enrichment's lookup: the recorded results with that DOI, if any
        doc = json.loads(page)
        hits = [r for r in doc["resultList"]["result"]
                if str(r.get("doi", "")).lower() == by_doi.group(1).lower()]
        return json.dumps({"version": doc.get("version"), "hitCount": len(hits),
                           "resultList": {"result": hits}}).encode()
    return page if query.get("cursorMark") == "*" else _EMPTY_EPMC


def _respond(path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
    if path.startswith("/feeds/"):
        file = DEMO_DATA / path.removeprefix("/feeds/")
        if file.name in FEEDS.values() and file.is_file():
            return 200, "application/xml", file.read_bytes()
    if path == "/eutils/esearch.fcgi":
        return 200, "text/xml", _esearch(query.get("term", ""))
    if path == "/eutils/efetch.fcgi":
        return 200, "text/xml", _efetch(query.get("id", "").split(","))
    if path == "/europepmc/search":
        return 200, "application/json", _europepmc(query)
    if path.startswith("/crossref/works/"):
        return 404, "text/plain", _CROSSREF_404  # Crossref's answer for a DOI it lacks
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
                   '# Enrichment looks papers up by DOI at PubMed, Europe PMC and Crossref,\n'
                   "# all answered here by the demo's local server.  The publisher's page\n"
                   '# (the "landing" step) would be a real website, so the demo skips it.\n'
                   f'[ncbi]\nbase_url = "{base}/eutils"\n\n'
                   f'[europepmc]\nbase_url = "{base}/europepmc"\n\n'
                   f'[crossref]\nbase_url = "{base}/crossref"\n\n'
                   '[enrich]\nsteps = "pubmed,europepmc,crossref"\n')
    return cfg


def run_demo(directory: Path = DEFAULT_DIR) -> DemoResult:
    """Serve the samples, write the demo config, create the database and run once."""
    with serve() as base:
        cfg = write_config(directory, base)
        app = App.from_config(cfg)
        try:
            app.open_store_for_init().migrate()
            report = run_sources(app, all=True)
            enrichment = enrichment_lines(app)
            # Approve one clean draft and publish it into <dir>/site; says where the files are.
            published = publish_demo_step(app, directory)
            # After publishing, so the review UI's "drafts waiting" count is current.
            steps = [line for hook in UI_HOOKS for line in hook(app, directory)]
        finally:
            app.close()
    steps += [f"Browse the papers: newsflow --config {cfg} papers list",
              f"Source health:     newsflow --config {cfg} sources"]
    steps += published
    return DemoResult(config_path=cfg, report=report, next_steps=steps, enrichment=enrichment)
