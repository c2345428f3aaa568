"""docs/operations.md documents every setting (and nothing that is not one)."""

from __future__ import annotations

import re
from pathlib import Path

from newsflow.settings import SETTINGS
from newsflow.settings_reference import BEGIN, END, env_name, markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
REGEN = "run: python -m newsflow.settings_reference docs/operations.md"


def reference_block() -> str:
    text = DOC.read_text()
    return text[text.index(BEGIN):text.index(END) + len(END)]


def test_every_setting_is_documented() -> None:
    block = reference_block()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", block, re.M))
    names = {s.name for s in SETTINGS}
    assert names - documented == set(), f"settings missing from docs/operations.md; {REGEN}"
    assert documented - names == set(), f"docs/operations.md lists removed settings; {REGEN}"
    for s in SETTINGS:
        assert env_name(s) in block


def test_reference_is_current() -> None:
    assert reference_block() == markdown(), f"the config reference is stale; {REGEN}"


def test_secrets_are_environment_only_in_the_reference() -> None:
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z_.]+)` \|.*$",
                                                         markdown(), re.M)}
    for s in SETTINGS:
        if s.secret:
            assert "(environment only)" in rows[s.name]
