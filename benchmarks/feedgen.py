"""Deterministic journal eTOC feeds (RSS 2.0 and RSS 1.0/RDF) for benchmarks.

Items look like real publisher feeds: a DOI in prism:doi and the link, dc:creator
authors, prism volume/issue/pages, and a structured abstract of about 1-2 KB in
the description.  Same seed, same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import formatdate
from xml.sax.saxutils import escape

CONDITIONS = ["atopic dermatitis", "psoriasis", "hidradenitis suppurativa", "vitiligo",
              "alopecia areata", "chronic spontaneous urticaria", "acne vulgaris", "rosacea",
              "melanoma", "basal cell carcinoma", "cutaneous squamous cell carcinoma",
              "bullous pemphigoid", "prurigo nodularis", "lichen planus", "seborrheic dermatitis"]
TREATMENTS = ["dupilumab", "tralokinumab", "lebrikizumab", "upadacitinib", "abrocitinib",
              "risankizumab", "secukinumab", "bimekizumab", "apremilast", "ruxolitinib cream",
              "tacrolimus ointment", "narrowband UVB", "methotrexate", "isotretinoin",
              "topical corticosteroids", "deucravacitinib", "nemolizumab", "baricitinib"]
DESIGNS = ["a randomized, double-blind, placebo-controlled trial",
           "a multicentre prospective cohort study", "a retrospective registry analysis",
           "a systematic review and meta-analysis", "a cross-sectional survey",
           "an open-label extension study", "a population-based case-control study"]
OUTCOMES = ["EASI-75", "PASI 90", "IGA 0/1", "HiSCR", "F-VASI75", "SALT score of 20 or less",
            "itch NRS improvement of 4 points or more", "DLQI 0/1",
            "recurrence-free survival", "time to first flare"]
FILLER = ["Patients were recruited from tertiary dermatology clinics and followed with "
          "standardised visits",
          "Adverse events were recorded at every visit and coded with MedDRA",
          "Missing data were handled by multiple imputation, and sensitivity analyses using "
          "observed cases gave consistent results",
          "Subgroup analyses by age, sex, baseline severity and prior systemic therapy were "
          "prespecified"]
SURNAMES = ["Smith", "Garcia", "Müller", "Rossi", "Nakamura", "Kowalski", "Jensen", "Dubois",
            "Silva", "Chen", "Okafor", "Novak", "Larsen", "Haddad", "Ivanova", "Thompson",
            "Bergström", "Costa", "Kim", "Patel", "O'Brien", "Nguyen", "Fischer", "Alvarez"]
JOURNAL_WORDS = ["Dermatology", "Skin", "Cutaneous", "Investigative", "Clinical", "Experimental",
                 "Pediatric", "Surgical", "Cosmetic", "Translational", "Research", "Reports"]


@dataclass
class Feed:
    path: str
    journal: str
    fmt: str  # "rss2" or "rss1"
    body: bytes
    entries: int


def _abstract(rng: random.Random) -> str:
    cond, drug = rng.choice(CONDITIONS), rng.choice(TREATMENTS)
    design, outcome = rng.choice(DESIGNS), rng.choice(OUTCOMES)
    n = rng.randint(40, 2400)
    weeks = rng.choice([12, 16, 24, 52])
    a, b = rng.randint(35, 80), rng.randint(5, 34)
    ci_lo, ci_hi = round(rng.uniform(1.1, 2.0), 2), round(rng.uniform(2.1, 4.5), 2)
    filler = ". ".join(rng.sample(FILLER, k=rng.randint(2, len(FILLER)))) + "."
    return (
        f"<p><b>Background</b> {cond.capitalize()} is a chronic inflammatory skin disease with "
        f"a substantial burden on quality of life, and evidence on {drug} in routine care "
        f"remains limited.</p>"
        f"<p><b>Objectives</b> To assess the efficacy and safety of {drug} in adults with "
        f"moderate-to-severe {cond}.</p>"
        f"<p><b>Methods</b> We conducted {design} including {n} patients treated for "
        f"{weeks} weeks. The primary endpoint was {outcome} at week {weeks}. {filler}</p>"
        f"<p><b>Results</b> At week {weeks}, {a}% of patients receiving {drug} achieved "
        f"{outcome} compared with {b}% of controls (odds ratio "
        f"{round((ci_lo + ci_hi) / 2, 2)}; 95% CI {ci_lo}-{ci_hi}; P &lt; 0.001). The most "
        f"common adverse events were nasopharyngitis, headache and injection-site "
        f"reactions; serious adverse events occurred in {rng.randint(1, 6)}% of patients.</p>"
        f"<p><b>Conclusions</b> {drug.capitalize()} was effective and generally well "
        f"tolerated in {cond}; longer follow-up is needed to confirm durability.</p>")


def _item(rng: random.Random, prefix: str, journal: str, k: int, when: float) -> dict[str, str]:
    doi = f"{prefix}/{journal[:3].lower()}.{rng.randint(10000, 99999)}{k:03d}"
    cond, drug = rng.choice(CONDITIONS), rng.choice(TREATMENTS)
    title = rng.choice([
        f"{drug.capitalize()} in moderate-to-severe {cond}: results from {rng.choice(DESIGNS)}",
        f"Long-term safety of {drug} for {cond}",
        f"Risk factors for {cond} in a nationwide cohort",
        f"Real-world effectiveness of {drug} in patients with {cond}"])
    authors = [f"{rng.choice(SURNAMES)} {rng.choice('ABCDEFGHJKLMNPRST')}"
               f"{rng.choice(['', 'J', 'M'])}" for _ in range(rng.randint(2, 9))]
    return {"doi": doi, "title": title, "authors": ", ".join(authors),
            "abstract": _abstract(rng), "date": formatdate(when, usegmt=True),
            "iso": _iso(when), "volume": str(rng.randint(30, 195)),
            "issue": str(rng.randint(1, 12)), "page": str(rng.randint(1, 2400))}


def _iso(ts: float) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def _rss2(journal: str, home: str, items: list[dict[str, str]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
           f"<title>{escape(journal)}: Table of Contents</title>\n<link>{home}</link>\n"
           f"<description>Latest articles from {escape(journal)}</description>\n"
           "<language>en</language>\n"]
    for it in items:
        out.append(
            f"<item>\n<title>{escape(it['title'])}</title>\n"
            f"<link>https://doi.org/{it['doi']}</link>\n"
            f'<guid isPermaLink="false">{it["doi"]}</guid>\n'
            f"<pubDate>{it['date']}</pubDate>\n<dc:creator>{escape(it['authors'])}</dc:creator>\n"
            f"<prism:doi>{it['doi']}</prism:doi>\n"
            f"<prism:publicationName>{escape(journal)}</prism:publicationName>\n"
            f"<prism:volume>{it['volume']}</prism:volume><prism:number>{it['issue']}"
            f"</prism:number><prism:startingPage>{it['page']}</prism:startingPage>\n"
            f"<description><![CDATA[{it['abstract']}]]></description>\n</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _rss1(journal: str, home: str, items: list[dict[str, str]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF '
           'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">\n'
           f'<channel rdf:about="{home}">\n<title>{escape(journal)}</title>\n<link>{home}</link>\n'
           f"<description>{escape(journal)}: latest issue</description>\n"
           f"<prism:publicationName>{escape(journal)}</prism:publicationName>\n"
           "<items><rdf:Seq>\n"]
    out += [f'<rdf:li rdf:resource="https://doi.org/{it["doi"]}"/>\n' for it in items]
    out.append("</rdf:Seq></items>\n</channel>\n")
    for it in items:
        creators = "".join(f"<dc:creator>{escape(a.strip())}</dc:creator>"
                           for a in it["authors"].split(","))
        out.append(
            f'<item rdf:about="https://doi.org/{it["doi"]}">\n'
            f"<title>{escape(it['title'])}</title>\n<link>https://doi.org/{it['doi']}</link>\n"
            f"<description>{escape(it['abstract'])}</description>\n{creators}\n"
            f"<dc:date>{it['iso']}</dc:date>\n<dc:identifier>doi:{it['doi']}</dc:identifier>\n"
            f"<prism:doi>{it['doi']}</prism:doi>\n"
            f"<prism:publicationName>{escape(journal)}</prism:publicationName>\n"
            f"<prism:publicationDate>{it['iso']}</prism:publicationDate>\n"
            f"<prism:volume>{it['volume']}</prism:volume><prism:number>{it['issue']}"
            f"</prism:number><prism:startingPage>{it['page']}</prism:startingPage>\n</item>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out)


def journal_feeds(count: int = 200, *, seed: int = 2026, min_entries: int = 10,
                  max_entries: int = 40) -> list[Feed]:
    """``count`` distinct journal feeds, alternating publisher styles; no DOI repeats."""
    rng = random.Random(seed)
    feeds: list[Feed] = []
    base_time = 1_795_000_000.0
    for i in range(count):
        name = " ".join(rng.sample(JOURNAL_WORDS, 2)) + f" {i:03d}"
        journal = f"Journal of {name}"
        prefix = f"10.{1000 + i}"
        n = rng.randint(min_entries, max_entries)
        items = [_item(rng, prefix, journal, k, base_time - k * 3600 * 7) for k in range(n)]
        fmt = "rss2" if i % 2 == 0 else "rss1"
        home = f"https://publisher{i % 25:02d}.example/journal/{i:03d}"
        text = _rss2(journal, home, items) if fmt == "rss2" else _rss1(journal, home, items)
        feeds.append(Feed(f"/feeds/j{i:03d}.xml", journal, fmt, text.encode(), n))
    return feeds
