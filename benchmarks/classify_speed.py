"""Relevance classification speed and decisions over every MEDLINE record in the shared corpus.

Run: /work/venv/bin/python benchmarks/classify_speed.py
Prints a table: records, relevant share, rules load time, median and 95th-percentile time
per paper.  (Relevance precision/recall against the labelled set is in
benchmarks/extraction_eval.py.)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.medline import medline_papers  # noqa: E402
from helpers.server import corpus_dir  # noqa: E402
from newsflow.classify import RelevanceRules, classify_paper  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    rules = RelevanceRules.load()
    load_ms = (time.perf_counter() - t0) * 1000
    papers = []
    for f in sorted((corpus_dir() / "pubmed").glob("*.xml")):
        try:
            papers.extend(medline_papers(f).values())
        except Exception:  # esearch/elink files and the like hold no citations
            continue
    times, relevant = [], 0
    for p in papers:
        t = time.perf_counter()
        rel = classify_paper(p, rules)
        times.append((time.perf_counter() - t) * 1000)
        relevant += rel.relevant
    times.sort()
    print("| measure | value |")
    print("|---|---|")
    print(f"| records classified | {len(papers)} |")
    print(f"| judged relevant | {relevant} |")
    print(f"| rules load | {load_ms:.1f} ms |")
    print(f"| per paper, median | {statistics.median(times):.2f} ms |")
    print(f"| per paper, 95th percentile | {times[int(0.95 * (len(times) - 1))]:.2f} ms |")


if __name__ == "__main__":
    main()
