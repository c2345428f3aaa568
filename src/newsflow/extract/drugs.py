"""The drug list (config/drugs.toml) and brand → generic lookup over free text.

Matching goes through the shared ``TermIndex`` so drafting's glossary and
extraction agree on what counts as a mention.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from newsflow.errors import ConfigError
from newsflow.settings import Settings
from newsflow.terms import TermIndex, TermMatch

ROUTES = ("oral", "topical", "subcutaneous", "intravenous", "intramuscular", "intralesional",
          "intradermal", "subcutaneous implant")
REQUIRED = ("generic", "class", "route", "explain")
KNOWN_KEYS = (*REQUIRED, "brands", "aliases")


@dataclass(frozen=True)
class Drug:
    generic: str
    drug_class: str
    explain: str
    routes: tuple[str, ...]
    brands: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.generic, *self.aliases, *self.brands)


class DrugIndex:
    def __init__(self, drugs: list[Drug]) -> None:
        self.drugs: dict[str, Drug] = {d.generic: d for d in drugs}
        self._terms: TermIndex[Drug] = TermIndex((n, d) for d in drugs for n in d.names)
        self._by_name = {n.lower(): d for d in drugs for n in d.names}

    @classmethod
    def load(cls, settings: Settings) -> DrugIndex:
        return cls.from_path(settings.config_file("drugs.toml"))

    @classmethod
    def from_path(cls, path: Path) -> DrugIndex:
        return cls(_parse(read_toml(path), str(path)))

    def __len__(self) -> int:
        return len(self.drugs)

    def get(self, name: str) -> Drug | None:
        """The drug a generic name, brand or alias stands for (any case)."""
        return self._by_name.get(" ".join(name.split()).lower())

    def find_all(self, text: str) -> list[TermMatch[Drug]]:
        return self._terms.find_all(text)


def read_toml(path: Path) -> dict[str, object]:
    """A data file from config/, or a ConfigError that names it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML: {e}", path=str(path)) from None
    except OSError as e:
        raise ConfigError(f"cannot be read: {e.strerror}", path=str(path)) from None


def _strings(entry: dict[str, object], key: str, where: str, label: str) -> tuple[str, ...]:
    raw = entry.get(key, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise ConfigError("must be a list of non-empty strings", path=where, key=f"{label}.{key}")
    return tuple(x.strip() for x in raw)


def _parse(data: dict[str, object], where: str) -> list[Drug]:
    tables = data.get("drug")
    if not isinstance(tables, list) or not tables:
        raise ConfigError("needs [[drug]] tables", path=where, key="drug")
    out: list[Drug] = []
    seen: dict[str, str] = {}
    for i, t in enumerate(tables):
        label = f"drug[{i}]"
        if not isinstance(t, dict):
            raise ConfigError("must be a table", path=where, key=label)
        for k in t:
            if k not in KNOWN_KEYS:
                raise ConfigError("unknown key", path=where, key=f"{label}.{k}",
                                  allowed=", ".join(KNOWN_KEYS))
        for k in REQUIRED:
            if k not in t:
                raise ConfigError("is required", path=where, key=f"{label}.{k}")
        for k in ("generic", "class", "explain"):
            if not isinstance(t[k], str) or not t[k].strip():
                raise ConfigError("must be a non-empty string", path=where, key=f"{label}.{k}")
        label = f"drug '{t['generic']}'"
        routes = _strings(t, "route", where, label)
        bad = [r for r in routes if r not in ROUTES]
        if bad or not routes:
            raise ConfigError(f"{bad[0] if bad else 'nothing'!r} is not a route", path=where,
                              key=f"{label}.route", allowed=", ".join(ROUTES))
        drug = Drug(generic=t["generic"].strip().lower(), drug_class=t["class"].strip(),
                    explain=t["explain"].strip(), routes=routes,
                    brands=_strings(t, "brands", where, label),
                    aliases=_strings(t, "aliases", where, label))
        for name in drug.names:
            other = seen.get(name.lower())
            if other is not None and other != drug.generic:
                raise ConfigError(f"name '{name}' is already used by '{other}'", path=where,
                                  key=label)
            seen[name.lower()] = drug.generic
        out.append(drug)
    return out
