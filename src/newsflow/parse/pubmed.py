"""NCBI E-utilities XML: esearch results and efetch PubMed records.

The XML is parsed only after its DOCTYPE is stripped; anything still declaring
entities is refused, so no internal subset or external entity ever reaches the
parser.  Handles PubmedArticle, PubmedBookArticle and the legacy
MedlineCitationSet (MEDLINE baseline files).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from newsflow.errors import ParseError
from newsflow.models import AbstractSection, Author, PaperRecord
from newsflow.parse import xmlsafe
from newsflow.parse.results import SearchResult
from newsflow.parse.text import partial_date, squash

# CommentsCorrections types that say something happened to *this* paper (or that it is
# itself such a notice); "Cites", "CommentIn" and the like are not updates.
UPDATE_TYPES = {"RetractionIn", "RetractionOf", "PartialRetractionIn", "ErratumIn", "ErratumFor",
                "ExpressionOfConcernIn", "ExpressionOfConcernFor", "RepublishedIn",
                "RepublishedFrom", "UpdateIn", "UpdateOf", "CorrectionIn"}


def safe_xml(body: bytes, *, what: str) -> ET.Element:
    """Parse untrusted XML with no DTD: declarations are removed, leftovers refused."""
    if not body or not body.strip():
        raise ParseError(f"the {what} response body is empty")
    data, _ = xmlsafe.to_ascii_compatible(body)
    data, _ = xmlsafe.strip_doctype(data)
    if xmlsafe.has_declarations(data):
        raise ParseError(f"the {what} response declares entities; refusing to parse it")
    data = data.lstrip()
    if data[:200].lower().lstrip().startswith((b"<html", b"<!doctype html")):
        raise ParseError(f"got an HTML page where {what} XML was expected")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise ParseError(f"the {what} response is not well-formed XML: {e}") from None


def _text(el: ET.Element | None) -> str:
    """All text inside an element, inline markup (<i>, <sup>) flattened."""
    return squash("".join(el.itertext())) if el is not None else ""


def parse_esearch(body: bytes) -> SearchResult:
    root = safe_xml(body, what="esearch")
    if root.tag != "eSearchResult":
        raise ParseError(f"expected an eSearchResult, got <{root.tag}>")
    errors = [_text(e) for e in root.findall("ERROR") if _text(e)]
    warnings = []
    for lst in (root.find("ErrorList"), root.find("WarningList")):
        if lst is None:
            continue
        for item in lst:
            text = _text(item)
            if text:
                warnings.append(f"{item.tag}: {text}")
    ids = [_text(i) for i in root.findall("IdList/Id") if _text(i).isdigit()]
    count_text = _text(root.find("Count"))
    return SearchResult(ids=ids, count=int(count_text) if count_text.isdigit() else len(ids),
                        errors=errors, warnings=warnings)


def parse_efetch(body: bytes, *, source: str) -> list[PaperRecord]:
    root = safe_xml(body, what="efetch")
    if root.tag == "eFetchResult":
        err = _text(root.find("ERROR")) or "no records"
        raise ParseError(f"efetch returned an error: {err}")
    if root.tag not in ("PubmedArticleSet", "MedlineCitationSet", "PubmedArticle",
                        "MedlineCitation", "PubmedBookArticle"):
        raise ParseError(f"expected a PubmedArticleSet, got <{root.tag}>")
    items = [root] if root.tag in ("PubmedArticle", "MedlineCitation", "PubmedBookArticle") \
        else list(root)
    records = []
    for item in items:
        if item.tag == "PubmedArticle":
            rec = _article(item.find("MedlineCitation"), item.find("PubmedData"), source)
        elif item.tag == "MedlineCitation":
            rec = _article(item, None, source)
        elif item.tag == "PubmedBookArticle":
            rec = _book(item, source)
        else:
            continue
        if rec is not None:
            records.append(rec)
    return records


def _abstract(parent: ET.Element | None) -> list[AbstractSection]:
    if parent is None:
        return []
    out = []
    for at in parent.findall("Abstract/AbstractText"):
        text = _text(at)
        if text:
            label = (at.get("Label") or "").strip()
            # NCBI marks the unlabelled lead paragraph of a structured abstract "UNLABELLED".
            out.append(AbstractSection(None if label.upper() in ("", "UNLABELLED") else label,
                                       text))
    return out


def _authors(parent: ET.Element | None) -> list[Author]:
    if parent is None:
        return []
    out = []
    for a in parent.findall("Author"):
        if a.get("ValidYN") == "N":
            continue
        last, fore = _text(a.find("LastName")), _text(a.find("ForeName"))
        name = f"{fore} {last}".strip() if last else _text(a.find("CollectiveName"))
        if not name:
            continue
        affs = [_text(x) for x in a.findall("AffiliationInfo/Affiliation")] or \
            [_text(a.find("Affiliation"))]
        orcid = next((_text(i) for i in a.findall("Identifier") if i.get("Source") == "ORCID"),
                     None)
        if orcid:
            orcid = orcid.rsplit("/", 1)[-1]
        out.append(Author(name=name, affiliation="; ".join(x for x in affs if x) or None,
                          orcid=orcid or None))
    return out


def _date(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    year = _text(el.find("Year"))
    if year:
        return partial_date(year, _text(el.find("Month")) or None, _text(el.find("Day")) or None)
    medline = _text(el.find("MedlineDate"))  # "2007 Jan-Feb", "1998 Dec-1999 Jan"
    if medline[:4].isdigit():
        parts = medline.replace("-", " ").split()
        return partial_date(parts[0], parts[1] if len(parts) > 1 else None)
    return None


def _ids(pubmed_data: ET.Element | None, citation: ET.Element) -> dict[str, str]:
    ids: dict[str, str] = {}
    for aid in (pubmed_data.findall("ArticleIdList/ArticleId")
                if pubmed_data is not None else []):
        kind = (aid.get("IdType") or "").lower()
        if kind and _text(aid) and kind not in ids:
            ids[kind] = _text(aid)
    for eloc in citation.findall("Article/ELocationID"):
        if eloc.get("EIdType") == "doi" and eloc.get("ValidYN", "Y") == "Y" and "doi" not in ids:
            ids["doi"] = _text(eloc)
    return ids


def _updates(citation: ET.Element) -> list[dict[str, str]]:
    out = []
    for cc in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        kind = cc.get("RefType") or ""
        if kind in UPDATE_TYPES:
            item = {"type": kind, "ref": _text(cc.find("RefSource"))}
            pmid = _text(cc.find("PMID"))
            if pmid:
                item["pmid"] = pmid
            out.append(item)
    return out


def _mesh(citation: ET.Element) -> list[str]:
    terms = []
    for mh in citation.findall("MeshHeadingList/MeshHeading"):
        desc = _text(mh.find("DescriptorName"))
        if desc and desc not in terms:
            terms.append(desc)
    return terms


def _grants(parent: ET.Element) -> list[str]:
    out = []
    for g in parent.findall("GrantList/Grant"):
        parts = [_text(g.find(k)) for k in ("GrantID", "Agency", "Country")]
        text = ", ".join(p for p in parts if p)
        if text and text not in out:
            out.append(text)
    return out


def _article(citation: ET.Element | None, pubmed_data: ET.Element | None,
             source: str) -> PaperRecord | None:
    if citation is None:
        return None
    pmid = _text(citation.find("PMID"))
    article = citation.find("Article")
    if not pmid or article is None:
        return None
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    ids = _ids(pubmed_data, citation)
    epub = next((d for d in article.findall("ArticleDate")
                 if d.get("DateType", "Electronic") == "Electronic"), None)
    pub_date = _date(epub) or _date(issue.find("PubDate") if issue is not None else None)
    pages = _text(article.find("Pagination/MedlinePgn")) or None
    keywords = [_text(k) for k in citation.findall("KeywordList/Keyword") if _text(k)]
    return PaperRecord(
        source=source, entry_id=f"pmid:{pmid}", source_kind="pubmed",
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        abstract_sections=_abstract(article), doi=ids.get("doi"), pmid=pmid,
        pmcid=ids.get("pmc"), authors=_authors(article.find("AuthorList")),
        journal=_text(journal.find("Title")) if journal is not None else None,
        journal_abbrev=(_text(journal.find("ISOAbbreviation")) or
                        _text(citation.find("MedlineJournalInfo/MedlineTA"))) or None
        if journal is not None else None,
        volume=_text(issue.find("Volume")) or None if issue is not None else None,
        issue=_text(issue.find("Issue")) or None if issue is not None else None,
        pages=pages[:50] if pages else None, pub_date=pub_date,
        publication_types=[_text(p) for p in
                           article.findall("PublicationTypeList/PublicationType") if _text(p)],
        mesh_terms=_mesh(citation), keywords=keywords,
        coi_statement=_text(citation.find("CoiStatement")) or None,
        grants=_grants(article), url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        language=_text(article.find("Language")) or None,
        updates=_updates(citation),
    )


def _book(item: ET.Element, source: str) -> PaperRecord | None:
    doc = item.find("BookDocument")
    if doc is None:
        return None
    pmid = _text(doc.find("PMID"))
    if not pmid:
        return None
    book = doc.find("Book")
    book_title = _text(book.find("BookTitle")) if book is not None else ""
    title = _text(doc.find("ArticleTitle")) or book_title
    ids = {(a.get("IdType") or "").lower(): _text(a) for a in doc.findall("ArticleIdList/ArticleId")}
    pubmed_data = item.find("PubmedBookData")
    if pubmed_data is not None:
        for a in pubmed_data.findall("ArticleIdList/ArticleId"):
            ids.setdefault((a.get("IdType") or "").lower(), _text(a))
    authors = [a for lst in doc.findall("AuthorList") if lst.get("Type") != "editors"
               for a in _authors(lst)]
    return PaperRecord(
        source=source, entry_id=f"pmid:{pmid}", source_kind="pubmed", title=title,
        abstract_sections=_abstract(doc), doi=ids.get("doi"), pmid=pmid, pmcid=ids.get("pmc"),
        authors=authors, journal=book_title or None,
        pub_date=_date(book.find("PubDate") if book is not None else None),
        publication_types=[_text(p) for p in doc.findall("PublicationType") if _text(p)] or
        ["Book Chapter"],
        keywords=[_text(k) for k in doc.findall("KeywordList/Keyword") if _text(k)],
        grants=_grants(doc), url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        language=_text(doc.find("Language")) or None,
    )
