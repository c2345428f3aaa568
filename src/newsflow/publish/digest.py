"""The editor digest e-mail: what waits for review, what is assigned to whom, which
sources are failing or quiet.  Sent at most once per period per recipient."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import TYPE_CHECKING

import jinja2

from newsflow.clock import utcnow
from newsflow.publish.render import site_loader
from newsflow.store import digests as db

if TYPE_CHECKING:
    from newsflow.app import App

log = logging.getLogger(__name__)


@dataclass
class DigestReport:
    period_key: str
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    disabled: bool = False


def period_key(now: dt.datetime, every_hours: int) -> str:
    """The period ``now`` falls in: windows of ``every_hours`` counted from the Unix epoch."""
    span = every_hours * 3600
    start = int(now.replace(tzinfo=dt.UTC).timestamp()) // span * span
    begin = dt.datetime.fromtimestamp(start, dt.UTC)
    return f"{begin:%Y-%m-%dT%H:%M}Z/{every_hours}h"


@lru_cache(maxsize=4)
def _env(site_dir: str) -> jinja2.Environment:
    # Plain text mail: nothing is interpreted as markup, so no escaping is needed.
    return jinja2.Environment(loader=site_loader(site_dir), autoescape=False,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def build_message(app: App, r: db.Recipient, lists: dict[str, list[db.DraftLine]],
                  problems: list[db.SourceLine], key: str, now: dt.datetime) -> EmailMessage:
    parts = [f"{len(lists['waiting'])} waiting for review"]
    if lists["assigned"]:
        parts.append(f"{len(lists['assigned'])} assigned to you")
    if lists["changes_requested"]:
        parts.append(f"{len(lists['changes_requested'])} with changes requested")
    if problems:
        parts.append(f"{len(problems)} source(s) need attention")
    body = _env(str(app.settings["templates_dir"])).get_template("email/digest.txt").render(
        user=r, lists=lists, problems=problems, period=key, now=now,
        quiet_hours=app.settings["digest.quiet_after_hours"])
    msg = EmailMessage()
    msg["Subject"] = "newsflow digest: " + ", ".join(parts)
    msg["From"] = app.settings["smtp.sender"]
    msg["To"] = r.email
    msg["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    msg["Message-ID"] = make_msgid(domain="newsflow.invalid")
    msg["X-Newsflow-Digest-Period"] = key
    msg.set_content(body)
    return msg


def _send(app: App, msg: EmailMessage) -> None:
    s = app.settings
    with smtplib.SMTP(s["smtp.host"], int(s["smtp.port"]), timeout=30) as smtp:
        if s["smtp.starttls"]:
            smtp.starttls()
        if s["smtp.username"]:
            smtp.login(s["smtp.username"], s["smtp.password"])
        smtp.send_message(msg)


def send_digest(app: App, now: dt.datetime | None = None) -> DigestReport:
    """Send this period's digest to every editor who has not had it; safe to call often."""
    s = app.settings
    now = now or utcnow()
    key = period_key(now, int(s["digest.every_hours"]))
    report = DigestReport(period_key=key)
    if not s["smtp.host"]:
        report.disabled = True
        return report
    roles = [x.strip() for x in str(s["digest.roles"]).split(",") if x.strip()]
    configured = {src.name for src in s.sources if src.enabled} if s.sources else None
    problems = db.source_problems(app.store, now,
                                  dt.timedelta(hours=int(s["digest.quiet_after_hours"])),
                                  configured)
    for r in db.recipients(app.store, roles):
        lists = db.draft_lists(app.store, r.username)
        items = sum(len(v) for v in lists.values()) + len(problems)
        if items == 0:
            report.empty.append(r.email)
            continue
        if not db.claim(app.store, r.email, key, now):
            report.already_sent.append(r.email)
            continue
        try:
            _send(app, build_message(app, r, lists, problems, key, now))
        except (OSError, smtplib.SMTPException) as e:
            err = f"{type(e).__name__}: {e}"[:500]
            db.finish(app.store, r.email, key, now=now, items=items, error=err)
            report.failed.append(r.email)
            log.error("digest to %s failed: %s", r.email, err)
            continue
        db.finish(app.store, r.email, key, now=now, items=items, error=None)
        report.sent.append(r.email)
    return report
