"""The config reference in docs/operations.md, generated from ``settings.SETTINGS``.

Regenerate after adding or changing a setting:

    python -m newsflow.settings_reference docs/operations.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from newsflow.settings import ENV_PREFIX, SETTINGS, Setting

BEGIN = "<!-- BEGIN CONFIG REFERENCE (generated: python -m newsflow.settings_reference docs/operations.md) -->"
END = "<!-- END CONFIG REFERENCE -->"


def env_name(s: Setting) -> str:
    return ENV_PREFIX + s.name.upper().replace(".", "__")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(s: Setting) -> str:
    if s.secret:
        return "(environment only)"
    if s.default == "":
        return '`""`'
    return f"`{str(s.default).lower() if isinstance(s.default, bool) else s.default}`"


def markdown() -> str:
    out = [BEGIN]
    section = None
    for s in SETTINGS:
        sec = s.name.split(".")[0] if "." in s.name else "(top level)"
        if sec != section:
            section = sec
            out += ["", f"### `{sec}`" if sec != "(top level)" else "### Top level", "",
                    "| setting | type | default | environment | meaning |",
                    "|---|---|---|---|---|"]
        kind = s.type.__name__
        if s.choices:
            kind += " (" + ", ".join(map(str, s.choices)) + ")"
        elif s.minimum is not None:
            kind += f" ≥ {s.minimum:g}"
        out.append(f"| `{s.name}` | {_cell(kind)} | {_cell(_default(s))} | `{env_name(s)}` | "
                   f"{_cell(s.help)} |")
    out += ["", END]
    return "\n".join(out)


def rewrite(path: Path) -> bool:
    """Replace the generated block in ``path``; True if the file changed."""
    text = path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + markdown() + text[end:]
    if new != text:
        path.write_text(new)
    return new != text


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/operations.md")
    changed = rewrite(target)
    sys.stdout.write(f"{target}: {'updated' if changed else 'already current'}\n")
