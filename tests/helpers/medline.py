"""Read MEDLINE citations from the shared corpus into ``Paper`` objects for rule tests.

Only the fields the relevance rules read (title, abstract, journal, MeSH with major-topic
stars, keywords, publication types), so classifier tests do not depend on the ingest parser.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from newsflow.models import AbstractSection, Paper


def medline_papers(path: Path) -> dict[str, Paper]:
    out: dict[str, Paper] = {}
    for mc in ET.parse(path).getroot().iter("MedlineCitation"):
        art = mc.find("Article")
        pmid = mc.findtext("PMID")
        if art is None or not pmid:
            continue
        title_el = art.find("ArticleTitle")
        mesh = []
        for h in mc.iter("MeshHeading"):
            d = h.find("DescriptorName")
            if d is not None and d.text:
                mesh.append(("*" if d.get("MajorTopicYN") == "Y" else "") + d.text)
        out[pmid] = Paper(
            id=len(out) + 1,
            title="".join(title_el.itertext()) if title_el is not None else "",
            abstract_sections=[AbstractSection(a.get("Label"), "".join(a.itertext()))
                               for a in mc.iter("AbstractText")],
            pmid=pmid,
            journal=art.findtext("Journal/Title"),
            journal_abbrev=art.findtext("Journal/ISOAbbreviation"),
            mesh_terms=mesh,
            keywords=[k.text or "" for k in mc.iter("Keyword")],
            publication_types=[p.text or "" for p in mc.iter("PublicationType")],
        )
    return out
