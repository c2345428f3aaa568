"""Checks re-run on an editor's text: filled slots pass, invented numbers still fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

from golden_regen import GOLDEN
from newsflow.draft import Drafter
from newsflow.draft.recheck import recheck
from newsflow.draft.records import paper_from_json

DATA = Path(__file__).resolve().parent / "data"


def test_recheck_after_an_edit() -> None:
    drafter = Drafter(config_files={"drugs.toml": GOLDEN / "drugs.toml"})
    paper = paper_from_json(json.loads((DATA / "yan2023_case_series.json").read_text()))
    d = drafter.draft(paper)
    filled = re.sub(r"\[EDITOR \((\w+)\): [^\]]*\]", "The editor filled this in.",
                    d.body_markdown)
    checks, scores = recheck(drafter, paper, d.title, filled, d.provenance)
    got = {c.name: c.passed for c in checks}
    assert got["editor_slots"] and got["number_provenance"] and got["limitations"]
    assert scores["fkgl"] > 0
    # "half" stays mapped through the stored derivation log.
    assert "(half)" in filled
    invented = filled.replace("The editor filled this in.", "It costs 900 dollars.", 1)
    checks, _ = recheck(drafter, paper, d.title, invented, d.provenance)
    numbers = next(c for c in checks if c.name == "number_provenance")
    assert not numbers.passed and "'900'" in numbers.detail
    cut = filled.replace("no comparison group", "a comparison group")
    checks, _ = recheck(drafter, paper, d.title, cut, d.provenance)
    assert not next(c for c in checks if c.name == "limitations").passed
