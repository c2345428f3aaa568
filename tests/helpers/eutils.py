"""Recorded E-utilities and Europe PMC responses served the way the real APIs answer.

esearch answers with an eSearchResult listing the given PMIDs; efetch answers with the
recorded corpus efetch files for the requested ids, joined into one PubmedArticleSet.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from helpers.server import CorpusServer, Request


def esearch_xml(ids: list[str], count: int | None = None) -> bytes:
    body = "".join(f"<Id>{i}</Id>" for i in ids)
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>'
            f"{len(ids) if count is None else count}</Count><RetMax>{len(ids)}</RetMax>"
            f"<RetStart>0</RetStart><IdList>{body}</IdList><TranslationSet/>"
            "</eSearchResult>").encode()


def article_block(corpus: Path, pmid: str) -> bytes:
    data = (corpus / "pubmed" / f"metapub_efetch_pmid_{pmid}.xml").read_bytes()
    m = re.search(rb"<PubmedArticle>.*</PubmedArticle>", data, re.DOTALL)
    assert m, pmid
    return m.group(0)


def params(req: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(req.query).items()}


def serve_pubmed(server: CorpusServer, prefix: str, ids: list[str],
                 esearch_body: bytes | None = None) -> str:
    """Register esearch/efetch under ``prefix``; returns the base_url to configure."""
    server.add(f"{prefix}/esearch.fcgi", esearch_body or esearch_xml(ids),
               content_type="text/xml", conditional=False)

    def efetch(req: Request) -> tuple[int, dict[str, str], bytes]:
        wanted = params(req).get("id", "").split(",")
        blocks = b"".join(article_block(server.root, i) for i in wanted if i)
        return 200, {"Content-Type": "text/xml"}, (
            b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD '
            b'PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/'
            b'pubmed_250101.dtd">\n<PubmedArticleSet>' + blocks + b"</PubmedArticleSet>")

    server.add_handler(f"{prefix}/efetch.fcgi", efetch)
    return server.url(prefix)


def serve_europepmc(server: CorpusServer, prefix: str) -> str:
    """Page 1 for cursorMark=*, the recorded second page next, then an empty page."""
    apis = server.root / "apis"
    pages = {"*": apis / "europepmc_rest_search_cancer_core.json",
             "AoIIP4ZawSg1MzEyODI1MA==": apis / "europepmc_rest_search_cancer_page2.json"}

    def search(req: Request) -> tuple[int, dict[str, str], bytes]:
        cursor = params(req).get("cursorMark", "")
        path = pages.get(cursor, apis / "europepmc_rest_search_no_results.json")
        return 200, {"Content-Type": "application/json"}, path.read_bytes()

    server.add_handler(f"{prefix}/search", search)
    return server.url(prefix)
