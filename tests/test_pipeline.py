from __future__ import annotations

from pathlib import Path

from helpers.config import write_config
from newsflow import pipeline
from newsflow.app import App
from newsflow.models import PaperRecord
from newsflow.settings import load_settings
from newsflow.store import Store
from newsflow.store import papers as sp


def test_stage_order_is_pinned() -> None:
    assert pipeline.STAGE_ORDER == ("enrich", "classify", "extract", "draft")
    assert [n for n, _ in pipeline.STAGES] == list(pipeline.STAGE_ORDER)


def test_process_pending_runs_stages_in_order_per_paper(store: Store, tmp_path: Path) -> None:
    app = App(load_settings(write_config(tmp_path, store.url, [])), store=store)
    recs = [PaperRecord(source="s", entry_id=str(i), title=f"Paper number {i} about eczema",
                        doi=f"10.1000/{i}") for i in range(3)]
    ids = sp.upsert_records(store, recs).paper_ids
    calls: list[tuple[str, int]] = []

    def stage(name: str, fail_on: int | None = None):  # type: ignore[no-untyped-def]
        def fn(app: App, pid: int) -> None:
            calls.append((name, pid))
            if pid == fail_on:
                raise RuntimeError("boom")
        return fn

    stages = [("enrich", stage("enrich")), ("classify", stage("classify", fail_on=ids[1])),
              ("draft", stage("draft"))]
    report = pipeline.process_pending(app, stages)
    assert (report.processed, report.failed) == (2, 1)
    assert report.errors == [{"paper_id": ids[1], "stage": "classify",
                              "error": "RuntimeError: boom"}]
    assert calls[:3] == [("enrich", ids[0]), ("classify", ids[0]), ("draft", ids[0])]
    assert ("draft", ids[1]) not in calls
    # the failed paper stays pending; the others are done until their content changes
    assert [pid for pid, _ in sp.pending_papers(store)] == [ids[1]]
    calls.clear()
    assert pipeline.process_pending(app, stages[:1]).processed == 1
    assert calls == [("enrich", ids[1])]
