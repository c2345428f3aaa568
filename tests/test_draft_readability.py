from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from newsflow.draft.readability import prose, score_text

SRC = Path(__file__).resolve().parent.parent / "src"


def test_scores_use_textstat_formulas() -> None:
    easy = score_text("The cat sat on the mat. It was warm. We were glad.")
    hard = score_text("Pharmacokinetic heterogeneity substantially complicated interpretation "
                      "of immunomodulatory therapeutic responses across multicentre cohorts.")
    assert easy["fkgl"] < 3 < 12 < hard["fkgl"]
    assert easy["mean_sentence_words"] == 12 / 3
    assert hard["long_word_share"] > 0.5


def test_prose_drops_headings_editor_notes_and_the_source_section() -> None:
    body = ("Lede here.\n\n- A bullet without a stop\n\n## What did it find?\n\nIt helped.\n\n"
            "[EDITOR (cost): Add the cost.\n\n## Where this comes from\n\nYan, Y. (2023).\n")
    assert prose(body) == "Lede here.\nA bullet without a stop.\nIt helped."


def test_readability_works_with_the_network_blocked() -> None:
    code = (
        "import socket\n"
        "def no_net(*a, **k):\n"
        "    raise OSError('network blocked in test')\n"
        "socket.socket = no_net\n"
        "socket.create_connection = no_net\n"
        "socket.getaddrinfo = no_net\n"
        f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
        "from newsflow.draft.readability import score_text\n"
        "print(score_text('Eczema is an itchy skin condition. Many people have it.')['fkgl'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) < 8
