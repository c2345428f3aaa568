from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsflow.cli import cli
from newsflow.errors import ConfigError
from newsflow.settings import load_settings
from newsflow.store import Store


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_migrate_creates_schema_and_is_idempotent(db_url: str) -> None:
    s = Store(db_url)
    assert s.migrate() == (None, "0001")
    assert s.migrate() == ("0001", "0001")
    s.check_schema()
    with s.read() as c:
        assert c.execute(sa.text("select count(*) from papers")).scalar() == 0
    s.dispose()


def test_builtin_config_loads_with_starter_sources() -> None:
    s = load_settings(load_sources=True)
    kinds = {src.kind for src in s.sources}
    assert len(s.sources) >= 15
    assert kinds == {"feed", "pubmed", "europepmc"}


def test_unknown_key_names_file_key_and_allowed(tmp_path: Path) -> None:
    cfg = write(tmp_path / "n.toml", '[http]\ntimeout = 3\ntimout = 4\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, load_sources=False)
    msg = str(e.value)
    assert str(cfg) in msg and "http.timout" in msg and "http.timeout" in msg


def test_bad_source_value_names_key_and_allowed(tmp_path: Path) -> None:
    src = write(tmp_path / "sources.toml",
                '[[source]]\nname="x"\nkind="feed"\nurl="http://a/"\nevery="soon"\n')
    cfg = write(tmp_path / "n.toml", f'sources_file = "{src}"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(cfg)
    assert "every" in str(e.value) and "30m" in str(e.value) and str(src) in str(e.value)


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    cfg = write(tmp_path / "n.toml", '[ncbi]\napi_key = "abc"\n')
    with pytest.raises(ConfigError, match="NEWSFLOW_NCBI__API_KEY"):
        load_settings(cfg, load_sources=False)


def test_env_overrides_file_and_secret_is_not_shown(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "n.toml", '[http]\ntimeout = 3\n')
    monkeypatch.setenv("NEWSFLOW_HTTP__TIMEOUT", "7.5")
    monkeypatch.setenv("NEWSFLOW_NCBI__API_KEY", "sekrit-key")
    res = CliRunner().invoke(cli, ["--config", str(cfg), "config", "show"])
    assert res.exit_code == 0, res.output
    assert "http.timeout = 7.5" in res.output
    assert "sekrit-key" not in res.output and "ncbi.api_key = '(set)'" in res.output


def test_invalid_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    cfg = write(tmp_path / "n.toml", f'data_dir = "{tmp_path / "d"}"\nlog_format = "xml"\n')
    res = CliRunner().invoke(cli, ["--config", str(cfg), "init"])
    assert res.exit_code == 2
    assert "log_format" in res.output and "text, json" in res.output
    assert not (tmp_path / "d").exists()


def test_init_creates_sqlite_database(tmp_path: Path) -> None:
    cfg = write(tmp_path / "n.toml", f'data_dir = "{tmp_path / "d"}"\n')
    res = CliRunner().invoke(cli, ["--config", str(cfg), "init"])
    assert res.exit_code == 0, res.output
    assert "Created database" in res.output
    assert (tmp_path / "d" / "newsflow.db").exists()


def test_command_exits_without_final_garbage_collection(tmp_path: Path) -> None:
    """cli.main freezes the GC at exit (app.skip_final_gc): after the last atexit
    handler nothing is left for the interpreter's final collections to walk."""
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 1000))\n"
        "from newsflow.cli import main\n"
        "sys.argv = ['newsflow', '--help']\n"
        "main()\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Usage: newsflow" in out.stdout
    assert out.stdout.strip().endswith("frozen True")
