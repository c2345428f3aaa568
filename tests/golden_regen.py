"""Regenerate the golden drafts: tests/data/golden/<family>/expected.md from input.json.

    PYTHONPATH=src python tests/golden_regen.py

Review every changed expected.md against its abstract before committing it.
"""

from __future__ import annotations

import json
from pathlib import Path

from newsflow.draft import Drafter
from newsflow.draft.records import paper_from_json

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"


def golden_drafter() -> Drafter:
    # Goldens use their own drug list so they do not move when config/drugs.toml grows.
    return Drafter(config_files={"drugs.toml": GOLDEN / "drugs.toml"})


def render_golden(drafter: Drafter, folder: Path) -> str:
    record = json.loads((folder / "input.json").read_text())
    content = drafter.draft(paper_from_json(record))
    checks = "\n".join(f"<!-- check {c.name}: {'pass' if c.passed else 'FAIL'} -->"
                       for c in content.checks)
    return f"# {content.title}\n\n{content.body_markdown}\n{checks}\n"


def main() -> None:
    drafter = golden_drafter()
    for folder in sorted(p for p in GOLDEN.iterdir() if (p / "input.json").exists()):
        text = render_golden(drafter, folder)
        out = folder / "expected.md"
        old = out.read_text() if out.exists() else ""
        out.write_text(text)
        print(f"{'changed' if old != text else 'same   '} {out}")


if __name__ == "__main__":
    main()
