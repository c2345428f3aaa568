"""``newsflow sources``: the health of every configured source."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newsflow import clock
from newsflow.cli.common import echo_json, get_app
from newsflow.store import sources as store_sources


def health_rows(app: Any) -> list[dict[str, Any]]:
    """Configured sources joined with their stored health, in config order."""
    stored = {r["name"]: r for r in store_sources.list_health(app.store)}
    rows = []
    for cfg in app.settings.sources:
        h = stored.get(cfg.name, {})
        rows.append({
            "name": cfg.name, "kind": cfg.kind, "enabled": cfg.enabled,
            "every_seconds": cfg.every_seconds,
            "last_status": h.get("last_status"),
            "last_http_status": h.get("last_http_status"),
            "last_attempt_at": clock.iso(h.get("last_attempt_at")),
            "last_success_at": clock.iso(h.get("last_success_at")),
            "last_new_item_at": clock.iso(h.get("last_new_item_at")),
            "consecutive_failures": h.get("consecutive_failures", 0),
            "last_error": h.get("last_error"),
            "feed_problems": h.get("feed_problems"),
            "last_entries": h.get("last_entries"),
            "next_due_at": clock.iso(h.get("next_due_at")),
            "etag": h.get("etag"), "last_modified": h.get("last_modified"),
            "window_end": clock.iso(h.get("window_end")),
        })
    return rows


@click.command("sources")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def sources_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show each source's health: last attempt and success, failures, errors, next due.

    Example: newsflow sources --json
    """
    app = get_app(ctx)
    rows = health_rows(app)
    if as_json:
        echo_json(rows)
        return
    table = Table(title=f"{len(rows)} sources")
    for col in ("source", "kind", "status", "HTTP", "last success", "new item", "fails",
                "next due", "error / problems"):
        table.add_column(col, overflow="fold")
    for r in rows:
        note = r["last_error"] or r["feed_problems"] or ""
        style = "red" if r["consecutive_failures"] else ("dim" if not r["enabled"] else None)
        table.add_row(r["name"], r["kind"], r["last_status"] or "never run",
                      str(r["last_http_status"] or ""), r["last_success_at"] or "",
                      r["last_new_item_at"] or "", str(r["consecutive_failures"]),
                      r["next_due_at"] or "now", Text(note[:160]), style=style)
    Console().print(table)
