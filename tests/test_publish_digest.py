"""The editor digest, received by a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from helpers.publishing import T0, add_draft, add_paper, add_source, add_user, make_app
from newsflow.publish import send_digest
from newsflow.publish.digest import period_key
from newsflow.store import Store
from newsflow.store.digests import history


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    # Controller.start() connects to its own port to check it is up, so port 0 cannot be used.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


def seed(store: Store) -> dict[str, int]:
    add_user(store, "erin", email="erin@example.org")
    add_user(store, "sam", role="admin", email="sam@example.org")
    add_user(store, "vic", role="viewer", email="vic@example.org")
    add_user(store, "old", email="old@example.org", disabled=True)
    add_user(store, "noaddr")
    ids = {}
    for i, (state, assignee) in enumerate([("new", None), ("in_review", "erin"),
                                           ("changes_requested", "sam"), ("approved", "erin"),
                                           ("published", "erin"), ("rejected", None)]):
        pid = add_paper(store, doi=f"10.1/{i}", pmid=str(i))
        ids[state] = add_draft(store, pid, state=state, assignee=assignee,
                               title=f"Draft in {state}\nsecond line")
    add_source(store, "Broken Journal", consecutive_failures=3, last_status="failed",
               last_error="HTTP 503 from https://broken.example/feed")
    add_source(store, "Sleepy Journal", last_status="ok",
               last_new_item_at=T0 - dt.timedelta(days=10))
    add_source(store, "Healthy Journal", last_status="ok",
               last_new_item_at=T0 - dt.timedelta(hours=1))
    return ids


def test_digest_content_and_once_per_period(store: Store, tmp_path: Path,
                                            smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ids = seed(store)
    app = make_app(store, tmp_path, **{"smtp.host": "127.0.0.1", "smtp.port": port,
                                       "smtp.sender": "news@example.org"})
    r = send_digest(app, now=T0)
    assert sorted(r.sent) == ["erin@example.org", "sam@example.org"]
    assert r.period_key == "2026-11-20T00:00Z/24h"
    got = {rcpt[0]: msg for rcpt, msg in inbox.messages}
    assert set(got) == {"erin@example.org", "sam@example.org"}
    erin = got["erin@example.org"]
    assert erin["From"] == "news@example.org" and erin["To"] == "erin@example.org"
    assert erin["Subject"] == ("newsflow digest: 2 waiting for review, 2 assigned to you, "
                               "1 with changes requested, 2 source(s) need attention")
    text = erin.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    sections = {}
    for block in text.split("\n\n"):
        head, _, rest = block.partition(":\n")
        sections[head.strip().split(" (")[0]] = rest
    assert f"#{ids['new']} Draft in new second line [new]" in sections["Waiting for review"]
    assert f"#{ids['in_review']} Draft in in_review second line [in_review, assigned to erin]" \
        in sections["Waiting for review"]
    assert "changes_requested" not in sections["Waiting for review"]
    assigned = sections["Assigned to you"]
    assert f"#{ids['in_review']} " in assigned and f"#{ids['approved']} " in assigned
    assert f"#{ids['published']} " not in assigned and "#" + str(ids["new"]) + " " not in assigned
    assert f"#{ids['changes_requested']} Draft in changes_requested" in \
        sections["Changes requested"]
    problems = sections["Sources that need attention"]
    assert "Broken Journal: failing (3 failure(s) in a row: HTTP 503" in problems
    assert "Sleepy Journal: quiet (nothing new since 2026-11-10 09:30 UTC)" in problems
    assert "Healthy Journal" not in problems
    assert f"#{ids['changes_requested']} " in got["sam@example.org"].get_content() \
        .replace("\r\n", "\n").split("Assigned to you")[1].split("Changes requested")[0]

    # Same period, later: nothing new is sent, however often the daemon asks.
    r2 = send_digest(app, now=T0 + dt.timedelta(hours=10))
    assert r2.sent == [] and sorted(r2.already_sent) == ["erin@example.org", "sam@example.org"]
    assert len(inbox.messages) == 2
    # A fresh app on the same database (a restart) still remembers.
    assert send_digest(make_app(store, tmp_path, **{"smtp.host": "127.0.0.1",
                                                   "smtp.port": port}),
                       now=T0 + dt.timedelta(hours=11)).sent == []
    # Next period: sent again.
    r3 = send_digest(app, now=T0 + dt.timedelta(hours=24))
    assert len(r3.sent) == 2 and len(inbox.messages) == 4
    assert [h["status"] for h in history(store)] == ["sent"] * 4


def test_digest_retries_after_smtp_failure(store: Store, tmp_path: Path,
                                           smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    add_user(store, "erin", email="erin@example.org")
    add_draft(store, add_paper(store), state="new")
    down = make_app(store, tmp_path, **{"smtp.host": "127.0.0.1", "smtp.port": 9})
    r = send_digest(down, now=T0)
    assert r.failed == ["erin@example.org"]
    h = history(store)[0]
    assert h["status"] == "failed" and "Connection refused" in h["error"]
    up = make_app(store, tmp_path, **{"smtp.host": "127.0.0.1", "smtp.port": port})
    assert send_digest(up, now=T0 + dt.timedelta(minutes=15)).sent == ["erin@example.org"]
    assert len(inbox.messages) == 1 and history(store)[0]["status"] == "sent"


def test_nothing_to_report_and_disabled(store: Store, tmp_path: Path,
                                        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    add_user(store, "erin", email="erin@example.org")
    app = make_app(store, tmp_path, **{"smtp.host": "127.0.0.1", "smtp.port": port})
    r = send_digest(app, now=T0)
    assert r.empty == ["erin@example.org"] and inbox.messages == []
    assert send_digest(make_app(store, tmp_path), now=T0).disabled


def test_period_key_boundaries() -> None:
    assert period_key(dt.datetime(2026, 11, 20, 23, 59), 24) == "2026-11-20T00:00Z/24h"
    assert period_key(dt.datetime(2026, 11, 21, 0, 0), 24) == "2026-11-21T00:00Z/24h"
    assert period_key(dt.datetime(2026, 11, 21, 7, 0), 6) == "2026-11-21T06:00Z/6h"
