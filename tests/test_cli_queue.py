from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from helpers.review_data import (
    PASSING,
    cheap_argon2,  # noqa: F401
    seed_draft,
)
from newsflow import accounts
from newsflow.cli import cli
from newsflow.store import Store
from newsflow.store import review as qdb


def _cfg(tmp_path: Path, db_url: str) -> list[str]:
    cfg = tmp_path / "n.toml"
    cfg.write_text(f'database_url = "{db_url}"\ndata_dir = "{tmp_path / "d"}"\n')
    return ["--config", str(cfg)]


def test_queue_list_json_and_actions(store: Store, db_url: str, tmp_path: Path) -> None:
    base = _cfg(tmp_path, db_url)
    a = seed_draft(store, doi="10.1/aa", pmid="11", checks=PASSING)
    b = seed_draft(store, doi="10.1/bb", pmid="22")
    accounts.add_user(store, "erin", "password1", "editor")
    run = CliRunner().invoke
    res = run(cli, [*base, "queue", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [(r["id"], r["state"], r["version"], r["doi"], r["pmid"]) for r in rows] == [
        (b.draft_id, "in_review", 1, "10.1/bb", "22"), (a.draft_id, "in_review", 1, "10.1/aa", "11")]
    assert all(r["title"].startswith("Small study") for r in rows)

    res = run(cli, [*base, "queue", "approve", str(a.draft_id), "--version", "1", "--as", "erin"])
    assert res.exit_code == 0, res.output
    assert "approved (version 2)" in res.output
    # Stale version: non-zero, with the reason.
    res = run(cli, [*base, "queue", "reopen", str(a.draft_id), "--version", "1", "--as", "erin"])
    assert res.exit_code != 0 and "changed since you loaded version 1" in res.output
    assert "erin approve" in res.output
    # Forbidden by the table: non-zero, with the reason.
    res = run(cli, [*base, "queue", "approve", str(a.draft_id), "--version", "2", "--as", "erin"])
    assert res.exit_code != 0 and "it is approved" in res.output
    # Blocking check: refused for an editor, in JSON too.
    res = run(cli, [*base, "queue", "approve", str(b.draft_id), "--version", "1", "--as", "erin",
                    "--json"])
    assert res.exit_code != 0
    assert json.loads(res.output)["ok"] is False and "editor_slots" in res.output
    res = run(cli, [*base, "queue", "reject", str(b.draft_id), "--version", "1", "--as", "erin",
                    "--reason", "duplicate of another story"])
    assert res.exit_code == 0, res.output
    rec = qdb.get_draft(store, b.draft_id)
    assert rec is not None and rec.reject_reason == "duplicate of another story"
    res = run(cli, [*base, "queue", "list", "--json", "--state", "rejected"])
    assert [r["id"] for r in json.loads(res.output)] == [b.draft_id]
    res = run(cli, [*base, "queue", "show", str(b.draft_id)])
    assert res.exit_code == 0 and "[FAIL] editor_slots (blocking)" in res.output
    res = run(cli, [*base, "queue", "approve", str(a.draft_id), "--version", "2"])
    assert res.exit_code != 0 and "--as USER" in res.output


def test_users_cli_never_echoes_password(store: Store, db_url: str, tmp_path: Path) -> None:
    base = _cfg(tmp_path, db_url)
    run = CliRunner().invoke
    res = run(cli, [*base, "users", "add", "ada", "--role", "admin", "--password-stdin"],
              input="s3cret-horse\n")
    assert res.exit_code == 0, res.output
    assert "s3cret-horse" not in res.output
    res = run(cli, [*base, "users", "add", "vic", "--role", "viewer"],
              input="viewer-pass\nviewer-pass\n")
    assert res.exit_code == 0 and "viewer-pass" not in res.output
    res = run(cli, [*base, "users", "list", "--json"])
    got = {u["username"]: (u["role"], u["disabled"]) for u in json.loads(res.output)}
    assert got == {"ada": ("admin", False), "vic": ("viewer", False)}
    assert run(cli, [*base, "users", "disable", "vic"]).exit_code == 0
    res = run(cli, [*base, "users", "set-password", "ada", "--password-stdin"], input="x\n")
    assert res.exit_code != 0 and "8 characters" in res.output
    res = run(cli, [*base, "users", "set-password", "ada", "--password-stdin"],
              input="new-horse-pw\n")
    assert res.exit_code == 0
    u = accounts.authenticate(store, "ada", "new-horse-pw", "1.2.3.4", max_attempts=5,
                              window_s=60)
    assert u.role == "admin"
    res = run(cli, [*base, "users", "list"])
    assert "vic" in res.output and "disabled" in res.output
