"""Golden drafts: recorded input (a corpus paper + hand-labelled facts) → expected markdown.

Regenerate with `PYTHONPATH=src python tests/golden_regen.py` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_regen import GOLDEN, golden_drafter, render_golden
from newsflow.draft.family import FAMILIES

FOLDERS = sorted(p for p in GOLDEN.iterdir() if (p / "input.json").exists())


def test_there_is_a_golden_for_every_family() -> None:
    assert sorted(p.name for p in FOLDERS) == sorted(FAMILIES)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_golden_draft_matches(folder: Path) -> None:
    expected = (folder / "expected.md").read_text()
    assert render_golden(golden_drafter(), folder) == expected


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_golden_invariants(folder: Path) -> None:
    text = (folder / "expected.md").read_text()
    # Every golden passes the checks that no editor can fix later by filling a slot.
    for name in ("number_provenance", "evidence_wording", "limitations", "harms",
                 "absolute_numbers", "claim_guard", "hype_words", "acronyms_explained"):
        assert f"<!-- check {name}: pass -->" in text, name
    assert "None" not in text.split("## Where this comes from")[0]
    assert "talk to your dermatologist" in text
    assert "This story is based on the published paper" in text
