"""Write a throwaway newsflow config (settings + sources) for a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def write_config(tmp: Path, db_url: str, sources: list[dict[str, Any]],
                 **settings: Any) -> Path:
    """Settings in sections ("http.retries": 0 → [http] retries = 0) and a sources list."""
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "sources.toml"
    src.write_text("".join(
        "[[source]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in s.items()) + "\n"
        for s in sources))
    values: dict[str, Any] = {"database_url": db_url, "sources_file": str(src),
                              "data_dir": str(tmp / "data"), "http.retries": 0,
                              "http.timeout": 5.0, "http.total_timeout": 20.0,
                              "http.backoff_base": 0.0,
                              # Feed links point at real publishers; tests never go online.
                              "enrich.enabled": False}
    values.update(settings)
    top = [f"{k} = {_toml_value(v)}" for k, v in values.items() if "." not in k]
    sections: dict[str, list[str]] = {}
    for k, v in values.items():
        if "." in k:
            sec, key = k.split(".", 1)
            sections.setdefault(sec, []).append(f"{key} = {_toml_value(v)}")
    text = "\n".join(top) + "\n" + "".join(
        f"\n[{sec}]\n" + "\n".join(lines) + "\n" for sec, lines in sections.items())
    cfg = tmp / "newsflow.toml"
    cfg.write_text(text)
    return cfg
