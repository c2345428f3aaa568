"""Write tests/data/yan2023_case_series.json (run once; kept for the record).

HAND-WRITTEN TEST ABSTRACT. The corpus has no abstract for Yan et al. 2023, so this text is
written by us from the facts given in shared/notes/quality.md (upadacitinib 15 mg daily,
12 weeks, N=6, ages 12-35, 3 male / 3 female, 6/6 EASI-75, 3/6 EASI-90, no adverse events).
It is not the published abstract.  Usage: python tests/make_yan_record.py
"""

from __future__ import annotations

import json
from pathlib import Path

ABSTRACT = (
    "Face and neck atopic dermatitis (AD) often persists in patients treated with dupilumab. "
    "We report six patients aged 12 to 35 years (three male, three female) with face and neck "
    "AD unresponsive to dupilumab who were treated with upadacitinib 15 mg once daily for "
    "12 weeks. At week 12, 6/6 (100%) patients achieved EASI-75 and 3/6 (50%) achieved "
    "EASI-90. No adverse events were observed during treatment. Upadacitinib may be an option "
    "for face and neck AD unresponsive to dupilumab."
)


def fact(name: str, value: str, normalized: object, sentence_start: str) -> tuple[str, dict]:
    s = ABSTRACT.index(sentence_start)
    e = ABSTRACT.index(". ", s) + 1 if ". " in ABSTRACT[s:] else len(ABSTRACT)
    return name, {"value": value, "normalized": normalized, "confidence": 0.9,
                  "span": [s, e], "sentence": ABSTRACT[s:e]}


def main() -> None:
    facts = dict([
        fact("design", "We report six patients", "case_series", "We report"),
        fact("evidence_level", "case series", 4, "We report"),
        fact("sample_size", "six patients", 6, "We report"),
        fact("age_range", "aged 12 to 35 years", {"min": 12, "max": 35}, "We report"),
        fact("sex", "three male, three female", {"male": 3, "female": 3}, "We report"),
        fact("condition", "face and neck atopic dermatitis", "atopic dermatitis", "We report"),
        fact("intervention", "upadacitinib", "upadacitinib", "We report"),
        fact("dose", "15 mg", "15 mg", "We report"),
        fact("frequency", "once daily", "once daily", "We report"),
        fact("route", "oral", "oral", "We report"),
        fact("duration", "12 weeks", "12 weeks", "We report"),
        fact("results", "6/6 (100%) patients achieved EASI-75 and 3/6 (50%) achieved EASI-90",
             None, "At week 12"),
        fact("harms", "No adverse events were observed", "none_reported", "No adverse"),
        fact("conclusion", "Upadacitinib may be an option", None, "Upadacitinib may"),
    ])
    record = {
        "note": "HAND-WRITTEN TEST ABSTRACT modelled on the facts of Yan et al. 2023 as given "
                "in shared/notes/quality.md; not the published abstract.",
        "paper": {
            "id": 9001,
            "title": "Effectiveness and safety of upadacitinib in patients with face and neck "
                     "atopic dermatitis unresponsive to dupilumab",
            "abstract_sections": [{"label": None, "text": ABSTRACT}],
            "doi": "10.1080/09546634.2023.2242540",
            "authors": [{"name": n} for n in ("Yan Y", "Chen J", "Yu N", "Ke Y", "Gao A",
                                              "Xiong S", "Zhao XF", "Liu Y", "Zhu H")],
            "journal": "Journal of Dermatological Treatment",
            "volume": "34", "issue": "1", "pub_date": "2023",
            "publication_types": ["Letter"],
            "relevance": {"relevant": True, "score": 1.0, "reasons": ["hand-written"],
                          "population": "human"},
        },
        "facts": facts,
    }
    out = Path(__file__).resolve().parent / "data" / "yan2023_case_series.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
