from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from click.testing import CliRunner

from helpers.review_data import cheap_argon2  # noqa: F401
from helpers.webapp import serve
from newsflow.app import App
from newsflow.cli import cli


def test_demo_prints_url_and_a_login_that_opens_the_queue(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    text = "\n".join(out["next_steps"])
    m = re.search(r"open (http://127\.0\.0\.1:\d+/) and log in as demo / (\S+) \(admin\)", text)
    assert m, text
    assert f"--config {out['config']} serve" in text
    waiting = int(re.search(r"\((\d+) drafts waiting\)", text).group(1))  # type: ignore[union-attr]
    app = App.from_config(out["config"])
    with serve(app) as base, httpx.Client(base_url=base) as c:
        page = c.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = c.post("/login", data={"username": "demo", "password": m.group(2),
                                   "csrf_token": token}, follow_redirects=True)
        assert r.status_code == 200 and 'class="state-tab active"' in r.text
        assert len(re.findall(r'<tr class="qrow"', r.text)) == min(waiting, 50)
    app.close()
