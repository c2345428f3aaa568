from pathlib import Path

import pytest

from newsflow.errors import ConfigError
from newsflow.extract.drugs import ROUTES, DrugIndex
from newsflow.settings import load_settings

REQUIRED_GENERICS = [
    "dupilumab", "tralokinumab", "lebrikizumab", "nemolizumab", "adalimumab", "secukinumab",
    "ixekizumab", "bimekizumab", "risankizumab", "guselkumab", "tildrakizumab", "ustekinumab",
    "spesolimab", "omalizumab", "upadacitinib", "abrocitinib", "baricitinib", "ritlecitinib",
    "deuruxolitinib", "ruxolitinib", "tofacitinib", "deucravacitinib", "crisaborole",
    "roflumilast", "apremilast", "methotrexate", "ciclosporin", "hydroxychloroquine",
    "spironolactone", "minoxidil", "finasteride", "tapinarof", "ivermectin", "permethrin",
    "imiquimod", "fluorouracil", "tacrolimus", "pimecrolimus", "isotretinoin", "clobetasol",
    "doxycycline", "terbinafine", "aciclovir"]


@pytest.fixture(scope="module")
def drugs() -> DrugIndex:
    return DrugIndex.load(load_settings(load_sources=False))


def test_builtin_list_covers_the_dermatology_drugs(drugs: DrugIndex) -> None:
    assert len(drugs) >= 80
    missing = [g for g in REQUIRED_GENERICS if g not in drugs.drugs]
    assert missing == []
    for d in drugs.drugs.values():
        assert d.drug_class and d.explain and d.routes
        assert set(d.routes) <= set(ROUTES)


def test_brands_and_aliases_map_to_the_generic(drugs: DrugIndex) -> None:
    text = "Rinvoq after Dupixent; MTX plus cyclosporine; Opzelura cream and 5-FU."
    hits = [(text[m.start:m.end], m.payload.generic) for m in drugs.find_all(text)]
    assert hits == [("Rinvoq", "upadacitinib"), ("Dupixent", "dupilumab"),
                    ("MTX", "methotrexate"), ("cyclosporine", "ciclosporin"),
                    ("Opzelura", "ruxolitinib"), ("5-FU", "fluorouracil")]
    assert drugs.get("SKYRIZI").generic == "risankizumab"  # type: ignore[union-attr]
    assert drugs.get("aspirin") is None


def test_case_sensitive_acronyms_do_not_match_words(drugs: DrugIndex) -> None:
    # "Mtx" in running text is not the acronym MTX; "ala" is not ALA (aminolevulinic acid).
    assert drugs.find_all("Mtx and a la carte ala") == []


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "drugs.toml"
    p.write_text(body)
    return p


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    ok = 'generic = "x"\nclass = "c"\nexplain = "e"\n'
    with pytest.raises(ConfigError, match="route"):
        DrugIndex.from_path(_write(tmp_path, f'[[drug]]\n{ok}route = ["nasal"]\n'))
    with pytest.raises(ConfigError, match="unknown key"):
        DrugIndex.from_path(_write(tmp_path, f'[[drug]]\n{ok}route = ["oral"]\ncolour = 1\n'))
    with pytest.raises(ConfigError, match="already used"):
        DrugIndex.from_path(_write(tmp_path, f'[[drug]]\n{ok}route = ["oral"]\nbrands = ["B"]\n'
                                   f'[[drug]]\ngeneric = "y"\nclass = "c"\nexplain = "e"\n'
                                   f'route = ["oral"]\nbrands = ["b"]\n'))
    with pytest.raises(ConfigError, match="not valid TOML"):
        DrugIndex.from_path(_write(tmp_path, "[[drug]\n"))
    with pytest.raises(ConfigError, match="file not found"):
        DrugIndex.from_path(tmp_path / "missing.toml")


def test_a_site_copy_overrides_the_builtin_list(tmp_path: Path) -> None:
    (tmp_path / "newsflow.toml").write_text("")
    (tmp_path / "sources.toml").write_text("")
    _write(tmp_path, '[[drug]]\ngeneric = "zz-mab"\nclass = "c"\nexplain = "e"\nroute = ["oral"]\n')
    settings = load_settings(tmp_path / "newsflow.toml")
    assert list(DrugIndex.load(settings).drugs) == ["zz-mab"]
