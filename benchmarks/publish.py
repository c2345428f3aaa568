"""Publishing benchmark: N approved drafts → files + feed, then a no-op re-run and a rebuild.

    /work/venv/bin/python benchmarks/publish.py [--drafts 200]

Runs on a fresh SQLite database in a temporary directory, webhooks off.  Prints one
table row per phase: wall time, time per article, files written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from helpers.publishing import BODY, T0, add_draft, add_paper, make_app  # noqa: E402
from newsflow.publish import publish_due  # noqa: E402
from newsflow.publish.run import rebuild  # noqa: E402
from newsflow.store import Store  # noqa: E402


def files_in(path: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drafts", type=int, default=200)
    n = ap.parse_args().drafts
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        out = Path(tmp) / "site"
        app = make_app(store, out)
        for i in range(n):
            add_draft(store, add_paper(store, doi=f"10.5555/bench.{i}", pmid=str(10_000 + i)),
                      title=f"Study {i}: upadacitinib and eczema on the face", body=BODY * 3)
        rows = []
        t = time.perf_counter()
        r = publish_due(app, now=T0, deliver=False)
        first = time.perf_counter() - t
        assert len(r.published) == n, r.errors
        before = files_in(out)
        rows.append(("first publish", first, len(before)))
        t = time.perf_counter()
        publish_due(app, now=T0 + dt.timedelta(hours=1), deliver=False)
        rows.append(("re-run (nothing due)", time.perf_counter() - t,
                     sum(1 for k, v in files_in(out).items() if before.get(k) != v)))
        t = time.perf_counter()
        changed, _ = rebuild(app)
        rows.append(("rebuild from snapshots", time.perf_counter() - t, changed))
        feed_kb = (out / "feed.xml").stat().st_size / 1024
        store.dispose()
    print(f"drafts: {n}, body {len(BODY * 3)} chars, feed {feed_kb:.0f} KB (50 entries)")
    print(f"{'phase':<24} {'wall s':>8} {'ms/article':>11} {'files changed':>14}")
    for name, secs, changed_files in rows:
        print(f"{name:<24} {secs:>8.2f} {secs * 1000 / n:>11.1f} {changed_files:>14}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
